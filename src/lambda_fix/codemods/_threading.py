"""Passing a name down the handler's call chain: what LF001 (module state) and LF003 (a per-invocation
/tmp path) both do with a `Threading` plan."""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

import libcst as cst

from ..analysis.parameters import PassAs, Threading
from ._edit import (
    ScopedTransformer,
    Transformer,
    append_item,
    as_block,
    declares_global,
    split_preamble,
    without_global,
)


class PassDown(ScopedTransformer):
    """Applies Threading plans: the module-level binding of each name (if any) is removed and made at
    the start of the handler instead (or `created` is), and the helpers gain it as a parameter.

    renamed: the name the handler's local and the helpers' parameter take instead of the state's own
    (`RESPONSE` -> `response`); every use in those functions follows. A helper whose signature is
    annotated gets an annotated parameter: the module-level binding's annotation, else the type its
    value is made with (`dict` for `{...}`), else none."""

    def __init__(self, plans: Sequence[Threading], renamed: Optional[Mapping[str, str]] = None) -> None:
        super().__init__()
        self.plans = list(plans)
        self.states = {p.name for p in plans}
        self.renamed = dict(renamed or {})
        self._removed: dict[str, cst.SimpleStatementLine] = {}
        self._annotations: dict[str, cst.BaseExpression] = {}  # from the module-level bindings
        # function -> [(name, how)] parameters to add; calls to it gain the same arguments
        self._threaded: dict[str, list[tuple[str, PassAs]]] = {}
        for plan in self.plans:
            for function, mode in plan.threaded:
                self._threaded.setdefault(function, []).append((plan.name, mode))
        self._chain = {p.handler for p in self.plans} | set(self._threaded)
        self.within = self._chain  # known only now: the functions that gain parameters are entered too

    def visit_Module(self, node: cst.Module) -> bool:
        for stmt in node.body:
            name = _bound_state(stmt, self.states)
            if name is not None and name not in self._annotations:
                annotation = _annotation_of(stmt.body[0])  # type: ignore[attr-defined]
                if annotation is not None:
                    self._annotations[name] = annotation
        return True

    def local(self, state: str) -> str:
        return self.renamed.get(state, state)

    # The bindings are removed first (module body order: they precede their users or not, so the
    # module is rewritten in leave_Module, where every piece has been collected).
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = []
        separation: list[cst.EmptyLine] = []  # blank lines above a removed binding stay in place
        heading: list[cst.EmptyLine] = []  # a comment above it that heads the module's other names
        statements = list(updated_node.body)
        for index, stmt in enumerate(statements):
            name = _bound_state(stmt, self.states)
            if name is not None and name not in self._removed:
                following = statements[index + 1] if index + 1 < len(statements) else None
                kept = _heading(stmt, following)
                self._removed[name] = stmt.with_changes(  # type: ignore[assignment]
                    leading_lines=stmt.leading_lines[:len(stmt.leading_lines) - len(kept)])
                separation = separation or _blank_prefix(stmt.leading_lines)
                heading = heading or (kept if isinstance(following, cst.SimpleStatementLine) else [])
                continue
            if not body and self._removed:
                # The module now starts here: no blank lines above its first statement.
                stmt = stmt.with_changes(leading_lines=[
                    *heading, *stmt.leading_lines[len(_blank_prefix(stmt.leading_lines)):]])
            elif (separation or heading) and not _blank_prefix(stmt.leading_lines):
                stmt = stmt.with_changes(leading_lines=[*separation, *heading, *stmt.leading_lines])
            separation, heading = [], []
            body.append(stmt)
        body = [self._with_created_state(s) for s in body]
        return updated_node.with_changes(body=body)

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        if kinds != ("function",):
            return updated_node  # only module-level functions gain parameters or lose `global`
        name = updated_node.name.value
        for plan in self.plans:
            if name != plan.handler and name not in dict(plan.threaded):
                continue
            if declares_global(updated_node, plan.name):
                block = as_block(updated_node.body)
                updated_node = updated_node.with_changes(
                    body=block.with_changes(body=without_global(block.body, plan.name)))
            if self.local(plan.name) != plan.name:
                updated_node = updated_node.with_changes(
                    body=updated_node.body.visit(_Rename(plan.name, self.local(plan.name))))
        if name in self._threaded:
            updated_node = self._add_parameters(updated_node, self._threaded[name])
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if not self.in_top_level_function(self._chain) or not isinstance(func, cst.Name) \
                or func.value not in self._threaded:
            return updated_node
        args = list(updated_node.args)
        for state, mode in self._threaded[func.value]:
            new = cst.Arg(value=cst.Name(self.local(state)))
            if mode is PassAs.KEYWORD:
                new = new.with_changes(keyword=cst.Name(self.local(state)), equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
            args = append_item(args, new, updated_node.whitespace_before_args, "whitespace_after_arg")
        return updated_node.with_changes(args=args)

    def _add_parameters(self, function: cst.FunctionDef, added: list[tuple[str, PassAs]]) -> cst.FunctionDef:
        params = function.params
        opening = function.whitespace_before_params
        annotated = _is_annotated(function)
        for state, mode in added:
            new = cst.Param(name=cst.Name(self.local(state)))
            if annotated and state in self._annotations:
                new = new.with_changes(annotation=cst.Annotation(annotation=self._annotations[state]))
            if mode is PassAs.POSITIONAL:
                params = params.with_changes(params=append_item(params.params, new, opening, "whitespace_after_param"))
            elif isinstance(params.star_arg, cst.MaybeSentinel):
                # `def f(a, b=1)` -> `def f(a, b=1, *, state)`
                star = cst.ParamStar(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                with_star = append_item(params.params, cst.Param(name=cst.Name("_")), opening, "whitespace_after_param")
                layout = with_star[-1]
                params = params.with_changes(params=with_star[:-1], star_arg=star, kwonly_params=[
                    new.with_changes(whitespace_after_param=layout.whitespace_after_param, comma=layout.comma)])
            else:
                if params.star_kwarg is not None:
                    # before `**kwargs`: a comma after the new parameter, the layout stays the star's
                    new = new.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    params = params.with_changes(kwonly_params=[*_with_comma(params.kwonly_params), new])
                else:
                    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
                    before = params.kwonly_params or star
                    grown = append_item(before, new, opening, "whitespace_after_param")
                    if params.kwonly_params:
                        params = params.with_changes(kwonly_params=grown)
                    else:
                        params = params.with_changes(star_arg=grown[0], kwonly_params=grown[1:])
        return function.with_changes(params=params)

    def _with_created_state(self, stmt: cst.BaseStatement) -> cst.BaseStatement:
        if not isinstance(stmt, cst.FunctionDef):
            return stmt
        moved = []
        for plan in self.plans:
            if plan.handler != stmt.name.value:
                continue
            if plan.created is not None:
                moved.append(cst.parse_statement(plan.created))
            elif plan.name in self._removed:
                line = _for_function_body(self._removed[plan.name])
                if self.local(plan.name) != plan.name:
                    line = line.visit(_Rename(plan.name, self.local(plan.name)))  # type: ignore[assignment]
                moved.append(line)
        if not moved:
            return stmt
        block = as_block(stmt.body)
        preamble, rest = split_preamble(block.body)
        return stmt.with_changes(body=block.with_changes(body=[*preamble, *moved, *rest]))


def _bound_state(stmt: cst.BaseStatement, states: set[str]) -> str | None:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    target = None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target = small.target
    if isinstance(target, cst.Name) and target.value in states:
        return target.value
    return None


# A comment that names a section of module-level names, not the one below it.
_SECTION = re.compile(r"(?i)#+\s*(?:(?:global|module|module-level)\s+)?"
                      r"(?:globals?|vars|variables|state|constants|settings|config(?:uration)?)\s*:?\s*#*\s*$")


def _heading(binding: cst.BaseStatement, following: cst.BaseStatement | None) -> list[cst.EmptyLine]:
    """The comment lines above a binding that head a block of module-level names rather than describe
    the binding: a section's name (`# Global vars`), or any comment when the next statement follows
    it with no blank line. They stay at module level with the next statement, or go when no
    module-level names are left under them."""
    lines = list(getattr(binding, "leading_lines", ()))
    comments = lines[len(_blank_prefix(lines)):]
    if not comments:
        return []
    grouped = isinstance(following, cst.SimpleStatementLine) and not _blank_prefix(following.leading_lines)
    named = any(line.comment is not None and _SECTION.match(line.comment.value) for line in comments)
    return comments if grouped or named else []


def _for_function_body(line: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """Keep the binding's comments, drop the blank lines that separated it at module level."""
    return line.with_changes(leading_lines=_comments_only(line.leading_lines))


def _comments_only(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    return [line for line in lines if line.comment is not None]


def _blank_prefix(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    prefix = []
    for line in lines:
        if line.comment is not None:
            break
        prefix.append(line)
    return prefix


def _with_comma(params: Sequence[cst.Param]) -> list[cst.Param]:
    return [p if isinstance(p.comma, cst.Comma) else p.with_changes(comma=cst.Comma(
        whitespace_after=cst.SimpleWhitespace(" "))) for p in params]



class _Rename(Transformer):
    """Every use of a name becomes another (the rule checked that no nested scope binds it)."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value=self.new) if updated_node.value == self.old else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)  # `obj.RESPONSE` is not the state

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)  # nor `f(RESPONSE=...)`'s keyword


def _is_annotated(function: cst.FunctionDef) -> bool:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params,
             *[p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]]
    return function.returns is not None or any(p.annotation is not None for p in every)


# Constructors whose name is also the type of what they make.
_CONSTRUCTORS = frozenset({"dict", "list", "set", "frozenset", "tuple", "str", "int", "float", "bool",
                           "defaultdict", "OrderedDict", "Counter", "deque"})


def _annotation_of(binding: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    """The binding's own annotation, else the type of its value when the value says it plainly.
    `Final` and `ClassVar` qualify a variable and mean nothing on a parameter: the value's type then."""
    if isinstance(binding, cst.AnnAssign):
        annotation = binding.annotation.annotation
        root = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        qualifier = root.attr if isinstance(root, cst.Attribute) else root
        if not (isinstance(qualifier, cst.Name) and qualifier.value in ("Final", "ClassVar")):
            return annotation
    value = getattr(binding, "value", None)
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return cst.Name("dict")
    if isinstance(value, (cst.List, cst.ListComp)):
        return cst.Name("list")
    if isinstance(value, (cst.Set, cst.SetComp)):
        return cst.Name("set")
    if isinstance(value, cst.Tuple):
        return cst.Name("tuple")
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return cst.Name("str")
    if isinstance(value, cst.Integer):
        return cst.Name("int")
    if isinstance(value, cst.Float):
        return cst.Name("float")
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return cst.Name("bool")
    if isinstance(value, cst.Call):
        func = value.func
        last = func.attr if isinstance(func, cst.Attribute) else func
        if isinstance(last, cst.Name) and last.value in _CONSTRUCTORS:
            return func.with_changes(lpar=[], rpar=[])
    return None
