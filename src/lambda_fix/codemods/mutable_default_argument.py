"""## What it does
Finds parameters with a mutable default (`[]`, `{}`, `set()`, `defaultdict(list)`, ...) in functions a
Lambda handler reaches, when the function changes the default or hands it out (returns it, stores it,
passes it on), and makes each call create its own.

## Why is this bad?
A default is evaluated once, when the function is defined, so every call that does not pass the
argument shares one object. In Lambda the module lives on between invocations: items one request
added are still there for the next, and the list or dict grows for the life of the environment.

## Example
```python
def add_tag(tag, tags=[]):
    tags.append(tag)
    return tags


def lambda_handler(event, context):
    return {"tags": add_tag(event["tag"])}
```

## Use instead
```python
def add_tag(tag, tags=None):
    if tags is None:
        tags = []
    tags.append(tag)
    return tags


def lambda_handler(event, context):
    return {"tags": add_tag(event["tag"])}
```

## Fix safety
The default becomes `None` and the original expression is evaluated in the body when the argument is
not passed, so each call starts with what the first call of a cold start got. A type annotation becomes
optional, written as the file already writes it (`X | None` or `Optional[X]`; with neither, and no
`from __future__ import annotations`, `Optional[X]` with its import, which every Python version Lambda
runs accepts). A default that is never changed nor handed out is harmless and left alone.

The rewrite is made only when the function runs at most once per invocation (one call site, outside
loops, comprehensions and lambdas, in a function that itself runs at most once, up to the handler). A
function called several times per invocation shares the default between those calls on a cold start
too, and a fresh default per call would change what the later calls see: that is reported, with the
reason, and left as it is.

The fix is safe unless a call in the module passes `None` for the parameter explicitly, which the
original gave to the function as it is and the fix replaces with a new object, or the function is
passed around as a value, so its callers cannot all be seen; then it is unsafe. A deliberate memo
default (`def fetch(key, _cache={})`) can be kept with `# lambda-fix: ignore[LF005]` on the `def` line.
"""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..analysis.defaults import DefaultPlan
from ._edit import PlanCodemod, ScopedTransformer, add_module_statements, as_block, grouped, split_preamble, statement

CODE = "LF005"
NAME = "mutable-default-argument"
SUMMARY = "a mutable default that the function changes or hands out: create it on each call"


class _CreateDefault(ScopedTransformer):
    def __init__(self, plans: Sequence[DefaultPlan]) -> None:
        self.by_function = grouped(plans, lambda plan: plan.function)
        super().__init__(within={function.split(".")[0] for function in self.by_function})

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        plans = self.by_function.get(qualified) if len(kinds) <= 2 else None  # a function or a method
        if not plans:
            return updated_node
        wanted = {plan.parameter: plan for plan in plans}

        def rewrite(param: cst.Param) -> cst.Param:
            plan = wanted.get(param.name.value)
            if plan is None or param.default is None:
                return param
            changes: dict[str, object] = {"default": cst.Name("None")}
            if plan.annotation is not None and param.annotation is not None:
                changes["annotation"] = param.annotation.with_changes(
                    annotation=cst.parse_expression(plan.annotation))
            return param.with_changes(**changes)

        params = updated_node.params
        params = params.with_changes(
            params=[rewrite(p) for p in params.params],
            kwonly_params=[rewrite(p) for p in params.kwonly_params],
            posonly_params=[rewrite(p) for p in params.posonly_params],
        )
        block = as_block(updated_node.body)
        preamble, rest = split_preamble(block.body)
        created = [statement(f"if {plan.parameter} is None:\n    {plan.parameter} = {plan.default_source}\n")
                   for plan in plans]
        return updated_node.with_changes(params=params, body=block.with_changes(body=[*preamble, *created, *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        imports = sorted({p.typing_import for ps in self.by_function.values() for p in ps if p.typing_import})
        return add_module_statements(updated_node, imports)


class CreateDefaultPerCall(PlanCodemod):
    DESCRIPTION = "Replace mutable default arguments with None and create the value in the body."
    TRANSFORMER = _CreateDefault
