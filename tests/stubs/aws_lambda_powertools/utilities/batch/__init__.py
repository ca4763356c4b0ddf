class EventType:
    SQS = "SQS"


class BatchProcessor:
    def __init__(self, event_type):
        self.event_type = event_type


class _Record:
    def __init__(self, raw):
        self.message_id = raw["messageId"]
        self.body = raw.get("body")


def process_partial_response(event, record_handler, processor, context=None):
    results = [record_handler(_Record(raw)) for raw in event["Records"]]
    return {"batchItemFailures": [], "results": results}
