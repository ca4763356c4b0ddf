"""The fix of LF007: the module records the variables' values last in its import, and the handler puts
them back (or removes them) first, so each invocation starts with the environment a cold start has."""

from __future__ import annotations

import ast
import json
from typing import Sequence

import libcst as cst

from ..analysis.module import is_main_block
from ..rules.environment_written_per_request import RestoreAtEntry
from ._edit import HandlerTransformer, add_module_statements, as_block, split_preamble, statement, PlanCodemod


def _literal(text: str) -> str:
    """text as a Python string literal, in double quotes (JSON's escapes are Python's)."""
    return json.dumps(text)


def _restore(plan: RestoreAtEntry) -> cst.BaseStatement:
    name = _literal(plan.variable)
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
        # Last in the import, after the module's own import-time code; above the first `__main__` block,
        # which may call the handler.
        at = next((i for i, stmt in enumerate(body) if _is_main_block(stmt)), len(body))
        lines = [statement(f"{recorded} = os.environ.get({_literal(plan.variable)})\n")
                 for recorded, plan in self.recorded.items()]
        lines[0] = lines[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        if at < len(body):
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(),
                                                            *[line for line in body[at].leading_lines
                                                              if line.comment is not None]])
        body[at:at] = lines
        module = updated_node.with_changes(body=body)
        needed = ["import os"] if any(plan.add_import for plan in self.recorded.values()) else []
        return add_module_statements(module, needed)


def _is_main_block(stmt: cst.CSTNode) -> bool:
    """`if __name__ == "__main__":`, as the analysis tells it (module.is_main_block)."""
    if not isinstance(stmt, cst.If):
        return False
    try:
        parsed = ast.parse(cst.Module(body=[stmt]).code).body[0]
    except SyntaxError:
        return False
    return is_main_block(parsed)


class Fix(PlanCodemod):
    DESCRIPTION = "Put the environment variables written per request back to their import-time values first."
    TRANSFORMER = _RestoreAtEntry
