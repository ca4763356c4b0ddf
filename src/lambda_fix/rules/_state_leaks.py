"""Module state a handler writes per request: what LF001 (move it) and LF002 (reset it) share.

Each piece of module state that code a handler reaches writes per-request data into is a candidate,
once per (state, handler). LF001 moves a candidate into the handler when nothing else can see it;
LF002 resets the others (and those LF001 is switched off for); a candidate neither can fix is
reported by LF002 with the reason. Counters of invocations and caches filled once per environment
from request data are candidates that are only ever reported: changing them would break code that
keeps them on purpose, or their guard.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from typing import Optional, Union

from ..analysis.aliasing import READ_ONLY_CALLS
from ..analysis.flow import HandlerFlow, Mutation, StateKey
from ..analysis.module import ModuleInfo, StateBinding, is_main_block
from ..analysis.walk import every_node
from ..analysis.parameters import Threading, threading_plan
from ..analysis.project import Project
from ..analysis.scopes import scope_bindings
from ..analysis.walk import remembered
from ..codes import code_of
from . import Context
from ._diagnosis import Diagnosis
from ._state_resets import HandlerReset, handler_reset

MOVE, RESET = code_of("handler_state_at_module_level"), code_of("shared_state_leak")
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Leak(Diagnosis):
    """A piece of module state that carries one request's data into the next (LF001, LF002)."""

    state: StateKey = ("", "")
    handler: str = ""


@dataclass
class Candidate:
    """One piece of leaking state, seen from one handler, with what both rules report about it."""

    flow: HandlerFlow
    owner: ModuleInfo  # the module that binds the state
    binding: StateBinding
    state: StateKey
    line: int  # where findings about it go: the binding, or the handler when another module owns it
    column: int
    message: str
    related: tuple[tuple[str, int, str], ...]
    sharing_handlers: tuple[str, ...]
    where: str  # of its first leaking write: "the handler (line 7)", "`record` (line 3)"
    label: str  # how messages name it: "`cache`", "`records` of helpers"
    # How it can move into the handler (LF001), or why not; None when LF001 is off or another module owns it.
    move: Union[Threading, str, None] = None
    # A number only ever bumped by a constant: it counts this environment's invocations (or some of
    # them), which is a bug in some code and the point of other code. Reported (LF002), never changed.
    counter: bool = False
    # Every leaking write sits in a block that runs once per environment (`if is_cold_start:` that
    # clears the flag, `if not CACHE:`), from per-request data: the first request's data serves the
    # later ones. Reported (LF002), never changed: resetting the state without its guard breaks both.
    filled_once: bool = False
    # The comment on or above the binding says it is meant to outlive an invocation ("shared across
    # invocations", "kept warm"): a fix would go against what the code's author wrote. Reported (LF002).
    declared: Optional[str] = None
    # Lines where the handler resets it before returning, when it does so on every return but not when
    # an exception leaves it (_state_resets.py): the leak is an invocation that raises.
    reset_on_return: tuple[int, ...] = ()
    # Lines where the handler resets it on every way out, after a return value that may be the state
    # itself: the caller receives it emptied. Reported (LF002), never changed.
    empties_returned: tuple[int, ...] = ()
    nested_use: int | None = None  # a function nested in the handler uses it (its line): see HandlerReset

    @property
    def handler(self) -> str:
        return self.flow.handler[1]

    def leak(self, code: str, message: str | None = None, reported: str | None = None, **fields: object) -> Leak:
        """A finding about it: reported with the reason when there is no fix, else with its plan."""
        text = message or self.message
        if reported is not None:
            text = f"{text}; not fixed: {reported}"
        return Leak(code, self.line, self.column, text, related=self.related, state=self.state,
                    handler=self.handler, **fields)  # type: ignore[arg-type]


def may_find(project: Project, module: ModuleInfo) -> bool:
    """LF001's and LF002's first test, answered once per module for both."""
    return bool(remembered(module.tree, "state_may_find", lambda: _may_find(project, module)))


