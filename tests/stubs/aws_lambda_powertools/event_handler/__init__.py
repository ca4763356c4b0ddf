import re


class APIGatewayRestResolver:
    """Routes by method and path; `<name>` segments become keyword arguments, as Powertools does."""

    def __init__(self):
        self.routes = []

    def _register(self, method, rule):
        pattern = re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule) + "$")

        def register(function):
            self.routes.append((method, pattern, function))
            return function
        return register

    def get(self, rule):
        return self._register("GET", rule)

    def post(self, rule):
        return self._register("POST", rule)

    def resolve(self, event, context):
        for method, pattern, function in self.routes:
            match = pattern.match(event["path"])
            if method == event["httpMethod"] and match:
                return function(**match.groupdict())
        return {"statusCode": 404}
