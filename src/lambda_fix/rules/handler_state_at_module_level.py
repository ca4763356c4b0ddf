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

Only entry points are handlers: a function with an `(event, context)` signature that another handler
of the module calls runs inside that handler's invocation, so state is made where the invocation
starts. Values fixed for the environment (environment variables, and the context's
`invoked_function_arn`, `function_name`, `function_version`, `memory_limit_in_mb`, `log_group_name`
and `log_stream_name`) are no request's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.parameters import Threading
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan
from ._state_leaks import MOVE, candidates
from ._state_leaks import may_find as may_find

CODE = MOVE


@dataclass(frozen=True)
class MovePlan(Plan):
    """`threading.name` stops being module-level: the handler creates it, the helpers receive it."""

    threading: Threading

    def functions(self) -> tuple[str, ...]:
        return (self.threading.handler, *(function for function, _ in self.threading.threaded))


def find(context: Context) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    for candidate in candidates(context):
        move = candidate.move
        if not isinstance(move, Threading) or candidate.owner.suppressed(candidate.binding.node.lineno, CODE):
            continue  # LF002 takes what cannot move; a suppressed move is neither moved nor reset
        threaded = ", ".join(f"`{function}`" for function, _ in move.threaded)
        title = f"move `{move.name}` into `{move.handler}`" + (f" and pass it to {threaded}" if threaded else "")
        found.append(candidate.leak(CODE, fix_title=title, applicability=Applicability.SAFE, plan=MovePlan(move)))
    return found
