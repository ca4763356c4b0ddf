"""The fix of LF001: the state moves into the handler and is passed to the helpers that use it; or,
where that would touch many helpers, the handler gives it a new value when it starts."""

from __future__ import annotations

import libcst as cst

from ..rules.handler_state_at_module_level import MovePlan
from ..rules.shared_state_leak import ResetPlan
from ._edit import PlanCodemod
from ._threading import PassDown
from .shared_state_leak import ResetState


class Fix(PlanCodemod):
    DESCRIPTION = "Move module-level state into the Lambda handler, or give it a new value when the handler starts."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        moves = [plan for plan in self.plans if isinstance(plan, MovePlan)]
        rebinds = [plan for plan in self.plans if isinstance(plan, ResetPlan)]
        if rebinds:
            tree = tree.visit(ResetState(rebinds))
        if moves:
            tree = tree.visit(PassDown([plan.threading for plan in moves],
                                       {plan.threading.name: plan.local_name for plan in moves if plan.local_name}))
        return tree
