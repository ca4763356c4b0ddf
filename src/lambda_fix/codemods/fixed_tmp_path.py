"""The fix of LF003: the path gets the request ID, is passed to the helpers that use it, and the
handler removes it when the file's life in the invocation ends."""

from __future__ import annotations

from typing import Sequence

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

# Calls whose arguments may outlive the call (a thread, a process, a task, a container that keeps
# them): a path handed to one may still be used after the statement that names it.
_KEEPS_ARGUMENTS = frozenset({
    "append", "extend", "add", "insert", "update", "setdefault", "put", "put_nowait", "submit", "map",
    "apply_async", "map_async", "start", "create_task", "ensure_future", "run_in_executor", "call_soon",
    "Thread", "Process", "Popen", "Timer", "register", "partial", "enter_context", "callback", "push",
})
# Calls that make another name for the path: bound to a variable, that name may be used later.
_ALIASES = frozenset({
    "Path", "PurePath", "PosixPath", "PurePosixPath", "str", "fspath", "fsencode", "join", "joinpath",
    "abspath", "realpath", "normpath", "expanduser", "relpath", "resolve", "absolute", "with_suffix",
    "with_name", "with_stem", "format", "replace", "quote", "strip", "rstrip", "encode", "split", "splitext",
    "dirname", "copy", "deepcopy",
})


def replacements(plans: list[TmpPathPlan]) -> list[tuple[Span, str]]:
    """Where the module spells each path, in the handler and its helpers: the per-invocation name."""
    return [edit for plan in plans for edit in plan.replaced]


class Fix(PlanCodemod):
    DESCRIPTION = "Give each invocation its own /tmp path and remove it when the invocation is done with it."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        plans: list[TmpPathPlan] = self.plans  # type: ignore[assignment]
        # Creating the name in the handler and passing it to helpers is the shared PassDown edit; the
        # removal comes after it, so the calls that hand the name to helpers count as its uses.
        tree = tree.visit(PassDown([p.move for p in plans]))
        tree = tree.visit(_RemoveWhenDone(plans))
        imports = sorted({line for p in plans for line in p.imports})
        return add_module_statements(tree, imports)


class _RemoveWhenDone(HandlerTransformer):
    """The statements of the handler that use the path run in `try`; `finally` removes the
    invocation's files, ignoring its own errors.

    The `try` spans the first to the last statement of the handler's body that names the path, so the
    lines before and after it keep their indentation. When the name may outlive those statements
    (bound to another name, kept by a thread or a container, used by a nested function), the `try`
    runs to the end of the handler."""

    def edit_handler(self, handler: cst.FunctionDef, plans: list[TmpPathPlan]) -> cst.FunctionDef:
        block = as_block(handler.body)
        preamble, rest = split_preamble(block.body)
        variables = {plan.variable for plan in plans}
        start, end = _life(rest, variables)
        removals: list[cst.BaseStatement] = []
        for plan in plans:
            if plan.cleanup is Cleanup.DIRECTORY:
                removals.append(statement(f"shutil.rmtree({plan.variable}, ignore_errors=True)"))
            else:
                removals.append(statement(f"with contextlib.suppress(OSError):\n    os.remove({plan.variable})\n"))
        used = rest[start:end]
        guarded: list[cst.BaseStatement] = [try_finally(used, removals)]
        before = rest[:start]
        bindings = [stmt for stmt in before if _binds(stmt, variables)]
        if used:
            # The names are made just before the `try`, under the comments and blank lines that were
            # above its first statement.
            before = [stmt for stmt in before if not _binds(stmt, variables)]
            guarded = [*bindings, *guarded]
            guarded[0] = guarded[0].with_changes(leading_lines=used[0].leading_lines)
            guarded[-1] = guarded[-1].with_changes(body=guarded[-1].body.with_changes(
                body=[used[0].with_changes(leading_lines=()), *used[1:]]))
        return handler.with_changes(body=block.with_changes(body=[*preamble, *before, *guarded, *rest[end:]]))


def _life(statements: Sequence[cst.BaseStatement], variables: set[str]) -> tuple[int, int]:
    """(first, last + 1): the statements, after the ones that bind the paths, that must run in `try`:
    from the first that names a path to the last, or to the end when a name may outlive its statement."""
    after = 0
    for index, stmt in enumerate(statements):
        if _binds(stmt, variables):
            after = index + 1
    first = last = None
    for index in range(after, len(statements)):
        uses = _Uses(variables)
        statements[index].visit(uses)
        if uses.escapes:  # the file may be used until the handler ends
            return (index if first is None else first), len(statements)
        if uses.found:
            first = index if first is None else first
            last = index
    if first is None or last is None:
        return after, len(statements)
    return first, last + 1


def _binds(stmt: cst.BaseStatement, variables: set[str]) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign) \
        and len(stmt.body[0].targets) == 1 and isinstance(stmt.body[0].targets[0].target, cst.Name) \
        and stmt.body[0].targets[0].target.value in variables


def _called_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


class _Uses(cst.CSTVisitor):
    """Whether a statement names the paths, and whether the name may be used after it: each use must
    be an argument of calls that do not keep it, and, where the result is bound, do not copy it."""

    def __init__(self, variables: set[str]) -> None:
        self.variables = variables
        self.found = False
        self.escapes = False
        self._calls: list[str] = []  # the enclosing calls whose arguments we are in
        self._bound = 0  # inside the value of an assignment

    def visit_Call(self, node: cst.Call) -> bool:
        node.func.visit(self)  # the callee is not an argument of this call
        self._calls.append(_called_name(node))
        for arg in node.args:
            arg.visit(self)
        self._calls.pop()
        return False

    def _bound_value(self, value: cst.CSTNode | None, *others: cst.CSTNode | None) -> bool:
        for other in others:
            if other is not None:
                other.visit(self)
        if value is not None:
            self._bound += 1
            value.visit(self)
            self._bound -= 1
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        return self._bound_value(node.value, *node.targets)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        return self._bound_value(node.value, node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        return self._bound_value(node.value, node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        return self._bound_value(node.value, node.target)

    def visit_Return(self, node: cst.Return) -> bool:
        return self._bound_value(node.value)

    def visit_Yield(self, node: cst.Yield) -> bool:
        return self._bound_value(node.value)  # type: ignore[arg-type]

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._escape_if_named(node)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._escape_if_named(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._escape_if_named(node)
        return False

    def _escape_if_named(self, node: cst.CSTNode) -> None:
        inner = _Uses(self.variables)
        inner._calls = ["<nested>"]  # never a plain argument: the function may run later
        node.visit(_Names(inner))
        if inner.found:
            self.found = self.escapes = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.variables:
            return
        self.found = True
        if not self._calls or any(c in _KEEPS_ARGUMENTS or c == "<nested>" for c in self._calls) \
                or (self._bound and any(c in _ALIASES for c in self._calls)):
            self.escapes = True


class _Names(cst.CSTVisitor):
    """Reports every name of a nested function or class to a _Uses, which then escapes."""

    def __init__(self, uses: _Uses) -> None:
        self.uses = uses

    def visit_Name(self, node: cst.Name) -> None:
        self.uses.visit_Name(node)
