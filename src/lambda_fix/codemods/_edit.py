"""Small libcst edits the codemods share: bodies, `global` statements, imports, expressions at spans."""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping, Sequence, TypeVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodCommand, CodemodContext
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..rules._diagnosis import Span
from ..target import DEFAULT, Version

Plan = TypeVar("Plan")


def grouped(plans: Sequence[Plan], key: Callable[[Plan], str]) -> dict[str, list[Plan]]:
    """Plans by the function (or handler) they edit, in order."""
    groups: dict[str, list[Plan]] = {}
    for plan in plans:
        groups.setdefault(key(plan), []).append(plan)
    return groups


class Transformer(cst.CSTTransformer):
    """libcst's transformer, with its per-node dispatch looked up once per node type.

    libcst finds `visit_<Node>`, `leave_<Node>` and `visit_<Node>_<field>` by building their names and
    calling getattr on every node and every field of every node; the rules define no per-field
    hooks, and on a rewritten file that lookup cost a third of the transform.
    """

    def __init__(self) -> None:
        super().__init__()
        self._visits: dict[type, object] = {}
        self._leaves: dict[type, object] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        visit = self._visits.get(kind, self)
        if visit is self:
            visit = self._visits[kind] = getattr(self, f"visit_{kind.__name__}", None)
        return visit is None or visit(node) is not False  # type: ignore[operator]

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # noqa: ANN201 - as libcst's
        kind = type(original_node)
        leave = self._leaves.get(kind, self)
        if leave is self:
            leave = self._leaves[kind] = getattr(self, f"leave_{kind.__name__}", None)
        return updated_node if leave is None else leave(original_node, updated_node)  # type: ignore[operator]

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def as_block(body: cst.BaseSuite) -> cst.IndentedBlock:
    """`def f(): return x` becomes an indented block so statements can be added."""
    if isinstance(body, cst.IndentedBlock):
        return body
    assert isinstance(body, cst.SimpleStatementSuite)
    return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[s]) for s in body.body])


def is_docstring(stmt: cst.BaseStatement) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))


def split_preamble(statements: Sequence[cst.BaseStatement]) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
    """(docstring and `global`/`nonlocal` lines, the rest): code is inserted between the two."""
    index = 0
    if statements and is_docstring(statements[0]):
        index = 1
    while index < len(statements) and m.matches(
            statements[index], m.SimpleStatementLine(body=[m.AtLeastN(m.Global() | m.Nonlocal(), n=1)])):
        index += 1
    return list(statements[:index]), list(statements[index:])


def declares_global(function: cst.FunctionDef, name: str) -> bool:
    """Does function (not a function nested in it) say `global name` anywhere?"""
    finder = _GlobalFinder(name)
    function.body.visit(finder)
    return finder.found


class _GlobalFinder(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Global(self, node: cst.Global) -> None:
        self.found = self.found or any(n.name.value == self.name for n in node.names)


def without_global(statements: Sequence[cst.BaseStatement], name: str) -> list[cst.BaseStatement]:
    """Drop name from every `global` statement of a function body (its own scope, at any depth)."""
    dropper = _DropGlobal(name)
    result = []
    for stmt in statements:
        changed = stmt.visit(dropper)
        if isinstance(changed, cst.BaseStatement):
            result.append(changed)
    return result


class _DropGlobal(Transformer):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's `global` is its own

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine):  # noqa: ANN201
        small = [part for part in (self._without(p) for p in updated_node.body) if part is not None]
        if not small:
            return cst.RemoveFromParent()
        small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=small)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not updated_node.body:  # the block held only the `global`: keep it valid
            return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
        return updated_node

    def _without(self, part: cst.BaseSmallStatement) -> cst.BaseSmallStatement | None:
        if not isinstance(part, cst.Global) or not any(n.name.value == self.name for n in part.names):
            return part
        kept = [n for n in part.names if n.name.value != self.name]
        if not kept:
            return None
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return part.with_changes(names=kept)


def statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def add_module_statements(module: cst.Module, lines: Sequence[str]) -> cst.Module:
    """Add import statements to the module's leading import block, where isort would put them.

    Plain `import x` lines sort before `from x import y` lines, alphabetically; nothing goes
    above the docstring or a `from __future__` import. Imports already present are skipped, also as
    part of a longer statement (`import json, os` already imports `os`).
    """
    existing = {module.code_for_node(s).strip() for s in module.body} | _imported(module)
    body = list(module.body)
    for line in lines:
        if line in existing:
            continue
        new = statement(line)
        start, end = _import_block(body)
        index = end
        for position in range(start, end):
            if _import_key(body[position]) > _import_key(new):
                index = position
                break
        section = _import_key(new)[0]
        if start < index < end and _import_key(body[index - 1])[0] < section < _import_key(body[index])[0]:
            # A section of its own between two others (standard library, third party, relative):
            # set off from both by a blank line, as isort does.
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
        elif start < index < end and _import_key(body[index - 1])[0] == section < _import_key(body[index])[0]:
            pass  # last of its own section, just above the next one's blank line
        elif index == start < end:
            # Comments above the first import describe the block: keep them on top.
            first = body[index]
            body[index] = first.with_changes(leading_lines=[])
            new = new.with_changes(leading_lines=first.leading_lines)
            if section < _import_key(first)[0] and not any(line.comment is None for line in first.leading_lines[-1:]):
                body[index] = first.with_changes(leading_lines=[cst.EmptyLine()])  # the next section
        elif index == end > start and _import_key(body[end - 1])[0] < section:
            new = new.with_changes(leading_lines=[cst.EmptyLine()])  # a last section of its own
        if start == end and index > 0 and _dunder_assignment(body[index - 1]):
            new = new.with_changes(leading_lines=[cst.EmptyLine()])  # a new block, set off from the dunders
        body.insert(index, new)
        after = index + 1
        if start == end and after < len(body) and not _blank_prefix(body[after]):
            # A new import block is set off from the code after it, as isort and black do.
            body[after] = body[after].with_changes(leading_lines=[cst.EmptyLine(), *body[after].leading_lines])
    return module.with_changes(body=body)


def _imported(module: cst.Module) -> set[str]:
    """Each unaliased name the module's top-level import statements bind, as its own statement:
    `import json, os.path` -> {"import json", "import os.path", "import os"}."""
    found: set[str] = set()
    empty = cst.Module(body=[])
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.asname is None:
                        name = empty.code_for_node(alias.name)
                        found.update({f"import {name}", f"import {name.split('.')[0]}"})
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                    and not isinstance(small.names, cst.ImportStar):
                source = empty.code_for_node(small.module)
                found.update(f"from {source} import {empty.code_for_node(alias.name)}"
                             for alias in small.names if alias.asname is None)
    return found


def _blank_prefix(stmt: cst.BaseStatement) -> bool:
    lines = getattr(stmt, "leading_lines", ())
    return bool(lines) and lines[0].comment is None


def _import_block(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    """[start, end) of the leading imports, after the docstring, `from __future__` lines and module
    dunders (`__author__ = ...`, which PEP 8 puts above the imports)."""
    start = 1 if body and is_docstring(body[0]) else 0
    while start < len(body) and (
            m.matches(body[start], m.SimpleStatementLine(body=[m.ImportFrom(module=m.Name("__future__"))]))
            or _dunder_assignment(body[start])):
        start += 1
    end = start
    while end < len(body) and m.matches(body[end], m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()])):
        end += 1
    return start, end


def _dunder_assignment(stmt: cst.BaseStatement) -> bool:
    """`__author__ = "..."`, `__version__: str = "1.0"`: a module dunder."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
        [small.target] if isinstance(small, cst.AnnAssign) else []
    return bool(targets) and all(isinstance(t, cst.Name) and t.value.startswith("__") and t.value.endswith("__")
                                 and len(t.value) > 4 for t in targets)


def _import_key(stmt: cst.BaseStatement) -> tuple[int, bool, str]:
    """isort's order: the section (standard library, then third party, then relative), plain `import`
    before `from`, then the module's name."""
    small = stmt.body[0]  # type: ignore[attr-defined]
    if isinstance(small, cst.ImportFrom):
        module = cst.Module(body=[]).code_for_node(small.module) if small.module else ""
        section = 2 if small.relative else _section(module)
        return section, True, "." * len(small.relative) + module
    module = cst.Module(body=[]).code_for_node(small.names[0].name)
    return _section(module), False, module


def _section(module: str) -> int:
    return 0 if module.split(".")[0] in sys.stdlib_module_names else 1


def append_item(items: Sequence[cst.CSTNode], new: cst.CSTNode, opening: cst.BaseParenthesizableWhitespace,
                after: str) -> list[cst.CSTNode]:
    """Append an argument or parameter, following the layout of the ones already there.

    opening: the whitespace after the opening parenthesis; after: the item's own trailing-whitespace
    field ("whitespace_after_arg", "whitespace_after_param"). One item per line stays one per line,
    a magic trailing comma stays, and the closing parenthesis keeps its place.
    """
    items = list(items)
    if not items:
        return [new]
    last = items[-1]
    previous_comma = getattr(items[-2], "comma", None) if len(items) > 1 else None
    if isinstance(previous_comma, cst.Comma):
        separator = previous_comma.whitespace_after
    elif isinstance(opening, cst.ParenthesizedWhitespace):
        separator = opening
    else:
        separator = cst.SimpleWhitespace(" ")
    if isinstance(last.comma, cst.Comma):  # type: ignore[attr-defined]
        closing = last.comma.whitespace_after  # type: ignore[attr-defined]
        items[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator))  # type: ignore[attr-defined]
        return [*items, new.with_changes(comma=cst.Comma(whitespace_after=closing))]
    closing = getattr(last, after)
    items[-1] = last.with_changes(comma=cst.Comma(whitespace_after=separator), **{after: cst.SimpleWhitespace("")})
    return [*items, new.with_changes(**{after: closing})]


