"""The fix of LF001: the state moves into the handler and is passed to the helpers that use it."""

from __future__ import annotations

from ._edit import PlanCodemod
from ._threading import PassDown


class Fix(PlanCodemod):
    DESCRIPTION = "Move module-level state into the Lambda handler and pass it to the helpers that use it."
    TRANSFORMER = PassDown
