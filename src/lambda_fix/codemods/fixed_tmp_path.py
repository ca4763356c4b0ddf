"""The fix of LF003: the path gets the request ID, is passed to the helpers that use it, and the
handler removes it when the invocation ends."""

from __future__ import annotations

import libcst as cst

from ..rules._diagnosis import Span
from ..rules.fixed_tmp_path import Cleanup, TmpPathPlan
from ._edit import (
    HandlerTransformer,
    PlanCodemod,
    add_module_statements,
    as_block,
    split_preamble,
    statement,
    try_finally,
)
from ._threading import PassDown


def replacements(plans: list[TmpPathPlan]) -> list[tuple[Span, str]]:
    """Where the module spells each path, in the handler and its helpers: the per-invocation name."""
    return [edit for plan in plans for edit in plan.replaced]


class Fix(PlanCodemod):
    DESCRIPTION = "Give each invocation its own /tmp path and remove it when the invocation ends."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        plans: list[TmpPathPlan] = self.plans  # type: ignore[assignment]
        tree = tree.visit(_RemoveAtEnd(plans))
        # Creating the name in the handler and passing it to helpers is the shared PassDown edit.
        tree = tree.visit(PassDown([p.move for p in plans]))
        imports = sorted({line for p in plans for line in p.imports})
        return add_module_statements(tree, imports)


class _RemoveAtEnd(HandlerTransformer):
    """The handler's body runs in `try`; `finally` removes the invocation's files, ignoring its own errors."""

    def edit_handler(self, handler: cst.FunctionDef, plans: list[TmpPathPlan]) -> cst.FunctionDef:
        block = as_block(handler.body)
        preamble, rest = split_preamble(block.body)
        removals: list[cst.BaseStatement] = []
        for plan in plans:
            if plan.cleanup is Cleanup.DIRECTORY:
                removals.append(statement(f"shutil.rmtree({plan.variable}, ignore_errors=True)"))
            else:
                removals.append(statement(f"with contextlib.suppress(OSError):\n    os.remove({plan.variable})\n"))
        return handler.with_changes(body=block.with_changes(body=[*preamble, try_finally(rest, removals)]))
