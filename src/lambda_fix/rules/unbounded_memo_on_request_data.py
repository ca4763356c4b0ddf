"""An unbounded memo keyed by request data: memory grows with every warm call, and answers go stale.

## What it does
Finds functions cached without a bound (`@functools.cache`, `@functools.lru_cache(maxsize=None)`)
that code the handler reaches calls with data from the request: each distinct value (a user id, a key,
a query) adds an entry that stays for the life of the execution environment. Bounded caches
(`@lru_cache()`, `@lru_cache(maxsize=256)`) and unbounded ones called only with values fixed for the
environment (an accessor of a client, a setting) are left alone.

## Why is this bad?
A warm environment serves thousands of invocations. An unbounded memo keyed by what requests bring
grows with each new value until the function runs out of memory (and the environment is replaced in
the middle of a request), and what it returns for a user is what was true the first time that user
was seen: a changed record, a revoked permission, a new price are not seen while the environment
lives.

## Example
```python
import functools


@functools.cache
def profile(user_id):
    return {"id": user_id, "tier": "gold" if user_id.startswith("vip") else "basic"}


def lambda_handler(event, context):
    return profile(event["user_id"])
```

## Use instead
```python
import functools


@functools.lru_cache(maxsize=256)
def profile(user_id):
    return {"id": user_id, "tier": "gold" if user_id.startswith("vip") else "basic"}


def lambda_handler(event, context):
    return profile(event["user_id"])
```

## Fix safety
Reported, not rewritten: the right bound, or a time to live (`cachetools.TTLCache`), depends on how
many values requests bring and how fresh answers must be. If it is deliberate, put
`# lambda-fix: ignore[LF008]` on the line of the `def`.
"""

from __future__ import annotations

import ast

from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, scope_bindings
from ..codes import code_of
from . import Context
from ._diagnosis import Diagnosis
from ._reached import Reached, reached, report, unique

CODE = code_of(__name__)


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the module, or a project module it imports, spells a cache decorator."""
    from ..analysis.callers import imported_modules

    return any("cache" in m.source for m in (module, *imported_modules(project, module)))


def find(context: Context) -> list[Diagnosis]:
    found = []
    for at in reached(context):
        decorator = _unbounded_cache(at.owner, at.function) if at.key != at.flow.handler else None
        if decorator is None or at.owner.suppressed(at.function.lineno, CODE):
            continue
        given = set(scope_bindings(at.function).params) & at.flow.tainted_names.get(at.key, frozenset())
        if given:
            found.append(_report(context.module, at, decorator, sorted(given)))
    return unique(found)


def _unbounded_cache(module: ModuleInfo, function: FunctionNode) -> str | None:
    """The decorator's text when it caches without a bound: `functools.cache`, `lru_cache(maxsize=None)`."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = module.qualified_name(target)
        if name == "functools.cache":
            return module.segment(decorator) or "functools.cache"
        if name == "functools.lru_cache" and isinstance(decorator, ast.Call):
            size = decorator.args[0] if decorator.args else next(
                (k.value for k in decorator.keywords if k.arg == "maxsize"), None)
            if isinstance(size, ast.Constant) and size.value is None:
                return module.segment(decorator) or "functools.lru_cache(maxsize=None)"
    return None


def _report(module: ModuleInfo, at: Reached, decorator: str, given: list[str]) -> Diagnosis:
    names = ", ".join(f"`{name}`" for name in given)
    message = (f"`@{decorator}` on {at.where(module)} keeps an entry for every value of {names} that invocations "
               f"of `{at.flow.handler[1]}` pass it from the request, for the life of the environment: memory grows "
               "with each new value, and the answers are those of the first time each value was seen")
    reason = "bound it (`functools.lru_cache(maxsize=...)`) or give entries a time to live"
    return report(CODE, module, at, at.function, message, reason, f"`{at.key[1]}` is cached without a bound")
