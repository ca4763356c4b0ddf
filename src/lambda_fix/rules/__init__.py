"""Decisions: one module per code, named as in the table of rules (codes.py), on the standard `ast`.

Each rule module's docstring is that rule's documentation, and each has the same interface:

- `may_find(project, module) -> bool`: a cheap first test on the module's facts; False means `find`
  would find nothing, so the flow analysis (most of the cost of a run) is skipped when no rule says yes;
- `find(context) -> list[Diagnosis]`: what the rule reports in the handlers' module, each with a typed
  plan (`None` when the problem is reported only) that points at nodes by position or by name;
- optionally `may_find_in_helper(project, module) -> bool`: the rule also fixes modules without a
  handler that handlers of other modules call into (LF004); `find` then gets those handlers' flows.

Rules ask the shared analysis (`analysis/`) for facts and decide what they mean; the fix of a plan
is the codemod of the same name (`codemods/`).

Importing this package is cheap: the rules and the analysis load on first use of `find_all`.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Callable

from ..codes import RULES
from ._diagnosis import Diagnosis, Plan, Span

if TYPE_CHECKING:
    from ..analysis.flow import HandlerFlow
    from ..analysis.module import ModuleInfo
    from ..analysis.project import Project
    from ..analysis.scopes import FunctionNode

__all__ = ["Context", "Diagnosis", "Plan", "Span", "find_all"]


@dataclass
class Context:
    """What every rule's `find` gets: the handlers' module, the flow from each of its handlers, settings."""

    project: Project
    module: ModuleInfo
    flows: list[HandlerFlow]
    allow_state: tuple[str, ...] = ()
    enabled: Callable[[str], bool] = lambda code: True
    # Facts two rules of one family compute once (LF001 and LF002 share the leaking states).
    memo: dict[str, object] = field(default_factory=dict)


def _decision(module_name: str):  # noqa: ANN202 - a rule module
    return importlib.import_module(f"{__name__}.{module_name}")


def find_all(project: Project, module: ModuleInfo, extra_handlers: tuple[str, ...] = (),
             allow_state: tuple[str, ...] = (), enabled: Callable[[str], bool] = lambda code: True,
             unfollowed: list[tuple[str, int, str]] | None = None) -> list[Diagnosis]:
    """Everything fixable or reportable in module, in source order. unfollowed: gets (path, line, what)
    for each call with request data that the analysis of module's handlers could not follow."""
    from ..analysis import flow, handlers

    found = handlers.find_handlers(module, extra_handlers)
    names = {f.name for f in found}
    routes = [f for f in handlers.framework_entries(module, handlers.adapted(project, module)) if f.name not in names]
    objects = handlers.object_entries(module, extra_handlers)
    active = [_decision(rule.module) for rule in RULES if enabled(rule.code)]
    if not found and not routes and not objects:
        return _found_for_other_modules(project, module, extra_handlers, allow_state, active)
    if not any(decision.may_find(project, module) for decision in active):
        return []  # nothing any rule looks for: the flow analysis, most of the cost, is not needed
    flows = [flow.analyze(project, module, handler) for handler in found]
    flows += [flow.analyze(project, module, route, framework=True) for route in routes]
    context = Context(project, module, flows, allow_state, enabled)
    results: list[Diagnosis] = []
    if unfollowed is not None:
        unfollowed.extend((u.function[0], u.line, f"`{u.what}` in `{u.function[1]}`")
                          for f in flows for u in f.unfollowed)
    for decision in active:
        results.extend(_unambiguous(module, d) for d in decision.find(context))
    if objects:
        # A handler that is an object (a bound method, a callable, a factory's result) is analysed as
        # the function the runtime in effect calls; what is found there is reported, as the fixes edit
        # module-level functions only.
        object_flows = [flow.analyze(project, module, node) for node in objects]
        if unfollowed is not None:
            unfollowed.extend((u.function[0], u.line, f"`{u.what}` in `{u.function[1]}`")
                              for f in object_flows for u in f.unfollowed)
        seen = {(d.line, d.column, d.code) for d in results}
        object_context = Context(project, module, object_flows, allow_state, enabled)
        for decision in active:
            for d in decision.find(object_context):
                if (d.line, d.column, d.code) not in seen:
                    seen.add((d.line, d.column, d.code))
                    results.append(_reported_for_an_object(d, module, objects))
    return sorted(results, key=lambda d: (d.line, d.column, d.code))


def _found_for_other_modules(project: Project, module: ModuleInfo, extra_handlers: tuple[str, ...],
                             allow_state: tuple[str, ...], active: list[ModuleType]) -> list[Diagnosis]:
    """A module without a handler that the handlers of other modules of the run call into: what the
    rules that fix such a module find there (those with a `may_find_in_helper` first test, as LF004
    builds a helper's client once), from those handlers' flows."""
    from ..analysis import callers, flow

    helpers = [decision for decision in active
               if hasattr(decision, "may_find_in_helper") and decision.may_find_in_helper(project, module)]
    if not helpers:
        return []
    here = project.resolved(module.path)
    flows = [flow.analyze(project, owner, entry, framework=framework)
             for owner, entry, framework in callers.entries_into(project, module, extra_handlers)]
    flows = [f for f in flows if any(project.resolved(path) == here for path, _ in f.reached)]
    if not flows:
        return []
    context = Context(project, module, flows, allow_state)
    found = [_unambiguous(module, d) for decision in helpers for d in decision.find(context)]
    return sorted(found, key=lambda d: (d.line, d.column, d.code))


def _reported_for_an_object(diagnosis: Diagnosis, module: ModuleInfo, objects: list[FunctionNode]) -> Diagnosis:
    if diagnosis.plan is None:
        return diagnosis
    entry = ", ".join(f"`{ast.get_source_segment(module.source, node.body[0].value.func) or node.name}`"
                      for node in objects)
    return dataclasses.replace(diagnosis, plan=None, fix_title=None, applicability=None, message=(
        f"{diagnosis.message}; not fixed: the handler is an object ({entry}), and lambda-fix rewrites "
        "handlers that are module-level functions"))


def _unambiguous(module: ModuleInfo, diagnosis: Diagnosis) -> Diagnosis:
    """A fix finds the functions it edits by name: when the module binds one of those names more than
    once (defined twice, or defined and rebound), it could edit the wrong one, so it is not made."""
    if diagnosis.plan is None:
        return diagnosis
    for qualified in diagnosis.plan.functions():
        name = qualified.split(".", 1)[0]
        if module.binding_counts.get(name, 0) > 1:
            return dataclasses.replace(diagnosis, plan=None, fix_title=None, applicability=None, message=(
                f"{diagnosis.message}; not fixed: `{name}` is bound more than once in the module, so the fix "
                "cannot tell which definition to change"))
    return diagnosis
