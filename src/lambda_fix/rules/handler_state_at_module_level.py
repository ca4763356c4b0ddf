"""## What it does
Finds module-level lists, dicts, sets and counters that a Lambda handler, or a helper it calls,
writes per-request data into, when nothing but the handler's own call chain uses them.

## Why is this bad?
Lambda imports a module once per execution environment and then calls the handler again and
again in the same process. Module-level state therefore outlives the invocation: the next request
sees the records, cache entries or counts of the previous one. Results drift on warm starts, and
one user's data can end up in another user's response.

## Example
```python
results = []


def collect(item):
    results.append(item)


def lambda_handler(event, context):
    for item in event["items"]:
        collect(item)
    return {"count": len(results)}
```

## Use instead
```python
def collect(item, results):
    results.append(item)


def lambda_handler(event, context):
    results = []
    for item in event["items"]:
        collect(item, results)
    return {"count": len(results)}
```

## Fix safety
The fix is safe. It is offered only when every use of the state is in the handler or in module-level
functions that only the handler's call chain calls, directly and by name; when no module-level code,
`__main__` block, class, decorator, default value, other module or `__all__` refers to it (a test that
patches it by its dotted path, `mock.patch("app.CACHE")`, counts: it must stay a module attribute);
when no other module uses a helper that would gain the parameter (its calls there would lack it);
when no comment on or above the binding says it is meant to outlive the invocation; and
when its initial value can be evaluated again without side effects. The handler then creates the state exactly as the
import did, so every invocation runs like a cold start. Helpers gain a parameter, appended to plain
signatures or added as keyword-only where the signature has defaults, `*args` or keywords; every
call is updated. When any condition fails, the state is reset instead (LF002) or reported with the
reason.

The smallest of two edits is made. Moving leaves no module state behind, so it is chosen while it
changes at most two lines more than the other: the handler alone, or one helper gaining the
parameter with one call, unless that helper's docstring lists its parameters (the list would be
wrong). Past that (a response dict that ten helpers fill), the state stays where
it is and the handler gives it a new value when it starts, `global name` and then `name = ...` with
the binding's own initial expression, evaluated again as the move would: the helpers go on reading
and writing the module's name, which holds a new object in every invocation, so each starts as a
cold one does and a value an invocation returned is never changed by a later one. A parameter that
is added takes a local's spelling (`RESPONSE` becomes `response`, in the handler and the helpers
alike) when that name is free in every function the move touches, and an annotation when its
function is annotated: the binding's own, else the type its value is made with (`dict`, `list`,
`set`, `defaultdict`, ...), else none. A comment above a moved binding moves with it, unless it heads
the module's block of names (`# Global vars`, or a block with no blank line between its lines): that
stays at module level, and goes when no name is left under it.

State the handler already resets itself (at entry on every path, or on every way out, exceptions
included) is left alone; a reset that an exception skips is not enough (LF002's page says what counts).

Only entry points are handlers: a function with an `(event, context)` signature that another handler
of the module calls runs inside that handler's invocation, so state is made where the invocation
starts. Values fixed for the environment (environment variables, and the context's
`invoked_function_arn`, `function_name`, `function_version`, `memory_limit_in_mb`, `log_group_name`
and `log_stream_name`) are no request's data.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from typing import Optional

from ..analysis.module import ModuleInfo
from ..analysis.parameters import Threading
from ..analysis.scopes import FunctionNode
from ..analysis.walk import every_node
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan
from ._state_leaks import BUILTIN_NAMES, MOVE, Candidate, candidates, init_names
from ._state_leaks import may_find as may_find
from .shared_state_leak import ResetHow, ResetPlan

CODE = MOVE

# Moving leaves no module state behind (nothing for a later change to leak through, no `global`), so
# it is chosen while it changes at most this many lines more than rebinding at entry would.
MOVE_MARGIN = 2


@dataclass(frozen=True)
class MovePlan(Plan):
    """`threading.name` stops being module-level: the handler creates it, the helpers receive it."""

    threading: Threading
    # What the handler's local and the helpers' parameter are called, when not the state's own name
    # (`RESPONSE` becomes `response`: a constant's spelling is no local's).
    local_name: Optional[str] = None

    def functions(self) -> tuple[str, ...]:
        return (self.threading.handler, *(function for function, _ in self.threading.threaded))


def find(context: Context) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    for candidate in candidates(context):
        move = candidate.move
        if not isinstance(move, Threading) or candidate.owner.suppressed(candidate.binding.node.lineno, CODE):
            continue  # LF002 takes what cannot move; a suppressed move is neither moved nor reset
        rebind = _rebind_plan(candidate, move)
        if rebind is not None and (_move_size(context.module, move) > _rebind_size(candidate) + MOVE_MARGIN
                                   or _documents_parameters(context.module, move)):
            title = f"give `{move.name}` a new value when `{move.handler}` starts"
            found.append(candidate.leak(CODE, fix_title=title, applicability=Applicability.SAFE, plan=rebind))
            continue
        local_name = _local_name(context.module, move, init_names(candidate.binding))
        threaded = ", ".join(f"`{function}`" for function, _ in move.threaded)
        title = f"move `{move.name}` into `{move.handler}`" + (f" and pass it to {threaded}" if threaded else "")
        if local_name:
            title += f" as `{local_name}`"
        found.append(candidate.leak(CODE, fix_title=title, applicability=Applicability.SAFE,
                                    plan=MovePlan(move, local_name)))
    return found


def _rebind_plan(candidate: Candidate, move: Threading) -> ResetPlan | None:
    """`global name; name = <its initial expression>` at the start of the handler, when that gives
    every invocation the value a cold start has: the expression is re-evaluated there, so it must be
    side-effect free (it is, or the state could not move either) and its names unshadowed (checked
    for the move too). A generator handler runs its first line only when iterated: it is moved."""
    handler = candidate.flow.reached[candidate.flow.handler]
    init_source = candidate.owner.segment(candidate.binding.init)
    if init_source is None or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in every_node(handler)):
        return None
    return ResetPlan(handler=move.handler, state=move.name, reference=move.name, how=ResetHow.REBIND,
                     kind=candidate.binding.kind, init_source=init_source, add_import=None,
                     declare_global=True, copy_returns=False)


def _rebind_size(candidate: Candidate) -> int:
    """Lines a rebinding at entry adds: the assignment, and `global name` unless the handler's first
    statement says it already."""
    handler = candidate.flow.reached[candidate.flow.handler]
    body = [s for s in handler.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    declared = bool(body) and isinstance(body[0], ast.Global) and candidate.binding.name in body[0].names
    return 1 if declared else 2


def _move_size(module: ModuleInfo, move: Threading) -> int:
    """Lines a move changes in structure: the binding leaves the module and starts the handler (two),
    and each line that gains a parameter or an argument or loses a `global`. Renaming a constant's
    spelling to a local's follows from the move and is not counted."""
    touched = _touched(module, move)
    threaded = {function for function, _ in move.threaded}
    changed: set[int] = set()
    for function in touched:
        if function.name in threaded:
            params = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
            changed.add(max([function.lineno, *(p.end_lineno or p.lineno for p in params)]))
        for node in every_node(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in threaded:
                changed.add(node.end_lineno or node.lineno)
            elif isinstance(node, ast.Global) and move.name in node.names:
                changed.add(node.lineno)
    return 2 + len(changed)


# A docstring section that lists a function's parameters (Google, NumPy and Sphinx styles).
_PARAMETER_DOCS = re.compile(r"(?m)^\s*(?:Args|Arguments|Parameters|Params|Keyword Args)\s*:?\s*$|:param\s")


def _documents_parameters(module: ModuleInfo, move: Threading) -> bool:
    """Does a helper that would gain the parameter list its parameters in its docstring? The list
    would then be wrong, and writing prose into it is not the fix's place: the state is given a new
    value at entry instead."""
    threaded = {function for function, _ in move.threaded}
    return any(_PARAMETER_DOCS.search(ast.get_docstring(function) or "")
               for function in _touched(module, move) if function.name in threaded)


def _touched(module: ModuleInfo, move: Threading) -> list[FunctionNode]:
    names = [move.handler, *(function for function, _ in move.threaded)]
    return [module.functions[name] for name in names if name in module.functions]


def _local_name(module: ModuleInfo, move: Threading, init: set[str]) -> str | None:
    """`response` for `RESPONSE`: the spelling of a local, when the state's is a constant's and the new
    name is free in every function the move touches and in its initial value (which the handler now
    evaluates), and none of their nested scopes binds the old one (whose uses there are not the
    state's); None to keep the name as it is."""
    if not move.name.isupper():
        return None
    new = move.name.lstrip("_").lower()
    if not new.isidentifier() or keyword.iskeyword(new) or new in BUILTIN_NAMES or new in module.functions \
            or new in init:
        return None
    both = (new, move.name)
    for function in _touched(module, move):
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id == new or isinstance(node, ast.arg) and node.arg in both:
                return None
            if isinstance(node, (ast.Global, ast.Nonlocal)) and new in node.names \
                    or isinstance(node, ast.ExceptHandler) and node.name in both:
                return None
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in both:
                return None
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) in both for a in node.names):
                return None
            if node is not function and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                          ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                if any(isinstance(n, ast.Name) and n.id == move.name and isinstance(n.ctx, (ast.Store, ast.Del))
                       for n in ast.walk(node)):
                    return None
    return new
