"""## What it does
Finds module-level state that a Lambda handler writes per-request data into but that cannot move into
the handler, because another module owns it, module-level code fills it, several handlers share it,
or classes and closures use it. The fix resets the state when the handler starts; state the handler
returns gets a new object there instead, or is returned as a copy where something else may hold it.

## Why is this bad?
Lambda calls the handler again and again in the same process. Whatever the previous invocation left
in module-level state (records, per-user entries, a region or flag taken from an event) is still
there on the next warm start: results drift, and one user's data can leak into another's response.
Clearing the state by hand is a known trap: `return results` followed by `results.clear()` empties
the very list the caller receives.

## Example
```python
from collections import defaultdict

totals = defaultdict(int)


def add(key, amount):
    totals[key] += amount


def lambda_handler(event, context):
    for record in event["records"]:
        add(record["key"], record["amount"])
    return totals


def report():
    return dict(totals)
```

## Use instead
```python
from collections import defaultdict

totals = defaultdict(int)


def add(key, amount):
    totals[key] += amount


def lambda_handler(event, context):
    global totals
    totals = defaultdict(int)
    for record in event["records"]:
        add(record["key"], record["amount"])
    return totals


def report():
    return dict(totals)
```

## Fix safety
The reset puts the state back to its import-time value at the start of every invocation, even after
an earlier one raised, so each warm start begins like a cold one. The body is not wrapped in a
`try` to reset it again at the end: no line of the handler moves, and code that reads the state after
a call (a project's tests do) still finds what the call left there, as before the fix.

State created empty is cleared; state created with items by a side-effect-free expression gets that
expression again; a name rebound with `global` gets its initial value again. A value the handler
returns must not be emptied by the next invocation's reset: when the handler may return the state,
and nothing but its name holds it (the handler's module binds it once and uses it only inside
functions; no other module imports it, no class body, default or `__all__` refers to it), the
handler gives the name a new object instead, `global name` and its initial expression, and copies
nothing. Otherwise returned values that may refer to the state are deep-copied first (a Lambda
result is JSON data, which deep-copies faithfully). These fixes are safe.

Log context is state too. A Powertools `Logger` keeps the keys `append_keys` (or the older
`structure_logs(append=True)`) adds until they are cleared, so every later log line of the
environment carries the first request's user or order; this holds for a logger a shared module (a
layer, `utils/observability.py`) defines and any code the handler reaches appends to. When the
handler is decorated with `@logger.inject_lambda_context`, the decorator gains `clear_state=True`,
which clears them when each invocation starts, as a cold start begins: safe (the loggers of a service
share the formatter that holds the keys, so clearing one clears them all). `clear_state` came with
Powertools 1.17, so the fix is made only where the requirement nearest to the module
(`requirements.txt`, `pyproject.toml`, `Pipfile`, `setup.cfg`, `setup.py`, up to the repository's
top) admits no older release; otherwise, as when a layer brings Powertools, it is reported. Without
that decorator the keys are reported (adding it would change what the logger logs); so are
`clear_state=False` said explicitly, and keys module-level code appends too (which clearing may drop). structlog context
variables bound with `bind_contextvars(...)` that nothing clears stay bound too (the runtime runs each
invocation in the same context): the handler's first statement becomes
`structlog.contextvars.clear_contextvars()`, safe, as a cold start begins without them; it is
reported instead when a decorator of the handler may bind context before it runs, or a module binds
some when it is imported. Reported as well: the `extra` of a module-level `logging.LoggerAdapter`
changed per request and not put back in a `finally`.

Reported, never changed: state whose own comment says it is meant to outlive the invocation
("shared across invocations", "survives warm starts", "on purpose"), since a fix would go against what
its author wrote; a counter only ever bumped by a constant (`invocations += 1`, also under a
condition on the event), which may count warm starts on purpose; a cache filled once per environment
under a guard the same block changes (`if is_cold_start: ...; is_cold_start = False`, `if not CACHE:`)
from per-request data, since resetting it without its guard would leave every later request with an
empty cache (filled from fixed settings, such a cache is deliberate and not reported). A `__main__`
block is no import-time code: it does not stop a reset, and what it reads after a call is still there.

Left alone, with no finding: state the handler already resets itself. It does when, on every path
through the handler, before anything reads or writes the state (the handler or a function it calls),
a statement empties it or gives it a value that owes nothing to an earlier invocation (`S.clear()`,
`del S[:]`, `S[:] = []`, `global S; S = []` with a new object, `if S: S.clear()`, a rebinding to
whatever a loader returns, `global S; S = json.loads(body)`, or a call of a function of the module
that does so on every way out of it, `load_config(bucket, key)`); or when, on every
way out of the handler (each `return`, the end of its body, and an exception leaving it: a `finally`,
or an `except` that catches everything and goes on to the reset), it gets its initial value back
after its last write. An invocation that raises leaves its data for the next one (a retry of the
same event, say), so a reset before every return that an exception skips is no reset: it is reported
with that reason, and the fix adds the reset at entry without copying what the handler returns (the
handler's own reset already runs before it returns). State the handler may return and resets on its
way out is reported, not fixed: nothing leaks, but the caller receives it emptied. A rebinding is a
reset only when its value reads nothing of the state: `S = S + [x]` and `S = merge(S, event)` keep
what it held, and so does a value that is, or comes out of, other module state (`S = DEFAULTS`,
`S = CACHE.get(key)`); `S.update(...)` changes it in place.

State kept inside a module-level object is reported too: `provider = Provider()` (here or imported),
whose methods the handler calls, putting the request's data into `self.items` or
`self.response["Data"]` (`.append(...)`, item assignment; also in methods a base class in another
module defines), keeps it for the next invocation like a module-level list. What to reset belongs to
the class, so it is not rewritten. Attributes the invocation assigns afresh before it writes them
(`self.response = {...}` in the method the handler calls), memo caches (`if key not in self.cache:`),
objects the handler resets or makes anew, and methods that only read are left alone. So is a container
a class body binds (`records = []`), which every instance shares, even one made per request, when
request data goes into it (`self.records.append(...)`, `cls.seen[key] = ...`); and a library's object
made at module level that the handler hands request data through a method named for storing
(`memory.save_context(...)`), unless the handler empties it.

State that module-level code fills while the module is imported is restored from a deep copy taken
at the end of the import. That fix is unsafe: a deep copy of arbitrary objects (clients, locks,
open files) may fail or behave differently, so it is applied only with `--unsafe-fixes`.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, replace
from typing import Optional

from ..analysis.aliasing import returns_may_reference
from ..analysis.flow import HandlerFlow
from ..analysis.module import ModuleInfo, StateBinding
from ..analysis.parameters import Threading, assigns
from ..analysis.project import Project
from ..analysis.references import name_taken, reexported, reference
from ..analysis.scopes import scope_bindings
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan
from ._state_leaks import BUILTIN_NAMES, RESET, candidates, init_names, written_at_import
from ._log_context import log_context
from ._log_context import may_find as _log_may_find
from ._object_state import may_find as _objects_may_find
from ._object_state import object_state
from ._state_leaks import may_find as _state_may_find

CODE = RESET


def may_find(project: Project, module: ModuleInfo) -> bool:
    """Module state the handlers could reach, or log context (_log_context.py)."""
    return _log_may_find(project, module) or _state_may_find(project, module) or _objects_may_find(project, module)


class ResetHow(enum.Enum):
    CLEAR = "clear"  # created empty: `.clear()`
    RESTORE = "restore"  # created with items by a pure expression: put that expression back
    SNAPSHOT = "snapshot"  # filled at import: restore a deep copy taken at the end of the import
    REBIND = "rebind"  # a name rebound with `global`: assign its initial value again


@dataclass(frozen=True)
class ResetPlan(Plan):
    """The handler resets `reference` when it starts."""

    handler: str
    state: str
    reference: str  # how the handler module spells it: "records", "helpers.records"
    how: ResetHow
    kind: str  # the state's container kind (module facts: "list", "dict", "deque", ...), or "scalar"
    init_source: Optional[str]
    add_import: Optional[str]  # a statement the handler module needs to reach the state
    declare_global: bool  # the handler must say `global state` to rebind it
    copy_returns: bool

    def functions(self) -> tuple[str, ...]:
        return (self.handler,)


def find(context: Context) -> list[Diagnosis]:
    return [*_module_state(context), *log_context(context, CODE), *_objects(context)]


def _objects(context: Context) -> list[Diagnosis]:
    """Module-level instances whose methods keep request data (reported: _object_state.py)."""
    found: dict[int, Diagnosis] = {}
    for flow in context.flows:
        if flow.handler[0] == context.module.path:
            for report in object_state(context.project, context.module, flow):
                found.setdefault(report.line, report)
    return list(found.values())


def _module_state(context: Context) -> list[Diagnosis]:
    """A reset for every candidate LF001 does not move; a report where no reset is possible.

    A suppression comment silences the code that would be reported. A code switched off by
    select/ignore is different: the state falls through to the other fix (`--ignore LF001` resets
    state instead of moving it)."""
    found: list[Diagnosis] = []
    for candidate in candidates(context):
        if isinstance(candidate.move, Threading):
            continue  # LF001 moves it (or was told not to, by a comment)
        binding, owner = candidate.binding, candidate.owner
        if owner.suppressed(binding.node.lineno, CODE):
            continue
        if candidate.counter:
            found.append(candidate.leak(CODE, message=f"module-level {candidate.label} counts the invocations of "
                                        f"this environment: bumped by a constant in {candidate.where}", reported=(
                "a counter may be the point (a metric of warm starts) or a bug; moving or resetting it would "
                "make it count one invocation only, so it is left for you to decide")))
            continue
        if candidate.declared:
            found.append(candidate.leak(CODE, message=None, reported=(
                f"its comment says it is meant to outlive the invocation (`{candidate.declared}`); if it must "
                "not, move it into the handler or reset it there")))
            continue
        if candidate.filled_once:
            found.append(candidate.leak(CODE, message=(
                f"module-level {candidate.label} is filled once per environment with per-request data, in "
                f"{candidate.where}: the first request's data serves every later one"), reported=(
                "it is filled under a guard that runs once (a cold-start flag, an empty-cache test); resetting it "
                "without its guard would leave it empty for every later request, so it is left for you to decide")))
            continue
        if candidate.empties_returned:
            lines = ", ".join(str(line) for line in candidate.empties_returned)
            found.append(candidate.leak(CODE, message=(
                f"`{candidate.handler}` may return module-level {candidate.label} itself and resets it on the "
                f"way out (line {lines}): the caller receives it emptied"), reported=(
                "nothing is carried to the next invocation, but what the handler returns is emptied after it is "
                "computed; return a copy, or reset it when the handler starts instead")))
            continue
        blocker = candidate.move  # why it cannot move, when LF001 asked
        if candidate.nested_use is not None:
            # A reset when the handler starts does not cover what a callback or a returned closure
            # writes after the invocation; and the fix's own reset would not count as one on the next run.
            nested = (f"a reset when `{candidate.handler}` starts would not cover it: a function nested in the "
                      f"handler uses it (line {candidate.nested_use}) and may run after the invocation (a callback, "
                      "a returned closure)")
            found.append(candidate.leak(CODE, message=None, reported=f"{blocker}; and {nested}" if blocker else nested))
            continue
        reset = _reset_plan(context.project, context.module, owner, candidate.flow, binding)
        if isinstance(reset, str):
            reason = f"{blocker}; and cannot reset it: {reset}" if blocker else f"cannot reset it: {reset}"
            found.append(candidate.leak(CODE, message=None, reported=reason))
            continue
        if candidate.reset_on_return and reset.copy_returns:
            # The handler's own reset runs before it returns: what a caller holds is emptied already.
            reset = replace(reset, copy_returns=False)
        applicability = Applicability.UNSAFE if reset.how is ResetHow.SNAPSHOT else Applicability.SAFE
        title = f"reset `{binding.name}` when `{candidate.handler}` starts"
        if reset.copy_returns:
            title += ", returning a copy"
        message = candidate.message + (f"; it cannot move into the handler: {blocker}" if blocker else "")
        found.append(candidate.leak(CODE, message=message, fix_title=title, applicability=applicability,
                                    plan=reset))
    return found


def _reset_plan(project: Project, module: ModuleInfo, owner: ModuleInfo, flow: HandlerFlow,
                binding: StateBinding) -> ResetPlan | str:
    handler = flow.reached[flow.handler]
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(handler)):
        return "the handler is a generator"
    rebound = bool(owner.rebound_in.get(binding.name)) and any(
        assigns(owner.functions[f], binding.name) for f in owner.rebound_in[binding.name] if f in owner.functions)
    filled_at_import = written_at_import(owner, binding)
    init_source = owner.segment(binding.init)
    if binding.kind == "scalar" or rebound:
        if not binding.init_pure or init_source is None:
            return "its initial value cannot be re-created"
        if filled_at_import or owner.binding_counts[binding.name] != 1:
            return "module-level code changes it after its first assignment"
        how = ResetHow.REBIND
    elif binding.kind == "namespace":
        return "a namespace has no way to be emptied in place"
    elif binding.init_empty and not filled_at_import:
        how = ResetHow.CLEAR
    elif binding.init_pure and not filled_at_import and init_source is not None:
        how = ResetHow.RESTORE
    else:
        how = ResetHow.SNAPSHOT
    if how in (ResetHow.RESTORE, ResetHow.REBIND):
        # The initial expression is evaluated again inside the handler: its names must mean there
        # what they meant where the state was bound.
        names = init_names(binding)
        if owner is not module:
            foreign = {n for n in names if n not in BUILTIN_NAMES or module.binding_counts.get(n)}
            if foreign and how is ResetHow.REBIND:
                return f"its initial value uses `{sorted(foreign)[0]}` of {owner.name}"
            if foreign:
                how = ResetHow.SNAPSHOT
        shadowed = names & scope_bindings(handler).local
        if shadowed and how is not ResetHow.SNAPSHOT:
            return f"its initial value uses `{sorted(shadowed)[0]}`, which the handler binds locally"
    spelled_as, add_import = reference(module, owner, binding.name, needs_module=how is ResetHow.REBIND,
                                       is_owners=reexported(project, module, owner, binding.name))
    if spelled_as is None:
        return add_import or "the handler's module cannot refer to it"
    local_names = scope_bindings(handler).local
    if spelled_as.split(".")[0] in local_names:
        return f"the handler has a local `{spelled_as.split('.')[0]}` that hides it"
    if how is ResetHow.SNAPSHOT and name_taken(module, "copy", "copy"):
        return "the module binds `copy` to something other than the copy module"
    copy_returns = how is not ResetHow.REBIND and returns_may_reference(project, module, flow, handler, binding, owner)
    if copy_returns and how is not ResetHow.SNAPSHOT and _nothing_else_holds(project, module, owner, binding, handler):
        # A new object per invocation leaves the one an earlier invocation returned alone: no copies.
        how, copy_returns = ResetHow.REBIND, False
    if copy_returns and name_taken(module, "copy", "copy"):
        return "the module binds `copy` to something other than the copy module"
    return ResetPlan(
        handler=handler.name, state=binding.name, reference=spelled_as, how=how, kind=binding.kind,
        init_source=init_source if how in (ResetHow.RESTORE, ResetHow.REBIND) else None, add_import=add_import,
        declare_global=how is ResetHow.REBIND and owner is module, copy_returns=copy_returns,
    )


def _nothing_else_holds(project: Project, module: ModuleInfo, owner: ModuleInfo, binding: StateBinding,
                        handler: ast.AST) -> bool:
    """Can the handler give the state a new object (`global name; name = <initial expression>`)
    instead of emptying the one there is? Only when nothing but the name holds it: the handler's own
    module binds it once, from a side-effect-free expression that import-time code does not fill,
    and reads it only by name inside functions; no class body, default, decorator, `__all__`,
    `globals()` or other module (`from app import name` keeps the old object) refers to it."""
    name = binding.name
    if owner is not module or not binding.init_pure or owner.segment(binding.init) is None:
        return False
    if owner.binding_counts[name] != 1 or name in owner.exported or owner.dynamic_globals:
        return False
    if written_at_import(owner, binding) or project.referenced_elsewhere(owner, name):
        return False
    node = binding.node
    target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
    if any(use.where not in ("function", "method", "main") and use.node is not target
           for use in owner.uses.get(name, [])):
        return False
    return not init_names(binding) & scope_bindings(handler).local  # type: ignore[arg-type]


