"""A log handler added to a logger on every invocation: every warm call writes each line once more.

## What it does
Finds `addHandler(...)` (and `addFilter(...)`) on a logger, in the handler or in any function of the
project it reaches: a logger from `logging.getLogger(...)` (the root logger too), whether called right
there, held in a local or bound at module level. Such a call is left alone when it runs at most once
per environment: under a test of the logger's handlers (`if not logger.handlers:`,
`if not logger.hasHandlers():`), or under a cold-start flag the same block sets.

## Why is this bad?
A logger lives as long as the execution environment: `logging` keeps it in a module-level registry.
A handler added on each invocation stays, so on the Nth warm invocation each line is written N times
(and goes N times to CloudWatch, or to the log service the handler sends to), and the handlers hold
what they were built with. The symptom is well known among Lambda users: duplicated log lines that
grow with the warm invocations. `logging.basicConfig(...)` does nothing once the root logger has a
handler, and is not reported.

## Example
```python
import logging

logger = logging.getLogger("orders")


def lambda_handler(event, context):
    logger.addHandler(logging.StreamHandler())
    logger.info("order %s", event["id"])
    return {"handlers": len(logger.handlers)}
```

## Use instead
```python
import logging

logger = logging.getLogger("orders")
logger.addHandler(logging.StreamHandler())


def lambda_handler(event, context):
    logger.info("order %s", event["id"])
    return {"handlers": len(logger.handlers)}
```

## Fix safety
Reported, not rewritten: whether the handler's set-up belongs at module level depends on what it is
built from (a per-request log group, a file under a per-request name), which moving it would freeze
for the environment. Set the logger up at module level, or only when it has no handler yet (`if not
logger.handlers:`). If it is deliberate, put `# lambda-fix: ignore[LF006]` on the line of the call.
"""

from __future__ import annotations

import ast

from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode
from ..analysis.walk import every_node
from ..codes import code_of
from . import Context
from ._diagnosis import Diagnosis
from ._reached import Reached, reached, report, unique

CODE = code_of(__name__)
_ADDING = frozenset({"addHandler", "addFilter"})
_LOGGER_FACTORIES = frozenset({"logging.getLogger", "logging.root"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the text of the module, or of a project module it imports, adds a handler."""
    if "addHandler" in module.source or "addFilter" in module.source:
        return True
    from ..analysis.callers import imported_modules

    return any("addHandler" in other.source or "addFilter" in other.source
               for other in imported_modules(project, module))


def find(context: Context) -> list[Diagnosis]:
    return unique(_report(context.module, at, call) for at in reached(context)
                  for call in _adding_calls(at.owner, at.function)
                  if not at.owner.suppressed(call.lineno, CODE) and not _once(at.owner, at.function, call))


def _report(module: ModuleInfo, at: Reached, call: ast.Call) -> Diagnosis:
    spelled = at.owner.segment(call.func) or "addHandler"
    message = (f"`{spelled}(...)` in {at.where(module)} runs on every invocation of `{at.flow.handler[1]}`: the "
               "logger lives as long as the environment, so each warm invocation adds one more, and each line is "
               "written once more per invocation")
    reason = "set the logger up at module level, or only when it has no handler yet (`if not logger.handlers:`)"
    return report(CODE, module, at, call, message, reason, f"`{spelled}(...)` adds to the logger")


def _adding_calls(module: ModuleInfo, function: FunctionNode) -> list[ast.Call]:
    """`<logger>.addHandler(...)` calls in function (and the functions nested in it)."""
    return [node for node in every_node(function)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _ADDING
            and _is_logger(module, function, node.func.value)]


def _is_logger(module: ModuleInfo, function: FunctionNode, expr: ast.expr) -> bool:
    """`logging.getLogger(...)`, `logging.root`, or a name bound to one (a local, or module-level)."""
    if isinstance(expr, ast.Call):
        return module.qualified_name(expr.func) in _LOGGER_FACTORIES
    if module.qualified_name(expr) in _LOGGER_FACTORIES:
        return True
    if not isinstance(expr, ast.Name):
        return False
    for scope in (function, module.tree):
        for node in every_node(scope) if scope is function else scope.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets):
                return _is_logger(module, function, node.value)
    return False


def _once(module: ModuleInfo, function: FunctionNode, call: ast.Call) -> bool:
    """Is the call under an `if` that tests the logger's handlers (`if not logger.handlers:`), or a
    flag of the module that the same block sets (a cold-start flag)?"""
    for node in every_node(function):
        if not isinstance(node, ast.If) or not any(call is n for stmt in node.body for n in ast.walk(stmt)):
            continue
        test_names = {n.attr if isinstance(n, ast.Attribute) else n.id for n in ast.walk(node.test)
                      if isinstance(n, (ast.Attribute, ast.Name))}
        if test_names & {"handlers", "hasHandlers"}:
            return True
        assigned = {t.id for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Assign, ast.AugAssign))
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        if test_names & assigned & set(module.rebound_in):
            return True
    return False
