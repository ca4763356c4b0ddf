"""LF002's report on state kept inside a module-level object.

`provider = Provider()` at module level, and the handler calls `provider.handle(event)`, whose method
does `self.warnings.append(...)` or `self.seen[key] = ...` with the request's data: the object lives as
long as the environment, so what one invocation puts into it is there for the next, as with a
module-level list. Reported, never rewritten: resetting an object's attributes from outside would
depend on what its class means them to be. Left alone: an object whose methods only read its
attributes, memo caches (`if key not in self.cache: self.cache[key] = ...`), attributes that hold
clients, and counters bumped by a constant.
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..analysis.flow import HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.walk import every_node
from ..codes import code_of
from ._diagnosis import Diagnosis

CODE = code_of("shared_state_leak")  # a part of that rule's decision
_RESETS = frozenset({"reset", "clear", "flush", "reset_state", "clear_state", "close"})
_GROWING = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    return bool(_instances(module, project))


def object_state(project: Project, module: ModuleInfo, flow: HandlerFlow) -> list[Diagnosis]:
    """Reports for module-level instances of project classes whose methods, called by code the handler
    reaches, put request data into the instance."""
    found: list[Diagnosis] = []
    reached = [function for key, function in flow.reached.items() if key[0] == module.path]
    for name, (binding, owner, cls) in _instances(module, project).items():
        if module.suppressed(binding.lineno, CODE):
            continue
        called = {node.func.attr for function in reached for node in every_node(function)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and isinstance(node.func.value, ast.Name) and node.func.value.id == name}
        if called & _RESETS or module.rebound_in.get(name):
            continue  # the handler empties it, or makes a new one
        methods = _with_their_callees(cls, called)
        change = next((c for method in methods for c in _request_data_kept(cls, method)), None)
        if change is None:
            continue
        method, attribute, line, how = change
        where = f" of {owner.name or owner.path}" if owner is not module else ""
        message = (f"module-level `{name}` (a `{cls.name}`{where}) keeps data between invocations of "
                   f"`{flow.handler[1]}`: `{cls.name}.{method}` changes `self.{attribute}` ({how}) with the "
                   f"request's data (line {line}), and the object lives as long as the environment")
        reason = ("its state belongs to its class; build the object in the handler, or empty the attribute "
                  "when the handler starts")
        related = ((owner.path, line, f"`{cls.name}.{method}` changes `self.{attribute}`"),)
        found.append(Diagnosis.reported(CODE, binding.lineno, binding.col_offset, message, reason,
                                        related=related))
    return found


def _instances(module: ModuleInfo, project: Project | None = None
               ) -> dict[str, tuple[ast.Assign, ModuleInfo, ast.ClassDef]]:
    """Module-level names bound once to `C(...)` of a class of this module (or, with project, of a
    project module the module imports it from)."""
    found = {}
    for stmt in module.tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call) and module.binding_counts.get(stmt.targets[0].id) == 1):
            continue
        func = stmt.value.func
        if isinstance(func, ast.Name) and func.id in module.classes and func.id not in module.imports:
            found[stmt.targets[0].id] = (stmt, module, module.classes[func.id])
        elif project is not None:
            qualified = module.qualified_name(func)
            resolved = project.resolve_attribute(qualified, module) if qualified and "." in qualified else None
            if resolved is not None and resolved[1] in resolved[0].classes:
                found[stmt.targets[0].id] = (stmt, resolved[0], resolved[0].classes[resolved[1]])
    return found


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _with_their_callees(cls: ast.ClassDef, called: set[str]) -> list[str]:
    """The methods called, and the methods they call through `self`, in a stable order."""
    methods = _methods(cls)
    pending, seen = sorted(called & set(methods)), []
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.append(name)
        for node in every_node(methods[name]):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "self" \
                    and node.func.attr in methods and node.func.attr not in seen:
                pending.append(node.func.attr)
    return seen


def _request_data_kept(cls: ast.ClassDef, name: str) -> Iterator[tuple[str, str, int, str]]:
    """(method, attribute, line, how) for each change of `self.<attribute>` that keeps what the
    method was given: growing a container with it, or storing it under a key no memo test guards."""
    method = _methods(cls)[name]
    given = _given(method)
    if not given:
        return
    memo = _memo_attributes(cls)
    for node in every_node(method):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _GROWING:
            attribute = _self_attribute(node.func.value)
            if attribute and attribute not in memo and _uses(node, given):
                yield name, attribute, node.lineno, f"`.{node.func.attr}(...)`"
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    attribute = _self_attribute(target.value)
                    if attribute and attribute not in memo and (_uses(target.slice, given) or _uses(node.value, given)):
                        yield name, attribute, node.lineno, "item assignment"


def _given(method: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The method's parameters but `self`, and the locals made from them (request data, as far as the
    method can tell)."""
    params = [a.arg for a in (*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs)][1:]
    given = set(params)
    for node in every_node(method):
        if isinstance(node, ast.Assign) and _uses(node.value, given):
            given |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and _uses(node.iter, given):
            given.add(node.target.id)
    return given


def _uses(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _self_attribute(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _memo_attributes(cls: ast.ClassDef) -> set[str]:
    """Attributes the class looks keys up in (`key in self.cache`, `self.cache.get(key)`): caches."""
    found = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            found |= {a for a in map(_self_attribute, node.comparators) if a}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            attribute = _self_attribute(node.func.value)
            if attribute:
                found.add(attribute)
    return found
