"""The fix of LF006: the call that adds a log handler runs once per environment, under a flag of the
module that it sets; the module binds the flag, False, above the function, which declares it global."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..rules.log_handler_per_invocation import AddOnce
from ._edit import PlanCodemod, ScopedTransformer, Transformer, as_block, grouped, split_preamble, statement

_BLANK = [cst.EmptyLine(), cst.EmptyLine()]


class _AddOnce(ScopedTransformer):
    def __init__(self, plans: Sequence[AddOnce]) -> None:
        self.by_function = grouped(plans, lambda plan: plan.function)
        super().__init__(within=set(self.by_function))
        self.done: dict[str, list[str]] = {}  # function -> the flags it now sets

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        plans = self.by_function.get(qualified) if kinds == ("function",) else None
        if not plans:
            return updated_node
        guard = _Guard({plan.statement: plan.flag for plan in plans})
        body = as_block(updated_node.body).visit(guard)
        if not guard.flags:
            return updated_node
        self.done[qualified] = guard.flags
        preamble, rest = split_preamble(body.body)  # type: ignore[attr-defined]
        declared = statement(f"global {', '.join(guard.flags)}\n")
        return updated_node.with_changes(body=body.with_changes(body=[*preamble, declared, *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = []
        for stmt in updated_node.body:
            flags = self.done.get(stmt.name.value) if isinstance(stmt, cst.FunctionDef) else None
            if flags:
                bound = [statement(f"{flag} = False\n") for flag in flags]
                bound[0] = bound[0].with_changes(leading_lines=stmt.leading_lines)
                body += bound
                stmt = stmt.with_changes(leading_lines=[*_BLANK, *[line for line in stmt.leading_lines
                                                                     if line.comment is not None]])
                body[-len(bound)] = bound[0].with_changes(
                    leading_lines=[line for line in bound[0].leading_lines if line.comment is None])
            body.append(stmt)
        return updated_node.with_changes(body=body)


class _Guard(Transformer):
    """Puts the statements named (by their code) under `if not flag:`, setting flag after them."""

    def __init__(self, flags: dict[str, str]) -> None:
        super().__init__()
        self.wanted = flags
        self.flags: list[str] = []
        self._code = cst.Module(body=[])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's statements are not the plan's

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine) -> cst.BaseStatement:
        if len(updated_node.body) != 1:
            return updated_node
        flag = self.wanted.get(self._code.code_for_node(updated_node.body[0]).strip())
        if flag is None or flag in self.flags:
            return updated_node
        self.flags.append(flag)
        inner = updated_node.with_changes(leading_lines=[])
        return cst.If(test=cst.parse_expression(f"not {flag}"),
                      body=cst.IndentedBlock(body=[inner, statement(f"{flag} = True\n")]),
                      leading_lines=updated_node.leading_lines)


class Fix(PlanCodemod):
    DESCRIPTION = "Add a log handler once per environment, on the first invocation, not on every one."
    TRANSFORMER = _AddOnce
