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


_log_handler_added = False


def lambda_handler(event, context):
    global _log_handler_added
    if not _log_handler_added:
        logger.addHandler(logging.StreamHandler())
        _log_handler_added = True
    logger.info("order %s", event["id"])
    return {"handlers": len(logger.handlers)}
```

## Fix safety
The fix adds the handler once per environment, on the first invocation, as a cold start does: a flag
of the module, set when the handler is added and tested before. It is safe, and made only when the
logger and the handler added are the same whatever the request: built from nothing the function's
parameters give (a handler whose format or file holds the request id would otherwise keep the first
request's), in a module-level function's own body (not a nested function's), outside a loop, not
under a condition on the request (the first such request would decide for all the later ones), the
call a statement of its own, the function not also run by module-level code (a cold start would
have run it once already), and the function removes no handler (a handler added and removed in one
call is not piled up). Otherwise it
is reported: set the logger up at module level, or only when it has no handler yet (`if not
logger.handlers:`). If it is deliberate, put `# lambda-fix: ignore[LF006]` on the line of the call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, own_nodes
from ..analysis.walk import every_node
from ..codes import code_of
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan
from ._reached import Reached, reached, report, unique

CODE = code_of(__name__)
_ADDING = frozenset({"addHandler", "addFilter"})
_REMOVING = frozenset({"removeHandler", "removeFilter"})
_FLAG = "_log_handler_added"


@dataclass(frozen=True)
class AddOnce(Plan):
    """`statement` (a call that adds a handler, alone on its line) in `function` runs under
    `if not flag:`, which it sets; the module binds `flag = False` above the function."""

    function: str
    statement: str  # the statement's source, unique in the function
    flag: str

    def functions(self) -> tuple[str, ...]:
        return (self.function,)
