"""The fix of LF004: the client is built once per environment, by a cached function."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ..rules._diagnosis import Span
from ..rules.per_invocation_client import HoistPlan
from ..target import CACHE_DECORATOR_SINCE, DEFAULT, Version
from ._edit import PlanCodemod, ScopedTransformer, Transformer, add_module_statements


def replacements(plans: list[HoistPlan]) -> list[tuple[Span, str]]:
    """Each call the plans name becomes a call of its accessor, but for the call a cached factory returns."""
    return [(plan.call, f"{plan.accessor}()") for plan in plans if not plan.decorates]


def accessor_source(plan: HoistPlan, version: Version = DEFAULT) -> str:
    def indented(depth: int) -> str:  # continuation lines follow the statement they are in
        return plan.built_by.replace("\n", "\n" + " " * depth)

    def setup(depth: int) -> str:  # what the call reads, fetched once with it
        pad = " " * depth
        return "".join(f"{pad}{name} = {value.replace(chr(10), chr(10) + pad)}\n" for name, value in plan.setup)

    if plan.closed_test is None:
        return f"@{cache_decorator(version)}\ndef {plan.accessor}():\n{setup(4)}    return {indented(4)}\n"
    variable = "_" + plan.accessor[len("_get_"):]
    closed = plan.closed_test.format(name=variable)
    return (f"{variable} = None\n\n\ndef {plan.accessor}():\n    global {variable}\n"
            f"    if {variable} is None or {closed}:\n{setup(8)}        {variable} = {indented(8)}\n"
            f"    return {variable}\n")


def cache_decorator(version: Version) -> str:
    """`functools.cache` exists from Python 3.9; before, `lru_cache(maxsize=None)` is the same cache."""
    return "functools.cache" if version >= CACHE_DECORATOR_SINCE else "functools.lru_cache(maxsize=None)"


class _AddAccessors(Transformer):
    """Each accessor goes above the top-level function or class that used the call."""

    def __init__(self, plans: Sequence[HoistPlan], version: Version = DEFAULT) -> None:
        super().__init__()
        self.plans = list(plans)
        self.version = version

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # only the module's body changes

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        # A factory that is cached in place is the accessor of its own call and of the calls equal to it.
        done: set[str] = {plan.accessor for plan in self.plans if plan.decorates}
        for index, stmt in enumerate(body):
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value in done:
                decorator = cst.Decorator(decorator=cst.parse_expression(cache_decorator(self.version)))
                body[index] = stmt.with_changes(decorators=[decorator])
        for plan in self.plans:
            if plan.accessor in done:
                continue
            done.add(plan.accessor)
            index = next((i for i, s in enumerate(body) if isinstance(s, (cst.FunctionDef, cst.ClassDef))
                          and s.name.value == plan.before), len(body))
            added = list(cst.parse_module(accessor_source(plan, self.version)).body)
            added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            if index > 0:
                body[index - 1] = _without_trailing_blank_lines(body[index - 1])  # the two above are the accessor's
            if index < len(body):
                body[index] = _two_blank_lines_above(body[index])  # PEP 8, after the new function
            body[index:index] = added
        updated_node = updated_node.with_changes(body=body)
        if any(p.closed_test is None for p in self.plans):
            updated_node = add_module_statements(updated_node, ["import functools"])
        return updated_node


def _without_trailing_blank_lines(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """stmt without the blank lines that end it. libcst keeps the blank lines after a block, up to the
    last one indented as the block (often a line of only spaces), in the footer of the block, at any
    depth: left there, they would join the two blank lines written above an accessor inserted after it."""
    if isinstance(stmt, cst.If) and isinstance(stmt.orelse, cst.If):
        return stmt.with_changes(orelse=_without_trailing_blank_lines(stmt.orelse))
    if isinstance(stmt, (cst.Try, cst.TryStar)) and (stmt.finalbody or stmt.orelse or stmt.handlers):
        if stmt.finalbody:
            return stmt.with_changes(finalbody=stmt.finalbody.with_changes(body=_trimmed(stmt.finalbody.body)))
        if stmt.orelse:
            return stmt.with_changes(orelse=stmt.orelse.with_changes(body=_trimmed(stmt.orelse.body)))
        last = stmt.handlers[-1]
        return stmt.with_changes(handlers=[*stmt.handlers[:-1], last.with_changes(body=_trimmed(last.body))])
    if isinstance(stmt, (cst.If, cst.For, cst.While)) and isinstance(stmt.orelse, cst.Else):
        return stmt.with_changes(orelse=stmt.orelse.with_changes(body=_trimmed(stmt.orelse.body)))
    if isinstance(stmt, cst.Match) and stmt.cases:
        last_case = stmt.cases[-1]
        return stmt.with_changes(cases=[*stmt.cases[:-1], last_case.with_changes(body=_trimmed(last_case.body))])
    body = getattr(stmt, "body", None)
    return stmt.with_changes(body=_trimmed(body)) if isinstance(body, cst.IndentedBlock) else stmt


def _trimmed(block: cst.BaseSuite) -> cst.BaseSuite:
    if not isinstance(block, cst.IndentedBlock):
        return block
    footer = list(block.footer)
    while footer and footer[-1].comment is None:
        footer.pop()
    if footer or not block.body:  # a comment ends the block: the lines above it are its own
        return block.with_changes(footer=footer)
    return block.with_changes(footer=[], body=[*block.body[:-1], _without_trailing_blank_lines(block.body[-1])])


def _two_blank_lines_above(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """stmt with at least two blank lines above it (and above the comments that lead it)."""
    lines = list(getattr(stmt, "leading_lines", ()))
    blank = 0
    while blank < len(lines) and lines[blank].comment is None:
        blank += 1
    if blank >= 2:
        return stmt
    return stmt.with_changes(leading_lines=[*(cst.EmptyLine() for _ in range(2 - blank)), *lines])


class Fix(PlanCodemod):
    DESCRIPTION = "Build clients once per execution environment instead of on every invocation."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        tree = tree.visit(_DropDeadLocals(self.plans))  # type: ignore[arg-type]
        return tree.visit(_AddAccessors(_with_required(self.plans), self.version))  # type: ignore[arg-type]


def _with_required(plans: Sequence[HoistPlan]) -> list[HoistPlan]:
    """The plans, each after the plans whose accessors its accessor calls (a session's, for a client
    made from it), which it adds even when that plan's own fix is not applied."""
    ordered: list[HoistPlan] = []
    for plan in plans:
        ordered.extend([*_with_required(plan.requires), plan])
    return ordered


