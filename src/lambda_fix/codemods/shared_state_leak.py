"""The fix of LF002: reset the state when the handler starts; return copies.

Only at the start: that is what makes every warm start begin like a cold one, and it is the smallest
edit (no line of the body moves). A reset at the end as well would need the body in a `try`, re-indent
every line of it, and take from the project's tests the state they read after calling the handler."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..rules._diagnosis import Span
from ..rules._log_context import ClearContextvars, ClearLoggerKeys
from ..rules.shared_state_leak import ResetHow, ResetPlan
from ._edit import (
    HandlerTransformer,
    PlanCodemod,
    Transformer,
    add_module_statements,
    as_block,
    declares_global,
    split_preamble,
    statement,
    without_global,
)


def snapshot_name(plan: ResetPlan) -> str:
    suffix = "_AT_IMPORT" if plan.state.isupper() else "_at_import"
    return f"_{plan.state}{suffix}"


def reset_lines(plan: ResetPlan) -> list[str]:
    """Statements that put the state back to its import-time value."""
    ref = plan.reference
    if plan.how is ResetHow.CLEAR:
        return [f"{ref}.clear()"]
    if plan.how is ResetHow.REBIND:
        return [f"{ref} = {plan.init_source}"]
    value = plan.init_source if plan.how is ResetHow.RESTORE else f"copy.deepcopy({snapshot_name(plan)})"
    if plan.kind == "list":
        return [f"{ref}[:] = {value}"]
    if plan.kind == "deque":
        return [f"{ref}.clear()", f"{ref}.extend({value})"]
    return [f"{ref}.clear()", f"{ref}.update({value})"]


class ResetState(HandlerTransformer):
    """Puts the state back when the handler starts (LF002), or gives it a new value there (LF001)."""

    def edit_handler(self, handler: cst.FunctionDef, plans: list[ResetPlan]) -> cst.FunctionDef:
        block = as_block(handler.body)
        statements = list(block.body)
        declared: list[str] = []
        for plan in plans:
            # A `global` anywhere in the handler must come before the reset that uses the name.
            if plan.declare_global or declares_global(handler, plan.state):
                statements = without_global(statements, plan.state)
                declared.append(plan.state)
        preamble, rest = split_preamble(statements)
        if any(p.copy_returns for p in plans):
            rest = [s.visit(_CopyReturns()) for s in rest]  # type: ignore[misc]
        resets = [statement(line) for plan in plans for line in reset_lines(plan)]
        if declared:
            preamble.append(statement("global " + ", ".join(declared)))
        return handler.with_changes(body=block.with_changes(body=[*preamble, *resets, *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        plans = [p for ps in self.by_handler.values() for p in ps]
        imports = sorted({p.add_import for p in plans if p.add_import})
        if any(p.copy_returns or p.how is ResetHow.SNAPSHOT for p in plans):
            imports.insert(0, "import copy")
        snapshots = [statement(f"{snapshot_name(p)} = copy.deepcopy({p.reference})")
                     for p in plans if p.how is ResetHow.SNAPSHOT]
        if snapshots:
            seen: set[str] = set()
            unique = []
            for snap in snapshots:
                code = cst.Module(body=[snap]).code
                if code not in seen:
                    seen.add(code)
                    unique.append(snap)
            first = unique[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), cst.EmptyLine(
                comment=cst.Comment("# import-time content, restored by each invocation (lambda-fix LF002)"))])
            updated_node = updated_node.with_changes(body=[*updated_node.body, first, *unique[1:]])
        return add_module_statements(updated_node, imports)


class _CopyReturns(Transformer):
    """`return value` -> `return copy.deepcopy(value)` in the handler's own scope."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # nested functions return to their own callers

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        value = updated_node.value
        if value is None or _is_constant(value):
            return updated_node
        copied = cst.Call(func=cst.Attribute(value=cst.Name("copy"), attr=cst.Name("deepcopy")),
                          args=[cst.Arg(value=value)])
        return updated_node.with_changes(value=copied)


def _is_constant(value: cst.BaseExpression) -> bool:
    return m.matches(value, m.Name("None") | m.Name("True") | m.Name("False") | m.SimpleString()
                     | m.Integer() | m.Float() | m.ConcatenatedString())


def replacements(plans: list[ResetPlan | ClearLoggerKeys]) -> list[tuple[Span, str]]:
    """A logger's decorator gains `clear_state=True`."""
    return [(plan.decorator, plan.replacement) for plan in plans if isinstance(plan, ClearLoggerKeys)]


class Fix(PlanCodemod):
    DESCRIPTION = "Reset module-level state when the Lambda handler starts; return copies."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        resets = [plan for plan in self.plans if isinstance(plan, ResetPlan)]
        clears = [plan for plan in self.plans if isinstance(plan, ClearContextvars)]
        tree = tree.visit(ResetState(resets)) if resets else tree
        return tree.visit(_ClearContextvars(clears)) if clears else tree


class _ClearContextvars(HandlerTransformer):
    """structlog's context variables cleared first in the handler, as a cold start begins without them."""

    def edit_handler(self, handler: cst.FunctionDef, plans: list[ClearContextvars]) -> cst.FunctionDef:
        block = as_block(handler.body)
        preamble, rest = split_preamble(block.body)
        return handler.with_changes(body=block.with_changes(body=[*preamble, statement(f"{plans[0].call}\n"), *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        imports = sorted({p.add_import for ps in self.by_handler.values() for p in ps if p.add_import})
        return add_module_statements(updated_node, imports)
