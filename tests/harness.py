"""Invoke a handler the way the Lambda runtime does, for the warm-versus-cold behaviour tests.

    python harness.py ROOT MODULE HANDLER EVENTS_JSON [INDEX]

Imports MODULE from ROOT once, then calls HANDLER for every event (or only event INDEX) with a fake
context whose request ID is fixed per event index, and prints one JSON list: each result serialised
right after its call returns, as the runtime does, or the exception's type and message.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
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
    root, module_name, handler_name, events_path = sys.argv[1:5]
    only = int(sys.argv[5]) if len(sys.argv) > 5 else None
    sys.path.insert(0, root)
    with open(events_path, encoding="utf-8") as stream:
        events = json.load(stream)["events"]
    handler = getattr(importlib.import_module(module_name), handler_name)
    outputs = []
    for index, event in enumerate(events):
        if only is not None and index != only:
            continue
        try:
            result = handler(event, FakeContext(index))
            if inspect.isawaitable(result):
                result = asyncio.run(result)
            outputs.append(json.loads(json.dumps(result, sort_keys=True, default=str)))
        except Exception as exc:  # noqa: BLE001 - the exception is the result
            outputs.append({"raised": type(exc).__name__, "message": str(exc)})
    print(json.dumps(outputs, sort_keys=True))


if __name__ == "__main__":
    main()
