class Retry:
    def __init__(self, total=None, **options):
        self.total, self.options = total, options


class Timeout:
    def __init__(self, **options):
        self.options = options
