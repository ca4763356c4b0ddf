class Chalice:
    """Registers routes; the tests call the route function directly, as Chalice would per request."""

    def __init__(self, app_name):
        self.app_name = app_name

    def route(self, path, **options):
        return lambda function: function
