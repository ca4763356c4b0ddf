"""The fix of LF010: what follows `name = tempfile.mkdtemp(...)` in the function's block runs in a `try`
whose `finally` removes the directory, so each invocation leaves /tmp as it found it."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..rules.temporary_file_never_removed import RemoveAtEnd
from ._edit import PlanCodemod, ScopedTransformer, add_module_statements, as_block, grouped, statement, try_finally


class _RemoveAtEnd(ScopedTransformer):
    def __init__(self, plans: Sequence[RemoveAtEnd]) -> None:
        self.by_function = grouped(plans, lambda plan: plan.function)
        super().__init__(within=set(self.by_function))
        self.imports: set[str] = set()
        self._code = cst.Module(body=[])

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        plans = self.by_function.get(qualified) if kinds == ("function",) else None
        block = as_block(updated_node.body)
        body = list(block.body)
        # The last directory made first: its try holds the others', so each is removed after those
        # made after it.
        for plan in sorted(plans or (), key=lambda p: -self._index(body, p)):
            index = self._index(body, plan)
            if index < 0:
                continue
            removal = statement(f"shutil.rmtree({plan.name}, ignore_errors=True)\n")
            rest = body[index + 1:]
            body = [*body[:index + 1], try_finally(rest, [removal]) if rest else removal]
            if plan.import_shutil:
                self.imports.add("import shutil")
        return updated_node.with_changes(body=block.with_changes(body=body))

    def _index(self, body: list[cst.BaseStatement], plan: RemoveAtEnd) -> int:
        """Where the plan's statement is in the block, by its code; -1 when it is not there once."""
        found = [i for i, stmt in enumerate(body) if isinstance(stmt, cst.SimpleStatementLine)
                 and len(stmt.body) == 1 and self._code.code_for_node(stmt.body[0]).strip() == plan.statement]
        return found[0] if len(found) == 1 else -1

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return add_module_statements(updated_node, sorted(self.imports))


class Fix(PlanCodemod):
    DESCRIPTION = "Remove the temporary directory a function makes when the function ends."
    TRANSFORMER = _RemoveAtEnd