_LOGGER_FACTORIES = frozenset({"logging.getLogger", "logging.root"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the text of the module, or of a project module it imports, adds a handler."""
    if "addHandler" in module.source or "addFilter" in module.source:
        return True
    from ..analysis.callers import imported_modules

    return any("addHandler" in other.source or "addFilter" in other.source
               for other in imported_modules(project, module))


def find(context: Context) -> list[Diagnosis]:
    flags: dict[int, str] = {}  # one flag for each call fixed in this module
    return unique(_finding(context.module, at, call, flags) for at in reached(context)
                  for call in _adding_calls(at.owner, at.function)
                  if not at.owner.suppressed(call.lineno, CODE) and not _once(at.owner, at.function, call)
                  and not _removes(at.function))


def _finding(module: ModuleInfo, at: Reached, call: ast.Call, flags: dict[int, str]) -> Diagnosis:
    spelled = at.owner.segment(call.func) or "addHandler"
    message = (f"`{spelled}(...)` in {at.where(module)} runs on every invocation of `{at.flow.handler[1]}`: the "
               "logger lives as long as the environment, so each warm invocation adds one more, and each line is "
               "written once more per invocation")
    why_not = _why_not_fixed(module, at, call)
    if why_not is not None:
        reason = (f"{why_not}; set the logger up at module level, or only when it has no handler yet "
                  "(`if not logger.handlers:`)")
        return report(CODE, module, at, call, message, reason, f"`{spelled}(...)` adds to the logger")
    flag = flags.setdefault(id(call), _free_name(module, len(flags)))
    plan = AddOnce(at.key[1], module.segment(_statement_of(at.function, call)) or "", flag)  # type: ignore[arg-type]
    return Diagnosis(CODE, call.lineno, call.col_offset, message, "add it once per environment, on the first "
                     f"invocation (`if not {flag}:`)", Applicability.SAFE, plan)


def _why_not_fixed(module: ModuleInfo, at: Reached, call: ast.Call) -> str | None:
    """Why the call cannot run once per environment instead, as the fix makes it; None when it can."""
    function = at.function
    if at.owner is not module:
        return "it is in another module"
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function not in module.tree.body:
        return "it is not in a module-level function"
    statement = _statement_of(function, call)
    if statement is None or sum(1 for n in every_node(function) if isinstance(n, ast.stmt)
                                and n.lineno == statement.lineno) > 1:
        return "the call is not a statement of its own in the function's own body"
    if _called_at_import(module, function.name):
        return f"module-level code calls `{function.name}` too, so a cold start has run it already"
    text = module.segment(statement)
    if text is None or sum(1 for n in every_node(function) if isinstance(n, ast.Expr)
                           and module.segment(n) == text) > 1:
        return "the function makes the same call twice"
    if _in_loop(function, statement):
        return "it is in a loop"
    assigned, configured = _request_names(function)
    receiver = {n.id for n in ast.walk(call.func) if isinstance(n, ast.Name)}
    given = {n.id for a in (*call.args, *(k.value for k in call.keywords)) for n in ast.walk(a)
             if isinstance(n, ast.Name)}
    if receiver & assigned or given & configured:
        return "what it adds, or the logger, is built from the function's parameters (the request, maybe)"
    if _conditional_on_request(function, statement, assigned):
        return "it is added only for some requests: the first of them would decide for all the later ones"
    return None


def _statement_of(function: ast.AST, call: ast.Call) -> ast.Expr | None:
    """The statement that is the call, in function's own body (not a nested function's or class's)."""
    return next((n for n in own_nodes(function) if isinstance(n, ast.Expr) and n.value is call), None)


def _conditional_on_request(function: ast.AST, statement: ast.stmt, request: set[str]) -> bool:
    """Is the statement under an `if` (or a conditional) whose test reads what the parameters give?"""
    for node in own_nodes(function):
        if isinstance(node, (ast.If, ast.While)) and any(statement is n for stmt in (*node.body, *node.orelse)
                                                         for n in ast.walk(stmt)):
            if any(isinstance(n, ast.Name) and n.id in request for n in ast.walk(node.test)):
                return True
    return False


def _called_at_import(module: ModuleInfo, name: str) -> bool:
    """Does module-level code call the function (so a cold start has run it once already)?"""
    for stmt in module.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name for n in ast.walk(stmt)):
            return True
    return False


def _in_loop(function: ast.AST, statement: ast.stmt) -> bool:
    return any(isinstance(n, (ast.For, ast.AsyncFor, ast.While)) and any(statement is m for m in ast.walk(n))
               for n in every_node(function))


def _request_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], set[str]]:
    """The names whose value may come from the parameters: through assignments only, and through
    assignments and the methods called on a name (`handler.setFormatter(formatter)`)."""
    arguments = function.args
    params = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    flows: list[tuple[set[str], set[str], bool]] = []  # (targets, names read, through a method call)
    for node in every_node(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flows.append(({n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)},
                          {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}, False))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr)):
            target = node.optional_vars if isinstance(node, ast.withitem) else node.target
            value = node.context_expr if isinstance(node, ast.withitem) else \
                node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.value
            if target is not None:
                flows.append(({n.id for n in ast.walk(target) if isinstance(n, ast.Name)},
                              {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}, False))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            flows.append(({node.func.value.id}, {n.id for a in (*node.args, *(k.value for k in node.keywords))
                                                 for n in ast.walk(a) if isinstance(n, ast.Name)}, True))

    def spread(methods: bool) -> set[str]:
        found = set(params)
        while True:
            more = {t for targets, read, through in flows if (methods or not through) and read & found
                    for t in targets} - found
            if not more:
                return found
            found |= more
    return spread(False), spread(True)


def _removes(function: ast.AST) -> bool:
    """The function takes handlers off too (`removeHandler`, `logger.handlers = []`): nothing piles up."""
    for node in every_node(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _REMOVING:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr in ("handlers", "filters")
                                                for t in node.targets):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "clear" \
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr in ("handlers", "filters"):
            return True
    return False


def _free_name(module: ModuleInfo, taken: int) -> str:
    """_FLAG, or _FLAG_2, ...: a name the module's text does not spell (the fixes before it in this
    module took `taken` of them)."""
    number = 1
    while True:
        name = _FLAG if number == 1 else f"{_FLAG}_{number}"
        if name not in module.source:
            if taken == 0:
                return name
            taken -= 1
        number += 1


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
