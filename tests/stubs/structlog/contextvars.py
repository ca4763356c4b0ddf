"""A stand-in for structlog.contextvars: what is bound stays bound in the context until cleared, as
the real one's does."""

import contextlib
import contextvars

_CONTEXT = contextvars.ContextVar("structlog_context", default=None)


def bind_contextvars(**values):
    _CONTEXT.set({**(_CONTEXT.get() or {}), **values})


def clear_contextvars():
    _CONTEXT.set({})


def get_contextvars():
    return dict(_CONTEXT.get() or {})


@contextlib.contextmanager
def bound_contextvars(**values):
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **values})
    try:
        yield
    finally:
        _CONTEXT.reset(token)