def _may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: is there module state the flow could see a handler of module write?

    Code a handler reaches is in module or in project modules reached through imports, each from
    the module that imports it (flow.py resolves every name through `ModuleInfo.imports`). So state
    matters only in module and the project modules its imports name, theirs, and so on. An import that
    names a package (a directory) opens every module under it: then the answer is yes."""
    seen = {module.path}
    pending = [module]
    while pending:
        current = pending.pop()
        if current.state:
            return True
        for ref in current.imports.values():
            dotted_name = ref.dotted
            if project.names_a_directory(dotted_name, current):
                return True
            parts = dotted_name.split(".")
            for cut in range(len(parts), 0, -1):  # what resolve_attribute may find for dotted.name
                found = project.resolve(".".join(parts[:cut]), current)
                if found is not None and found.path not in seen:
                    seen.add(found.path)
                    pending.append(found)
    return False


def candidates(context: Context) -> list[Candidate]:
    """Every leaking (state, handler) of the context's module, worked out once for both rules."""
    if "state_leaks" not in context.memo:
        context.memo["state_leaks"] = _candidates(context)
    return context.memo["state_leaks"]  # type: ignore[return-value]


def _candidates(context: Context) -> list[Candidate]:
    project, module = context.project, context.module
    handlers_by_state: dict[StateKey, list[str]] = {}
    leaking: list[tuple[HandlerFlow, StateKey, Mutation, HandlerReset]] = []
    counters = _counters(context.flows)
    for flow in context.flows:
        for state_key, first in _leaking_states(flow, counters).items():
            owner = project.module_at(state_key[0])
            if owner is None:
                continue
            binding = owner.state[state_key[1]]
            if _deliberate(owner, binding, context.allow_state):
                continue
            # Every handler whose reach writes the state shares it, whether or not it resets it: a
            # later run must see the same sharing as the first, or it would choose another fix.
            handlers_by_state.setdefault(state_key, []).append(flow.handler[1])
            reset = handler_reset(project, module, flow, owner, binding)
            if reset.every_path:
                continue  # already reset by hand or by an earlier run: no leak, and a fix would be churn
            leaking.append((flow, state_key, first, reset))
    found = []
    for flow, state_key, first, reset in leaking:
        on_return = reset.on_return
        owner = project.module_at(state_key[0])
        assert owner is not None
        binding = owner.state[state_key[1]]
        handler = flow.handler[1]
        where = "" if owner is module else f" of {owner.name or owner.path}"
        in_function = "the handler" if first.function == flow.handler else f"`{first.function[1]}`"
        message = (f"module-level `{binding.name}`{where} keeps data between invocations of `{handler}`: "
                   f"{first.why} in {in_function} (line {first.line})")
        if on_return:
            lines = ", ".join(str(line) for line in on_return)
            message = (f"module-level `{binding.name}`{where} keeps the data of an invocation of `{handler}` that "
                       f"raises: it is reset before the handler returns (line{'s' if len(on_return) > 1 else ''} "
                       f"{lines}), not when an exception leaves it; {first.why} in {in_function} (line {first.line})")
        line, column = (binding.node.lineno, binding.node.col_offset) if owner is module else \
            (flow.reached[flow.handler].lineno, flow.reached[flow.handler].col_offset)
        chain = tuple((caller[0], at, f"`{caller[1]}` calls `{callee[1]}`")
                      for caller, callee, at in flow.call_chain(first.function))
        related = (*chain, (first.function[0], first.line, f"{first.why} in {in_function}"))
        sharing = tuple(handlers_by_state[state_key])
        candidate = Candidate(flow, owner, binding, state_key, line, column, message, related, sharing,
                              f"{in_function} (line {first.line})", f"`{binding.name}`{where}",
                              counter=state_key in counters, reset_on_return=on_return,
                              empties_returned=reset.empties_returned, nested_use=reset.nested_use)
        candidate.filled_once = all(m.filled_once for m in flow.mutations if m.state == state_key and m.leaks)
        candidate.declared = declared_per_environment(owner, binding)
        if candidate.counter or candidate.filled_once or candidate.declared or candidate.empties_returned:
            candidate.move = "it is reported, not moved"  # LF002 says why
        elif owner is module and context.enabled(MOVE):
            candidate.move = _move_plan(project, module, flow, binding, list(sharing))
        found.append(candidate)
    return found


