"""A stand-in for pymysql in the behaviour tests: records every connection opened."""

BUILT: list = []


class Connection:
    def __init__(self, **options):
        self.options = options
        self.open = True
        BUILT.append("connection")

    def close(self):
        self.open = False

    def query(self, sql):
        return {"sql": sql, "host": self.options.get("host")}


def connect(**options):
    return Connection(**options)
