"""How the probe compares a warm outcome with its cold one.

An outcome is `{"result": ...}` or `{"error": "Type: message"}`, as the probe's interpreter serialised
it. An API Gateway response's `body` that holds JSON is compared (and shown) decoded. Some values differ
on every run whatever the state: a timestamp, a `uuid4()`, the time left. Those are found by running
the invocation cold a second time: what differs between two cold runs is not compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

ValuePath = tuple[str | int, ...]  # dict keys and list indexes, from the outcome down

DECODED_BODY = "body (decoded JSON)"
NOT_COMPARED = "<not compared: differs from one cold run to the next>"
_JSON_TEXT = re.compile(r"\s*[\[{]")


def decoded(outcome: Any) -> Any:
    """The outcome with a response's JSON `body` string decoded, under DECODED_BODY."""
    result = outcome.get("result") if isinstance(outcome, dict) else None
    if isinstance(result, dict) and isinstance(result.get("body"), str) and _JSON_TEXT.match(result["body"]):
        try:
            body = json.loads(result["body"])
        except json.JSONDecodeError:
            return outcome
        result = {**{k: v for k, v in result.items() if k != "body"}, DECODED_BODY: body}
        return {**outcome, "result": result}
    return outcome


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