# What a comment says when the state is meant to live as long as the environment.
_PER_ENVIRONMENT = re.compile(
    r"(?i)\b(?:across|between|over|for all|every|subsequent|later|future)\s+(?:warm\s+)?(?:(?:lambda|function)\s+)?"
    r"(?:invocations?|requests?|calls|runs|executions?(?:\s+(?:runtimes?|environments?|contexts?))?)"
    r"|\bwarm[- ](?:start|invocation|container)s?\b|\b(?:survives?|persists?|outlives?)\b"
    r"|\bper[- ](?:container|environment)\b|\bexecution environment\b|\bcontainer (?:reuse|lifetime)\b"
    r"|\bon purpose\b|\bintentionally\b")


def declared_per_environment(owner: ModuleInfo, binding: StateBinding) -> str | None:
    """The comment at the end of the binding's line, or in the comment block right above it, that says
    the state is meant to outlive an invocation; None when none does."""
    node = binding.node
    line, lines = node.lineno, owner.lines
    candidates = []
    end = getattr(node, "end_lineno", line) or line
    if 0 < end <= len(lines):
        after = lines[end - 1][getattr(node, "end_col_offset", 0) or 0:] if end == line else lines[end - 1]
        if "#" in after:
            candidates.append(after[after.index("#"):].strip())
    above = line - 2
    while above >= 0 and lines[above].lstrip().startswith("#"):
        candidates.append(lines[above].strip())
        above -= 1
    # Or above (or at the end of) a function's `global name`, where the code that rebinds it starts.
    name = binding.name
    for statement in every_node(owner.tree) if "global" in owner.source else ():
        if isinstance(statement, ast.Global) and name in statement.names and 0 < statement.lineno <= len(lines):
            at = lines[statement.lineno - 1]
            if "#" in at:
                candidates.append(at[at.index("#"):].strip())
            above = statement.lineno - 2
            while above >= 0 and lines[above].lstrip().startswith("#"):
                candidates.append(lines[above].strip())
                above -= 1
    return next((c for c in candidates if _PER_ENVIRONMENT.search(c)), None)


def _leaking_states(flow: HandlerFlow, counters: set[StateKey]) -> dict[StateKey, Mutation]:
    """Each state's first write that carries data into the next invocation; a counter's first bump."""
    first: dict[StateKey, Mutation] = {}
    for mutation in sorted(flow.mutations, key=lambda m: (m.function != flow.handler, m.line)):
        if (mutation.leaks or mutation.state in counters) and mutation.state not in first:
            first[mutation.state] = mutation
    return first


def _counters(flows: list[HandlerFlow]) -> set[StateKey]:
    """States whose every write, from every handler, bumps them (or an item under a fixed key) by a
    constant: `count += 1`, `stats["calls"] += 1`."""
    bumps: dict[StateKey, bool] = {}
    for flow in flows:
        for mutation in flow.mutations:
            bump = mutation.action in ("augmented assignment", "item augmented assignment") \
                and mutation.constant_value and not mutation.per_request_value  # `n += 1`, `stats["calls"] += 1`
            bumps[mutation.state] = bumps.get(mutation.state, True) and bump
    return {state for state, only_bumps in bumps.items() if only_bumps}


def _deliberate(owner: ModuleInfo, binding: StateBinding, allow_state: tuple[str, ...]) -> bool:
    for entry in allow_state:
        module_name, _, name = entry.rpartition(":")
        if name == binding.name and (not module_name or owner.name == module_name
                                     or owner.name.endswith("." + module_name)):
            return True
    return False


