"""Invoke a handler the way the Lambda runtime does, for the warm-versus-cold behaviour tests.

    python harness.py ROOT MODULE HANDLER EVENTS_JSON [INDEX] [--built]

Imports MODULE from ROOT once, then calls HANDLER for every event (or only event INDEX) with a fake
context whose request ID is fixed per event index, and prints one JSON list: each result serialised
right after its call returns, as the runtime does, or the exception's type and message. With
--built it prints {"results": [...], "built": [...]}: after each call, how many clients the stub
modules in tests/stubs (which stand in for boto3, pymysql and urllib3) have built so far.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sys


class FakeContext:
    def __init__(self, index: int) -> None:
        self.aws_request_id = f"request-{index}"
        self.function_name = "fixture"
        self.memory_limit_in_mb = 128
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fixture"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> None:
    arguments = [a for a in sys.argv[1:] if a != "--built"]
    root, module_name, handler_name, events_path = arguments[:4]
    only = int(arguments[4]) if len(arguments) > 4 else None
    sys.path[:0] = [root, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs")]
    with open(events_path, encoding="utf-8") as stream:
        spec = json.load(stream)
    events = spec["events"]
    handler = getattr(importlib.import_module(module_name), handler_name)
    outputs, built = [], []
    for index, event in enumerate(events):
        if only is not None and index != only:
            continue
        try:
            if spec.get("call") == "keywords":  # a framework route: the event's keys are its arguments
                result = handler(**event)
            else:
                result = handler(event, FakeContext(index))
            if inspect.isawaitable(result):
                result = asyncio.run(result)
            outputs.append(json.loads(json.dumps(result, sort_keys=True, default=str)))
        except Exception as exc:  # noqa: BLE001 - the exception is the result
            outputs.append({"raised": type(exc).__name__, "message": str(exc)})
        built.append(sum(len(getattr(sys.modules.get(stub), "BUILT", [])) for stub in ("boto3", "pymysql", "urllib3")))
    if "--built" in sys.argv:
        print(json.dumps({"results": outputs, "built": built}, sort_keys=True))
    else:
        print(json.dumps(outputs, sort_keys=True))


if __name__ == "__main__":
    main()
