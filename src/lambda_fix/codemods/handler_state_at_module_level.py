"""The fix of LF001: the state moves into the handler and is passed to the helpers that use it."""

from __future__ import annotations

import libcst as cst

from ..rules.handler_state_at_module_level import MovePlan
from ._edit import PlanCodemod
from ._threading import PassDown


class Fix(PlanCodemod):
    DESCRIPTION = "Move module-level state into the Lambda handler and pass it to the helpers that use it."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        plans: list[MovePlan] = self.plans  # type: ignore[assignment]
        return tree.visit(PassDown([plan.threading for plan in plans]))
