"""LF002's report on state kept inside a module-level object.

`provider = Provider()` at module level, and the handler calls `provider.handle(event)`, whose method
(or a method it inherits from a base class in another module) does `self.warnings.append(...)` or
`self.response["Data"][key] = ...` with the request's data: the object lives as long as the environment,
so what one invocation puts into it is there for the next, as with a module-level list. The flow
analysis follows the methods with their `self` bound to the object (`HandlerFlow.object_mutations`).
Reported, never rewritten: resetting an object's attributes from outside would depend on what its
class means them to be. Left alone: an object whose methods only read its attributes, an attribute the
invocation assigns afresh (`self.response = {...}` in the method the handler calls), memo caches
(`if key not in self.cache: self.cache[key] = ...`), attributes that hold clients, counters bumped by
a constant, and an object the handler builds anew (`global provider; provider = Provider()`).

An object of a class outside the project (a library's) is not seen into. When the handler hands it the
request's data through a method whose name says it stores (`memory.save_context(...)`,
`history.add_message(...)`, `buffer.append(...)`), that is reported too, unless the handler also
empties it (`.clear()`, `.reset()`) or builds it anew: what such an object keeps can't be proven to be
the request's alone. Clients, loggers, HTTP sessions and the like (flow._NOT_KEEPING) send what they
are given elsewhere, and are left alone.
"""

from __future__ import annotations

import ast
import re

from ..analysis.classes import class_of, module_objects, mro, object_named
from ..analysis.flow import library_object, module_level_calls
from ..analysis.flow import Feed, HandlerFlow, Mutation
from ..analysis.walk import every_node
from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..codes import code_of
from ._diagnosis import Diagnosis
from ._reached import chain as call_chain

