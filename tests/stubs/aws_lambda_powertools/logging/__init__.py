"""A stand-in for Powertools' Logger: keys appended stay until cleared, as the real one's do."""

import functools


class Logger:
    def __init__(self, service=None, **options):
        self.service = service
        self._keys = {}

    def append_keys(self, **keys):
        self._keys.update(keys)

    def remove_keys(self, keys):
        for key in keys:
            self._keys.pop(key, None)

    def clear_state(self):
        self._keys.clear()

    def get_current_keys(self):
        return dict(self._keys)

    def info(self, message, *args, **kwargs):
        return {**self._keys, "message": message}

    def inject_lambda_context(self, lambda_handler=None, *, log_event=False, clear_state=False, **options):
        def decorate(handler):
            @functools.wraps(handler)
            def wrapper(event, context, *args, **kwargs):
                if clear_state:
                    self._keys.clear()
                return handler(event, context, *args, **kwargs)
            return wrapper
        return decorate(lambda_handler) if lambda_handler is not None else decorate
