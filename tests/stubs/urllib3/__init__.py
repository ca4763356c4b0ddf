"""A stand-in for urllib3 in the behaviour tests: records every pool built."""
from .util import Retry, Timeout  # noqa: F401 - urllib3 exports them here too

BUILT: list = []


class _Response:
    def __init__(self, method, url):
        self.status = 200
        self.data = f'{{"method": "{method}", "url": "{url}"}}'.encode()


class PoolManager:
    def __init__(self, **options):
        self.options = options
        BUILT.append("pool")

    def request(self, method, url, **options):
        return _Response(method, url)
