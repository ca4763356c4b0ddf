class CfnResource:
    """Calls the function registered for the event's RequestType, as crhelper does (minus the reply)."""

    def __init__(self):
        self.functions = {}

    def create(self, function):
        self.functions["Create"] = function
        return function

    def __call__(self, event, context):
        function = self.functions.get(event["RequestType"])
        return function(event, context) if function else None