class ScopedTransformer(Transformer):
    """A transformer that knows where it is: `scopes` names the enclosing classes and functions,
    outermost first, and `kinds` says which each is. Subclasses handle functions in `leave_function`.

    `within`: the module-level functions and classes whose bodies the rule edits; the others are not
    entered (libcst rebuilds every node a transformer enters). None enters everything.
    """

    def __init__(self, within: set[str] | None = None) -> None:
        super().__init__()
        self.scopes: list[str] = []
        self.kinds: list[str] = []
        self.within = within

    def in_top_level_function(self, names: set[str] | dict[str, object]) -> bool:
        """Inside (at any depth) a module-level function named in names."""
        return bool(self.scopes) and self.kinds[0] == "function" and self.scopes[0] in names

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scopes.append(node.name.value)
        self.kinds.append("class")
        return self._enters()

    def _enters(self) -> bool:
        return self.within is None or len(self.scopes) > 1 or self.scopes[0] in self.within

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        self.kinds.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.scopes.append(node.name.value)
        self.kinds.append("function")
        return self._enters()

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        qualified, kinds = ".".join(self.scopes), tuple(self.kinds)
        self.scopes.pop()
        self.kinds.pop()
        return self.leave_function(original_node, updated_node, qualified, kinds)

    def leave_function(self, original: cst.FunctionDef, updated: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        """qualified: "name", "Class.name", "outer.inner"; kinds: "class"/"function" for each part."""
        return updated


class HandlerTransformer(ScopedTransformer):
    """Edits the bodies of the module-level handlers its plans name (`plan.handler`), in
    edit_handler, with every plan for that handler; enters no other function or class."""

    def __init__(self, plans: Sequence[Any]) -> None:
        self.by_handler = grouped(plans, lambda plan: plan.handler)
        super().__init__(within=set(self.by_handler))

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        plans = self.by_handler.get(qualified) if kinds == ("function",) else None
        return self.edit_handler(updated_node, plans) if plans else updated_node

    def edit_handler(self, handler: cst.FunctionDef, plans: list[Any]) -> cst.FunctionDef:
        raise NotImplementedError


def try_finally(body: Sequence[cst.BaseStatement], final: Sequence[cst.BaseStatement]) -> cst.Try:
    """`try: body` (`pass` when empty) `finally: final`: what a handler's body runs in when something
    must happen at the end of every invocation, however it ends."""
    return cst.Try(body=cst.IndentedBlock(body=list(body) or [statement("pass")]),
                   finalbody=cst.Finally(body=cst.IndentedBlock(body=list(final))))


class PlanCodemod(CodemodCommand):
    """A codemod command whose work is a plain CSTTransformer built from the analysis' plans.

    libcst's VisitorBasedCodemodCommand derives from the matcher-decoratable transformer, which
    introspects every method each time one is made (about 10 ms); lambda-fix makes one per rule per
    rewritten file, so the transformer is a plain one and the command only holds the plans.
    """

    TRANSFORMER: type[cst.CSTTransformer]

    def __init__(self, context: CodemodContext, plans: Sequence[object], version: Version = DEFAULT) -> None:
        super().__init__(context)
        self.plans = list(plans)
        self.version = version  # what the fix writes must run on this Python (target.py)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        return tree.visit(self.TRANSFORMER(self.plans))


def replace_spans(tree: cst.Module, replacements: Sequence[tuple[Span, str]]) -> cst.Module:
    """Replace the expressions at the given spans (as the analysis saw them in the unchanged source)
    with new code; each keeps its own parentheses.

    Plans point at the expressions they replace by position, so two calls written alike are never
    confused. Positions hold for the source as parsed, so this runs first, before any rule's
    structural edit moves code."""
    if not replacements:
        return tree
    # unsafe_skip_copy: the tree is not changed in place, and deep-copying it costs more than the rewrite.
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    return wrapper.module.visit(_SpanReplacer(positions, dict(replacements)))


class _SpanReplacer(Transformer):
    def __init__(self, positions: Mapping[cst.CSTNode, CodeRange], replacements: dict[Span, str]) -> None:
        super().__init__()
        self.positions = positions
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # noqa: ANN201 - as libcst's
        if isinstance(original_node, cst.BaseExpression) and original_node in self.positions:
            where = self.positions[original_node]
            code = self.replacements.get(Span(where.start.line, where.start.column, where.end.line, where.end.column))
            if code is not None:
                return cst.parse_expression(code).with_changes(lpar=updated_node.lpar,  # type: ignore[attr-defined]
                                                               rpar=updated_node.rpar)  # type: ignore[attr-defined]
        return updated_node
