"""Which names a function binds, and which `Name` nodes in it refer to module globals."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Union

from .walk import children, every_node, remembered

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
ScopeNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                  ast.DictComp, ast.GeneratorExp]
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# match-statement patterns that bind a name, and the field holding it (by name: 3.9 has no ast.Match*)
_MATCH_CAPTURES = {"MatchAs": "name", "MatchStar": "name", "MatchMapping": "rest"}


@dataclass(frozen=True)
class Bindings:
    local: frozenset[str]  # bound in the scope and not declared global or nonlocal
    declared_global: frozenset[str]
    declared_nonlocal: frozenset[str]
    params: tuple[str, ...]


def parameter_names(args: ast.arguments) -> tuple[str, ...]:
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append(args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return tuple(names)


def scope_bindings(scope: ScopeNode) -> Bindings:
    """Names a function, lambda or comprehension scope binds (Python's own rules, simplified)."""
    return remembered(scope, "bindings", lambda: _scope_bindings(scope))


def _scope_bindings(scope: ScopeNode) -> Bindings:
    bound: set[str] = set()
    declared_global: set[str] = set()
    declared_nonlocal: set[str] = set()
    if isinstance(scope, _COMPREHENSIONS):
        params: tuple[str, ...] = ()
        for gen in scope.generators:
            bound.update(_target_names(gen.target))
    else:
        params = parameter_names(scope.args)
        bound.update(params)
    for node in own_nodes(scope):
        if isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            declared_nonlocal.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif type(node).__name__ in _MATCH_CAPTURES:
            name = getattr(node, _MATCH_CAPTURES[type(node).__name__])
            if name:
                bound.add(name)
    return Bindings(
        local=frozenset(bound - declared_global - declared_nonlocal),
        declared_global=frozenset(declared_global),
        declared_nonlocal=frozenset(declared_nonlocal),
        params=params,
    )


def _target_names(target: ast.AST) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


def own_nodes(scope: ScopeNode) -> list[ast.AST]:
    """Nodes evaluated in this scope (computed once: bindings and global references both need them)."""
    return remembered(scope, "own_nodes", lambda: list(_walk_own_nodes(scope)))  # type: ignore[no-any-return]


def _walk_own_nodes(scope: ScopeNode) -> Iterator[ast.AST]:
    """Nodes evaluated in this scope: nested scopes' bodies are left out, their names kept.

    Walrus targets inside comprehensions bind in the enclosing function (PEP 572), so a
    comprehension's NamedExpr targets are yielded for the enclosing scope.
    """
    if isinstance(scope, ast.Lambda):
        roots: list[ast.AST] = [scope.body]
    elif isinstance(scope, _COMPREHENSIONS):
        roots = [scope.elt] if not isinstance(scope, ast.DictComp) else [scope.key, scope.value]
        for gen in scope.generators[1:]:
            roots.append(gen.iter)
        for gen in scope.generators:
            roots.extend(gen.ifs)
    else:
        roots = list(scope.body)
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend(node.decorator_list)
            stack.extend(default_values(node.args))
            if node.returns:
                stack.append(node.returns)
            continue
        if isinstance(node, ast.ClassDef):
            stack.extend(node.decorator_list)
            stack.extend(node.bases)
            stack.extend(k.value for k in node.keywords)
            continue
        if isinstance(node, ast.Lambda):
            stack.extend(default_values(node.args))
            continue
        if isinstance(node, _COMPREHENSIONS):
            stack.append(node.generators[0].iter)  # evaluated in the enclosing scope
            stack.extend(n.target for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
            continue
        stack.extend(children(node))


def default_values(args: ast.arguments) -> list[ast.expr]:
    """The default values of a function's or lambda's parameters."""
    return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]


def global_name_refs(function: FunctionNode) -> Iterator[tuple[ast.Name, bool]]:
    """Every `Name` in function (and scopes nested in it) that refers to a module global.

    Yields (node, nested): nested is True when the reference sits in a nested function,
    lambda or comprehension, where it is a closure over whatever the function binds.
    """
    yield from remembered(function, "global_refs", lambda: list(_refs(function, enclosing=frozenset(), nested=False)))


def _refs(scope: ScopeNode, enclosing: frozenset[str], nested: bool) -> Iterator[tuple[ast.Name, bool]]:
    bindings = scope_bindings(scope)
    hidden = (enclosing | bindings.local | bindings.declared_nonlocal) - bindings.declared_global
    for node in own_nodes(scope):
        if isinstance(node, ast.Name):
            if node.id in bindings.declared_global or node.id not in hidden:
                yield node, nested
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda) + _COMPREHENSIONS):
            # Class bodies do not enclose, but functions and comprehensions do.
            yield from _refs(node, hidden if node is not scope else enclosing, nested=True)


def assigned_once(function: FunctionNode, name: str) -> ast.expr | None:
    """The value a local is given, when a single plain assignment is the only way the function binds it."""
    values = []
    for node in every_node(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if len(node.targets) != 1:
                return None
            values.append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith,
                               ast.NamedExpr)):
            targets = [getattr(node, "target", None), *[getattr(i, "optional_vars", None)
                                                        for i in getattr(node, "items", [])]]
            if any(t is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(t))
                   for t in targets):
                return None
    return values[0] if len(values) == 1 else None
