class Mangum:
    """Calls the app's route for an API Gateway event: its body's keys are the route's arguments."""

    def __init__(self, app, lifespan="auto"):
        self.app = app

    def __call__(self, event, context):
        function = self.app.routes[(event["httpMethod"], event["path"])]
        return {"statusCode": 200, "body": function(**(event.get("body") or {}))}
