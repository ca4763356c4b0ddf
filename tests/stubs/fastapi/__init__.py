class APIRouter:
    """Registers routes by method and path, as FastAPI's router does."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.routes = {}

    def _register(self, method, path):
        def decorate(function):
            self.routes[(method, self.prefix + path)] = function
            return function
        return decorate

    def get(self, path, **options):
        return self._register("GET", path)

    def post(self, path, **options):
        return self._register("POST", path)

    def include_router(self, router, prefix=""):
        for (method, path), function in router.routes.items():
            self.routes[(method, prefix + path)] = function


class FastAPI(APIRouter):
    pass
