"""How the probe compares a warm outcome with its cold one.

An outcome is `{"result": ...}` or `{"error": "Type: message"}`, as the probe's interpreter serialised
it. A string that holds JSON (an API Gateway response's `body`) is compared, and shown, decoded. Some values differ
on every run whatever the state: a timestamp, a `uuid4()`, the time left. Those are found by running
the invocation cold a second time: what differs between two cold runs is not compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

ValuePath = tuple[str | int, ...]  # dict keys and list indexes, from the outcome down

DECODED = " (decoded JSON)"  # appended to the key of a string decoded
NOT_COMPARED = "<not compared: differs from one cold run to the next>"
_JSON_TEXT = re.compile(r"\s*[\[{]")


def decoded(value: Any) -> Any:
    """The value with each dict's string that holds a JSON object or array decoded, under its key with
    DECODED appended: an API Gateway response's `body`, a field that carries `json.dumps(...)`."""
    if isinstance(value, list):
        return [decoded(v) for v in value]
    if not isinstance(value, dict):
        return value
    found = {}
    for key, inner in value.items():
        if isinstance(inner, str) and _JSON_TEXT.match(inner):
            try:
                parsed = json.loads(inner)
            except json.JSONDecodeError:
                pass
            else:
                if isinstance(parsed, (dict, list)):
                    found[f"{key}{DECODED}"] = decoded(parsed)
                    continue
        found[key] = decoded(inner)
    return found


def differing_paths(first: Any, second: Any, at: ValuePath = ()) -> list[ValuePath]:
    """Where two decoded outcomes differ: the innermost dict key or list item that does, or the whole
    list when their lengths differ."""
    if first == second:
        return []
    if isinstance(first, dict) and isinstance(second, dict):
        found: list[ValuePath] = []
        for key in sorted(set(first) | set(second), key=str):
            if key not in first or key not in second:
                found.append((*at, key))
            else:
                found += differing_paths(first[key], second[key], (*at, key))
        return found
    if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        return [p for index, (a, b) in enumerate(zip(first, second)) for p in differing_paths(a, b, (*at, index))]
    return [at]


def masked(outcome: Any, paths: Sequence[ValuePath]) -> Any:
    """The decoded outcome with the value at each path replaced by NOT_COMPARED."""
    for path in paths:
        outcome = _replaced(outcome, path)
    return outcome


def _replaced(value: Any, path: ValuePath) -> Any:
    if not path:
        return NOT_COMPARED
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _replaced(value[head], rest)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        return [_replaced(v, rest) if i == head else v for i, v in enumerate(value)]
    return value


def spelled(path: ValuePath) -> str:
    """result.body (decoded JSON).items[0].id"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the whole outcome"
