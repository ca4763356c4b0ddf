"""What `lambda-fix probe` runs in the project's own interpreter: import the handler's module once, as
one execution environment does, and invoke it with each event in turn.

    python path/to/probe_child.py ROOT MODULE FUNCTION EVENTS_JSON OUTPUT NUMBER:INDEX...

Run by its path, it imports nothing of lambda-fix, and ROOT replaces its own directory at the head of
`sys.path`, so the user's code imports as it would in Lambda. NUMBER is the invocation's number (its
request id), INDEX the event's. Each
result is serialised right after its call returns, as the Lambda runtime does, so a result that a
later invocation mutates shows what the caller received. OUTPUT gets one JSON document: either
{"import_error": "..."} or {"invocations": [{"event": i, "result": ..., "error": ..., "ms": ...}]}.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback


class LambdaContext:
    """The attributes of the runtime's context object, the same for every invocation but the request id."""

    function_name = "probe-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe-function"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/probe-function"
    log_stream_name = "2026/01/01/[$LATEST]probe"
    identity = None
    client_context = None

    def __init__(self, number: int, timeout_ms: int = 30_000) -> None:
        # The same id for the same invocation warm and cold, so a result that holds it compares equal.
        self.aws_request_id = f"00000000-0000-4000-8000-{number:012d}"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str]) -> int:
    root, module_name, function_name, events_path, output, *invocations_wanted = argv
    sys.path[0] = root  # not lambda-fix's package directory, whose modules would shadow the project's
    with open(events_path, encoding="utf-8") as stream:
        events = json.load(stream)
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, function_name)
    except BaseException:  # noqa: BLE001 - whatever stops the import is the report
        _write(output, {"import_error": traceback.format_exc(limit=-3).strip()})
        return 0
    invocations = []
    for wanted in invocations_wanted:
        number, index = (int(part) for part in wanted.split(":"))
        started = time.perf_counter()
        record: dict[str, object] = {"number": number, "event": index}
        try:
            result = handler(events[index], LambdaContext(number))
            record["result"] = json.loads(json.dumps(result, sort_keys=True, default=repr))
        except Exception as exc:  # noqa: BLE001 - an invocation that raises is a result too
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["ms"] = round((time.perf_counter() - started) * 1000, 3)
        invocations.append(record)
    _write(output, {"invocations": invocations})
    return 0


def _write(path: str, document: dict[str, object]) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
