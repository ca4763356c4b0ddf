"""A stand-in for boto3 in the behaviour tests: records every client, resource and session built."""

BUILT: list = []


class _Events:
    """`client.meta.events`: the hooks registered on one client, each run before every call it makes."""

    def __init__(self):
        self.hooks = []

    def register(self, event_name, handler):
        self.hooks.append(handler)

    register_first = register_last = register


class _Meta:
    def __init__(self):
        self.events = _Events()


class _Remote:
    def __init__(self, kind, name=None, **options):
        self.kind, self.name, self.options = kind, name, options
        self.closed = False
        self.meta = _Meta()
        BUILT.append(kind)

    def __getattr__(self, operation):
        def call(**arguments):
            if self.closed:
                raise RuntimeError(f"{self.name} client used after it was closed")
            for hook in self.meta.events.hooks:
                hook(params=arguments)
            ran = {"hooks_run": len(self.meta.events.hooks)} if self.meta.events.hooks else {}
            return {"operation": operation, "service": self.name, **{k: str(v) for k, v in arguments.items()}, **ran}
        return call

    # botocore clients are context managers that close their connections at the end of the block.
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.closed = True

    def download_file(self, Bucket, Key, Filename):  # noqa: N803 - boto3's spelling
        """Writes what the object would hold: its bucket and key, so a test sees which one it got."""
        with open(Filename, "w") as stream:
            stream.write(f"{Bucket}/{Key}\n")

    def Table(self, name):  # noqa: N802 - boto3's spelling
        return _Table(name)


class _Table:
    def __init__(self, name):
        self.name = name

    def put_item(self, Item):  # noqa: N803
        return {"table": self.name, "item": Item}


def client(name, **options):
    return _Remote("client", name, **options)


def resource(name, **options):
    return _Remote("resource", name, **options)


class Session:
    def __init__(self, **options):
        self.options = options
        BUILT.append("session")

    def client(self, name, **options):
        return _Remote("client", name, **options)

    def resource(self, name, **options):
        return _Remote("resource", name, **options)
