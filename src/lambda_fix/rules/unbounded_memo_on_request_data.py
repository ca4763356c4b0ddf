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

from ..analysis.flow import HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, scope_bindings
from ..codes import code_of
from . import Context
from ._diagnosis import Diagnosis

CODE = code_of(__name__)


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the module, or a project module it imports, spells a cache decorator."""
    from ..analysis.callers import imported_modules

    return any("cache" in m.source for m in (module, *imported_modules(project, module)))


def find(context: Context) -> list[Diagnosis]:
    module, project = context.module, context.project
    found: dict[tuple[int, int], Diagnosis] = {}
    for flow in context.flows:
        for key, function in flow.reached.items():
            owner = module if key[0] == module.path else project.module_at(key[0])
            if owner is None or key == flow.handler:
                continue
            decorator = _unbounded_cache(owner, function)
            if decorator is None or owner.suppressed(function.lineno, CODE):
                continue
            given = set(scope_bindings(function).params) & flow.tainted_names.get(key, frozenset())
            if not given:
                continue
            diagnosis = _report(module, owner, flow, key[1], function, decorator, sorted(given))
            found.setdefault((diagnosis.line, diagnosis.column), diagnosis)
    return list(found.values())


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


def _report(module: ModuleInfo, owner: ModuleInfo, flow: HandlerFlow, function: str, node: FunctionNode,
            decorator: str, given: list[str]) -> Diagnosis:
    place = "" if owner is module else f" of {owner.name or owner.path}"
    names = ", ".join(f"`{name}`" for name in given)
    message = (f"`@{decorator}` on `{function}`{place} keeps an entry for every value of {names} that invocations "
               f"of `{flow.handler[1]}` pass it from the request, for the life of the environment: memory grows "
               "with each new value, and the answers are those of the first time each value was seen")
    reason = "bound it (`functools.lru_cache(maxsize=...)`) or give entries a time to live"
    chain = tuple((caller[0], at, f"`{caller[1]}` calls `{callee[1]}`")
                  for caller, callee, at in flow.call_chain((owner.path, function)))
    related = (*chain, (owner.path, node.lineno, f"`{function}` is cached without a bound"))
    if owner is module:
        return Diagnosis.reported(CODE, node.lineno, node.col_offset, message, reason, related=related)
    entry = flow.reached[flow.handler]
    return Diagnosis.reported(CODE, entry.lineno, entry.col_offset, message, reason, related=related)