def _move_plan(project: Project, module: ModuleInfo, flow: HandlerFlow, binding: StateBinding,
               sharing_handlers: list[str]) -> Threading | str:
    """How the state moves into the handler, or why it must stay at module level."""
    name, handler = binding.name, flow.handler[1]
    if len(set(sharing_handlers)) > 1:
        return "it is shared by the handlers " + ", ".join(f"`{h}`" for h in sorted(set(sharing_handlers)))
    if not binding.init_pure:
        return "its initial value has side effects or depends on other module state"
    if module.binding_counts[name] != 1:
        return "it is bound more than once at module level"
    if name in module.exported:
        return "it is exported in `__all__`"
    if module.dynamic_globals:
        return "the module uses globals(), vars(), eval or exec"
    local_reached = {key[1] for key in flow.reached if key[0] == module.path}
    users: set[str] = set()
    for use in module.uses.get(name, []):
        if use.where == "module" and use.node is _target_of(binding):
            continue
        if use.where == "module":
            return f"module-level code uses it (line {use.node.lineno})"
        if use.where == "main":
            return f"the `__main__` block uses it (line {use.node.lineno}), and would no longer find it"
        if use.where in ("class", "method"):
            return f"the class `{use.owner}` uses it" if use.owner else "a class uses it"
        if use.where == "signature":
            return f"the signature or decorators of `{use.owner}` use it"
        if use.owner not in local_reached:
            return f"`{use.owner}` uses it, and `{handler}` does not call it"
        users.add(use.owner)  # type: ignore[arg-type]
    threaded = threading_plan(module, flow, name, users)
    if isinstance(threaded, str):
        return threaded
    if project.referenced_elsewhere(module, name):
        return "another module of the project refers to it"
    called_elsewhere = project.threaded_helper_used_elsewhere(module, threaded)
    if called_elsewhere is not None:
        return f"`{called_elsewhere}`, which would receive it as a parameter, is used by another module of the project"
    handler_node = flow.reached[flow.handler]
    if name in scope_bindings(handler_node).local:
        return f"`{handler}` has a local `{name}` already"
    shadowed = init_names(binding) & scope_bindings(handler_node).local
    if shadowed:
        return f"its initial value uses `{sorted(shadowed)[0]}`, which `{handler}` binds locally"
    return Threading(name=name, handler=handler, threaded=threaded)


def _target_of(binding: StateBinding) -> ast.AST:
    node = binding.node
    return node.targets[0] if isinstance(node, ast.Assign) else node.target  # type: ignore[union-attr]


def init_names(binding: StateBinding) -> set[str]:
    """Free names the initial expression reads (not those its comprehensions or lambdas bind)."""
    bound = {n.id for n in ast.walk(binding.init) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(binding.init) if isinstance(n, ast.Lambda) for a in n.args.args}
    return {n.id for n in ast.walk(binding.init) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def written_at_import(owner: ModuleInfo, binding: StateBinding) -> bool:
    """Does code run at import change the state after its binding (so its import-time value is not
    its initial expression)? Writes, decorators, calls given it, calls of functions that use it."""
    name = binding.name
    if any(u.where == "signature" for u in owner.uses.get(name, [])):
        return True  # decorators and defaults run at import, and may register into it
    users = {u.owner for u in owner.uses.get(name, []) if u.where in ("function", "method") and u.owner}
    for node in _import_time_nodes(owner.tree):
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and _root_name(node) == name:
            return True
        if isinstance(node, ast.AugAssign) and _root_name(node.target) == name:
            return True
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and _root_name(func.value) == name:
                if func.attr not in ("get", "copy", "keys", "values", "items", "count", "index"):
                    return True
            elif owner.qualified_name(func) not in READ_ONLY_CALLS and any(
                    _root_name(a) == name for a in [*node.args, *(k.value for k in node.keywords)]):
                return True
            if isinstance(func, ast.Name) and (func.id in users or func.id in owner.classes):
                return True
    return False


def _import_time_nodes(tree: ast.Module):  # noqa: ANN201 - a generator of nodes
    """Nodes of the code that runs at import: everything but function and lambda bodies, and the
    `__main__` block, which runs only when the file is a script."""
    stack: list[ast.AST] = [stmt for stmt in reversed(tree.body) if not is_main_block(stmt)]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue  # signatures are counted through `uses`
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _root_name(expr: ast.AST) -> str | None:
    while isinstance(expr, (ast.Subscript, ast.Attribute, ast.Starred)):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None
