"""The fix of LF007: the module records the variables' values last in its import, and the handler puts
them back (or removes them) first, so each invocation starts with the environment a cold start has."""

from __future__ import annotations

from typing import Sequence

import libcst as cst
import libcst.matchers as m

from ..rules.environment_written_per_request import RestoreAtEntry
from ._edit import HandlerTransformer, add_module_statements, as_block, split_preamble, statement, PlanCodemod


def _restore(plan: RestoreAtEntry) -> cst.BaseStatement:
    name = repr(plan.variable).replace("'", '"') if '"' not in plan.variable else repr(plan.variable)
    return statement(f"if {plan.recorded} is None:\n"
                     f"    os.environ.pop({name}, None)\n"
                     f"else:\n"
                     f"    os.environ[{name}] = {plan.recorded}\n")


class _RestoreAtEntry(HandlerTransformer):
    def __init__(self, plans: Sequence[RestoreAtEntry]) -> None:
        super().__init__(plans)
        self.recorded: dict[str, RestoreAtEntry] = {}

    def edit_handler(self, handler: cst.FunctionDef, plans: list[RestoreAtEntry]) -> cst.FunctionDef:
        block = as_block(handler.body)
        preamble, rest = split_preamble(block.body)
        unique = list({plan.variable: plan for plan in plans}.values())
        for plan in unique:
            self.recorded.setdefault(plan.recorded, plan)
        return handler.with_changes(body=block.with_changes(body=[*preamble, *map(_restore, unique), *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.recorded:
            return updated_node
        body = list(updated_node.body)
        # Last in the import, after the module's own import-time code; above a `__main__` block.
        at = len(body)
        if body and m.matches(body[-1], m.If(test=m.Comparison(left=m.Name("__name__")))):
            at -= 1
        name = {plan.recorded: (repr(plan.variable).replace("'", '"') if '"' not in plan.variable
                                else repr(plan.variable)) for plan in self.recorded.values()}
        lines = [statement(f"{recorded} = os.environ.get({name[recorded]})\n") for recorded in self.recorded]
        lines[0] = lines[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        if at < len(body):
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(),
                                                            *[line for line in body[at].leading_lines
                                                              if line.comment is not None]])
        body[at:at] = lines
        module = updated_node.with_changes(body=body)
        needed = ["import os"] if any(plan.add_import for plan in self.recorded.values()) else []
        return add_module_statements(module, needed)


class Fix(PlanCodemod):
    DESCRIPTION = "Put the environment variables written per request back to their import-time values first."
    TRANSFORMER = _RestoreAtEntry