class _DropDeadLocals(ScopedTransformer):
    """The assignment of a local goes when every call that read it now calls an accessor: `session =
    boto3.Session()` once `session.client("s3")` is `_s3_client()`. A local that a call whose fix is not
    applied still reads stays."""

    def __init__(self, plans: Sequence[HoistPlan]) -> None:
        applied = {plan.call for plan in plans}
        self.dead: dict[str, set[str]] = {}
        for plan in plans:
            for local in plan.dead:
                if all(reader in applied for reader in local.readers):
                    self.dead.setdefault(plan.function, set()).add(local.name)
        super().__init__(within={function.split(".")[0] for function in self.dead})

    def leave_function(self, original: cst.FunctionDef, updated: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        names = self.dead.get(qualified)
        if not names:
            return updated
        return updated.with_changes(body=updated.body.visit(_DropAssignments(names)))


class _DropAssignments(Transformer):
    """Removes `name = value` for the given names from a function's body (not from functions or classes
    nested in it). Comment lines above a removed statement stay, above the statement that follows."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.emptied: set[int] = set()  # the blocks that held nothing but removed statements

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try
                  ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        """A `try` whose body was only removed assignments can raise nothing: its handlers go, and what
        its `else` and `finally` hold stays, in their order."""
        if id(updated_node.body) not in self.emptied:
            return updated_node
        kept = [*(updated_node.orelse.body.body if updated_node.orelse else ()),
                *(updated_node.finalbody.body.body if updated_node.finalbody else ())]
        if not kept:
            return cst.RemoveFromParent()
        kept[0] = kept[0].with_changes(leading_lines=[*updated_node.leading_lines, *kept[0].leading_lines])
        return cst.FlattenSentinel(kept)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
                            ) -> cst.IndentedBlock:
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] | None = None  # the lines above the statements just removed
        for stmt in updated_node.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                kept = [small for small in stmt.body if not self._dead(small)]
                if not kept:
                    carried = [*(carried or []), *stmt.leading_lines]
                    continue
                if len(kept) < len(stmt.body):
                    kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                    stmt = stmt.with_changes(body=kept)
            if carried is not None:
                stmt = stmt.with_changes(leading_lines=_joined(carried, stmt.leading_lines, first=not body))
                carried = None
            body.append(stmt)
        if not body:
            emptied = updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
            self.emptied.add(id(emptied))
            return emptied
        return updated_node.with_changes(body=body)

    def _dead(self, small: cst.BaseSmallStatement) -> bool:
        return isinstance(small, cst.Assign) and len(small.targets) == 1 \
            and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value in self.names


def _joined(carried: Sequence[cst.EmptyLine], own: Sequence[cst.EmptyLine], first: bool) -> list[cst.EmptyLine]:
    """The lines above a removed statement, then the next one's own: one blank line where two runs meet,
    none at the top of the block."""
    lines: list[cst.EmptyLine] = []
    for line in [*carried, *own]:
        blank = line.comment is None
        if blank and ((first and not lines) or (lines and lines[-1].comment is None)):
            continue
        lines.append(line)
    return lines