CODE = code_of("shared_state_leak")  # a part of that rule's decision
# A call of something picked at run time: the flow says where it could not follow request data.
_PICKED_AT_RUN_TIME = re.compile(r"\bgetattr\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)\(|\w\]\(")
_EMPTYING = frozenset({"clear", "reset", "flush", "reset_state", "clear_state", "close", "clear_history"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A module-level object here (of a project class, or a library's that may keep what it is given),
    or a lower-case name imported from a project module that is one there (`from services import
    provider`)."""
    if _PICKED_AT_RUN_TIME.search(module.source):
        return True  # `getattr(obj, name)(event)`, `TABLE[kind](event)`: said when not followed
    if any(_binds_a_container(cls) for cls in module.classes.values()) or any(
            ref.attr and name[:1].isupper() and _imported_class_binds_a_container(project, module, name)
            for name, ref in module.imports.items()):
        return True  # `items = []` in a class body (here or imported): shared by every instance
    return bool(module_objects(project, module)) or any(
        library_object(project, module, name) is not None for name in module_level_calls(module)) or any(
        ref.attr and name.islower() and (object_named(project, module, name) or library_object(project, module, name))
        for name, ref in module.imports.items())


def _imported_class_binds_a_container(project: Project, module: ModuleInfo, name: str) -> bool:
    found = class_of(project, module, ast.Name(name, ast.Load()))
    return found is not None and any(_binds_a_container(c) for _, c in mro(project, *found))


def _binds_a_container(cls: ast.ClassDef) -> bool:
    return any(isinstance(statement, (ast.Assign, ast.AnnAssign)) and isinstance(
        statement.value, (ast.List, ast.Dict, ast.Set, ast.Call)) for statement in cls.body)


def object_state(project: Project, module: ModuleInfo, flow: HandlerFlow) -> list[Diagnosis]:
    """Reports for module-level objects of project classes into which code the handler reaches puts
    request data."""
    by_object: dict[tuple[str, str], list[Mutation]] = {}
    for mutation in flow.object_mutations:
        by_object.setdefault(mutation.state, []).append(mutation)
    found: list[Diagnosis] = []
    for (path, name), mutations in by_object.items():
        owner = module if path == module.path else project.module_at(path)
        if owner is None:
            continue
        known = object_named(project, owner, name)
        if known is None and name in owner.classes:
            found += _class_state(project, module, flow, owner, owner.classes[name], mutations)
            continue
        if known is None:
            continue
        _, _, class_module, cls = known
        if any(m.attribute is None for m in mutations):
            continue  # the handler makes a new object (`global provider; provider = Provider()`)
        renewed = {m.attribute for m in mutations if m.rebinds_attribute and not m.per_request_condition
                   and m.action == "attribute assignment"}
        renewed |= {m.attribute for m in mutations if m.action == "clear"}
        caches = _memo_attributes(project, class_module, cls)
        kept = next((m for m in sorted(mutations, key=lambda m: (m.function != flow.handler, m.line))
                     if m.leaks and m.attribute not in renewed and m.attribute not in caches
                     and not (m.constant_value and "augmented" in m.action)), None)
        if kept is None:
            continue
        binding = _binding(owner, name)
        if binding is None or owner.suppressed(binding.lineno, CODE):
            continue
        method = kept.function[1]
        where = f" of {class_module.name or class_module.path}" if class_module is not owner else ""
        place = f" of {owner.name or owner.path}" if owner is not module else ""
        message = (f"module-level `{name}`{place} (a `{cls.name}`{where}) keeps data between invocations of "
                   f"`{flow.handler[1]}`: `{method}` changes `self.{kept.attribute}` ({kept.why}, line "
                   f"{kept.line}), and the object lives as long as the environment")
        reason = ("its state belongs to its class; build the object in the handler, or empty the attribute "
                  "when the handler starts")
        chain = call_chain(flow, kept.function)
        related = (*chain, (kept.function[0], kept.line, f"`{method}` changes `self.{kept.attribute}`"))
        line, column = (binding.lineno, binding.col_offset) if owner is module else \
            (flow.reached[flow.handler].lineno, flow.reached[flow.handler].col_offset)
        found.append(Diagnosis.reported(CODE, line, column, message, reason, related=related))
    return found + _fed(project, module, flow)


def _class_state(project: Project, module: ModuleInfo, flow: HandlerFlow, owner: ModuleInfo, cls: ast.ClassDef,
                 mutations: list[Mutation]) -> list[Diagnosis]:
    """A container the class body binds (`items = []`), which every instance shares, written with request
    data through an instance or the class (`self.items.append(...)`, `cls.cache[key] = ...`)."""
    caches = _memo_attributes(project, owner, cls)
    kept = next((m for m in sorted(mutations, key=lambda m: (m.function != flow.handler, m.line))
                 if m.leaks and m.attribute not in caches and not m.rebinds_attribute
                 and not (m.constant_value and "augmented" in m.action)), None)
    if kept is None or owner.suppressed(cls.lineno, CODE):
        return []
    place = f" of {owner.name or owner.path}" if owner is not module else ""
    in_function = "the handler" if kept.function == flow.handler else f"`{kept.function[1]}`"
    message = (f"class attribute `{cls.name}.{kept.attribute}`{place} keeps data between invocations of "
               f"`{flow.handler[1]}`: {kept.why} in {in_function} (line {kept.line}); the class body binds it once, "
               "so every instance, also one made per request, shares it for the life of the environment")
    reason = (f"give each instance its own (`self.{kept.attribute} = ...` in `__init__`), or empty it when the "
              "handler starts")
    chain = call_chain(flow, kept.function)
    related = (*chain, (kept.function[0], kept.line, f"{kept.why} in {in_function}"))
    line, column = (cls.lineno, cls.col_offset) if owner is module else \
        (flow.reached[flow.handler].lineno, flow.reached[flow.handler].col_offset)
    return [Diagnosis.reported(CODE, line, column, message, reason, related=related)]


def _fed(project: Project, module: ModuleInfo, flow: HandlerFlow) -> list[Diagnosis]:
    """Reports for module-level objects of library classes that the handler hands request data to
    through a storing method, and never empties or rebuilds."""
    first: dict[tuple[str, str], Feed] = {}
    for feed in sorted(flow.feeds, key=lambda f: (f.function != flow.handler, f.line)):
        first.setdefault(feed.state, feed)
    found = []
    for (path, name), feed in first.items():
        owner = module if path == module.path else project.module_at(path)
        if owner is None or owner.rebound_in.get(name) or _emptied(flow, name):
            continue
        binding = _binding(owner, name)
        if binding is None or owner.suppressed(binding.lineno, CODE):
            continue
        library, _, kind = feed.constructor.rpartition(".")
        place = f" of {owner.name or owner.path}" if owner is not module else ""
        in_function = "the handler" if feed.function == flow.handler else f"`{feed.function[1]}`"
        message = (f"module-level `{name}`{place} (a `{kind}` of {library}) is handed the request's data on "
                   f"invocations of `{flow.handler[1]}`: `{name}.{feed.method}(...)` in {in_function} (line "
                   f"{feed.line}) stores it by its name, and the object lives as long as the environment, so "
                   "the next invocation may see it")
        reason = ("lambda-fix cannot see into its class; build it in the handler, or empty it when the handler "
                  "starts")
        chain = call_chain(flow, feed.function)
        related = (*chain, (feed.function[0], feed.line, f"`{name}.{feed.method}(...)` is given the request's data"))
        line, column = (binding.lineno, binding.col_offset) if owner is module else \
            (flow.reached[flow.handler].lineno, flow.reached[flow.handler].col_offset)
        found.append(Diagnosis.reported(CODE, line, column, message, reason, related=related))
    return found


def _emptied(flow: HandlerFlow, name: str) -> bool:
    """Does code the handler reaches empty the object (`memory.clear()`)?"""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _EMPTYING
               and isinstance(node.func.value, ast.Name) and node.func.value.id == name
               for function in flow.reached.values() for node in every_node(function))


def _binding(owner: ModuleInfo, name: str) -> ast.stmt | None:
    for stmt in owner.tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) \
            else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return stmt
    return None


def _memo_attributes(project: Project, module: ModuleInfo, cls: ast.ClassDef) -> set[str]:
    """Attributes the class (or a base) looks keys up in (`key in self.cache`, `self.cache.get(key)`):
    caches, whose answers a fresh computation would give again."""
    found = set()
    for _, candidate in mro(project, module, cls):
        for node in ast.walk(candidate):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                found |= {a for a in map(_self_attribute, node.comparators) if a}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                attribute = _self_attribute(node.func.value)
                if attribute:
                    found.add(attribute)
    return found


def _self_attribute(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return node.attr
    return None
