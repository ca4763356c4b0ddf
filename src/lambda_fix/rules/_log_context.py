"""Log context one request leaves for the next (LF002 reports it, or fixes it where clearing is
proven right): keys a Powertools `Logger` is given with `append_keys` (or the older
`structure_logs(append=True)`), whether the logger is the handler module's or a shared module's;
structlog context variables bound and never cleared; a module-level `logging.LoggerAdapter` whose
`extra` an invocation changes. Each lives as long as the environment, so every later log line
carries the earlier request's user, order or tenant."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from ..analysis.module import ModuleInfo, is_main_block, statements_within
from ..analysis.project import Project
from ..analysis.requirements import lowest_admitted
from ..analysis.walk import every_node
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan, Span
from ._reached import Reached, reached, report

POWERTOOLS_LOGGERS = frozenset({"aws_lambda_powertools.Logger", "aws_lambda_powertools.logging.Logger",
                                "aws_lambda_powertools.logging.logger.Logger"})
_WORDS = ("append_keys", "structure_logs", "bind_contextvars", "LoggerAdapter")
_BIND = frozenset({"structlog.contextvars.bind_contextvars"})
_CLEAR = frozenset({"structlog.contextvars.clear_contextvars"})
_ADAPTERS = frozenset({"logging.LoggerAdapter"})

_CLEAR_STATE_SINCE = (1, 17)  # the Powertools release that added `inject_lambda_context(clear_state=...)`
Logger = tuple[str, str]  # a Powertools logger: the path of the module that binds it, and its name there


@dataclass(frozen=True)
class ClearLoggerKeys(Plan):
    """The handler's `@logger.inject_lambda_context` decorator gains `clear_state=True`."""

    handler: str
    decorator: Span  # the decorator's expression
    replacement: str

    def functions(self) -> tuple[str, ...]:
        return (self.handler,)


@dataclass(frozen=True)
class ClearContextvars(Plan):
    """The handler's first statement (after its docstring) clears structlog's context variables."""

    handler: str
    call: str  # `structlog.contextvars.clear_contextvars()` or `clear_contextvars()`
    add_import: str | None  # a statement the module needs for it

    def functions(self) -> tuple[str, ...]:
        return (self.handler,)


def may_find(project: Project, module: ModuleInfo) -> bool:
    """The module, or a project module it imports, spells a way to keep log context."""
    if any(word in module.source for word in _WORDS):
        return True
    from ..analysis.callers import imported_modules

    return any(any(word in other.source for word in _WORDS) for other in imported_modules(project, module))


def log_context(context: Context, code: str) -> list[Diagnosis]:
    if not may_find(context.project, context.module):
        return []
    at = [r for r in reached(context) if r.flow.handler[0] == context.module.path]
    return [*_powertools(context, code, at), *_structlog(context, code, at), *_adapters(context, code, at)]


# --- Powertools -------------------------------------------------------------------------------------

def logger_of(project: Project, module: ModuleInfo, name: str, depth: int = 0) -> tuple[Logger, ast.Call] | None:
    """The Powertools logger a global name of module stands for, bound there or imported from a project
    module (`from utils.observability import logger`), with the call that makes it."""
    stmt = _binding(module, name)
    if stmt is not None and isinstance(stmt.value, ast.Call) \
            and module.qualified_name(stmt.value.func) in POWERTOOLS_LOGGERS:
        return (module.path, name), stmt.value
    ref = module.imports.get(name)
    if ref is None or ref.attr is None or depth > 3:
        return None
    found = project.resolve_attribute(ref.dotted, module)
    if found is None or found[0] is module:
        return None
    return logger_of(project, found[0], found[1], depth + 1)


def _powertools(context: Context, code: str, at: list[Reached]) -> list[Diagnosis]:
    """Keys appended to a Powertools logger in code the handler reaches and not cleared per invocation.
    Every Powertools logger of a service shares one formatter, which holds the keys, so clearing any of
    them at entry (`clear_state=True` on the handler's `inject_lambda_context`) clears them all."""
    module, project = context.module, context.project
    found: dict[tuple[str, Logger], Diagnosis] = {}
    for place in at:
        handler = _entry(project, module, place.flow.reached[place.flow.handler])
        for call, spelled in _appends(place):
            logger = logger_of(project, place.owner, spelled)
            key = (getattr(handler, "name", place.flow.handler[1]), logger[0]) if logger else None  # one per entry
            if logger is None or key in found or _clears_keys(project, module, handler):
                continue
            (home, name), _ = logger
            binding = _binding(module, name) if home == module.path else None
            line, column = (binding.lineno, binding.col_offset) if binding else (handler.lineno, handler.col_offset)
            if module.suppressed(line, code) or place.owner.suppressed(call.lineno, code):
                continue
            of = "" if home == module.path else f" (of {project.module_at(home).name or home})"  # type: ignore[union-attr]
            message = (f"Powertools logger `{name}`{of} keeps the keys `{spelled}.{call.func.attr}` adds per request "  # type: ignore[attr-defined]
                       f"(in {place.where(module)}, line {call.lineno}): every later log line of this environment "
                       "carries them")
            related = ((place.owner.path, call.lineno, "the keys are added here"),)
            decorator = _injecting_decorator(project, module, handler)
            if decorator is None:
                found[key] = Diagnosis.reported(code, line, column, message, (
                    f"the handler is not decorated with `@{name}.inject_lambda_context`; decorate it with "
                    f"`@{name}.inject_lambda_context(clear_state=True)` or call `{name}.clear_state()` first"),
                    related=related)
                continue
            owner = project.module_at(home) or module
            if _appends_at_import(owner, name):
                found[key] = Diagnosis.reported(code, line, column, message, (
                    f"module-level code appends keys to `{name}` too, which `clear_state=True` may clear as well"),
                    related=related)
                continue
            lowest = lowest_admitted(module.path, "aws-lambda-powertools")
            if lowest is None or lowest < _CLEAR_STATE_SINCE:
                found[key] = Diagnosis.reported(code, line, column, message, (
                    "`clear_state=True` came with Powertools 1.17, and no requirement of the project says it runs "
                    f"on that or newer ({_requirement(lowest)}); with it, decorate the handler with "
                    f"`@{name}.inject_lambda_context(clear_state=True)`"), related=related)
                continue
            spelled_decorator = module.segment(decorator) or ""
            if "#" in spelled_decorator or (isinstance(decorator, ast.Call)
                                            and any(k.arg is None for k in decorator.keywords)):
                found[key] = Diagnosis.reported(code, line, column, message, (
                    "its decorator's arguments hold a comment or a `**` mapping, which the fix would not edit "
                    f"safely; add `clear_state=True` to `@{name}.inject_lambda_context`"), related=related)
                continue
            replacement = _with_clear_state(module, decorator)
            if replacement is None:
                found[key] = Diagnosis.reported(code, line, column, message,
                                                "its decorator says `clear_state=False`, on purpose maybe",
                                                related=related)
                continue
            plan = ClearLoggerKeys(handler.name, Span(*module.span(decorator)), replacement)
            found[key] = Diagnosis(code, line, column, message,
                                   f"clear `{name}`'s keys when each invocation starts (`clear_state=True`)",
                                   Applicability.SAFE, plan, related=related)
    return list(found.values())


def _requirement(lowest: tuple[int, ...] | None) -> str:
    if lowest is None:
        return "none sets a lower bound for `aws-lambda-powertools`, a layer's version is not known"
    return f"the nearest admits {'.'.join(map(str, lowest))}"


def _entry(project: Project, module: ModuleInfo, handler: ast.AST) -> ast.AST:
    """The function the runtime calls for this handler: itself, or, for a route of an event handler
    (`@app.get(...)`) that is not decorated, the module's one function that injects a Powertools
    logger's context (`@logger.inject_lambda_context def lambda_handler(...): return app.resolve(...)`)."""
    if _injecting_decorator(project, module, handler) is not None:
        return handler
    injecting = [stmt for stmt in module.tree.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and _injecting_decorator(project, module, stmt) is not None]
    return injecting[0] if len(injecting) == 1 else handler


def _appends(place: Reached) -> Iterator[tuple[ast.Call, str]]:
    """`logger.append_keys(...)` and `logger.structure_logs(append=True, ...)` calls in the function."""
    for node in every_node(place.function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            if node.func.attr == "append_keys" or (node.func.attr == "structure_logs" and any(
                    k.arg == "append" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords)):
                yield node, node.func.value.id


def _binding(module: ModuleInfo, name: str) -> ast.Assign | ast.AnnAssign | None:
    """The module-level `name = ...` (or `name: T = ...`)."""
    for stmt in module.tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else \
            [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return stmt  # type: ignore[return-value]
    return None


def _appends_at_import(module: ModuleInfo, logger: str) -> bool:
    for stmt in statements_within([s for s in module.tree.body if not is_main_block(s)]):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("append_keys", "structure_logs") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == logger:
                return True
    return False


def _clears_keys(project: Project, module: ModuleInfo, handler: ast.AST) -> bool:
    """Cleared per invocation: `clear_state=True` on the handler's `inject_lambda_context`, or
    `clear_state()` / `remove_keys(...)` called on a Powertools logger in the handler."""
    decorator = _injecting_decorator(project, module, handler)
    if isinstance(decorator, ast.Call) and any(k.arg == "clear_state" and isinstance(k.value, ast.Constant)
                                               and k.value.value is True for k in decorator.keywords):
        return True
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr in ("clear_state", "remove_keys") and isinstance(n.func.value, ast.Name)
               and logger_of(project, module, n.func.value.id) is not None for n in ast.walk(handler))


def _injecting_decorator(project: Project, module: ModuleInfo, handler: ast.AST) -> ast.expr | None:
    """The handler's `@<a Powertools logger>.inject_lambda_context` decorator."""
    for decorator in getattr(handler, "decorator_list", []):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "inject_lambda_context" \
                and isinstance(target.value, ast.Name) and logger_of(project, module, target.value.id) is not None:
            return decorator
    return None


def _with_clear_state(module: ModuleInfo, decorator: ast.expr) -> str | None:
    """The decorator with `clear_state=True`; None when it sets clear_state itself."""
    text = module.segment(decorator)
    if text is None:
        return None
    if not isinstance(decorator, ast.Call):
        return f"{text}(clear_state=True)"
    if any(k.arg == "clear_state" for k in decorator.keywords):
        return None
    inner = text[:-1].rstrip()  # without its closing parenthesis
    if inner.endswith("("):
        return f"{inner}clear_state=True)"
    return f"{inner}{'' if inner.endswith(',') else ','} clear_state=True)"


# --- structlog --------------------------------------------------------------------------------------

def _structlog(context: Context, code: str, at: list[Reached]) -> list[Diagnosis]:
    """`bind_contextvars(...)` in code the handler reaches, and no `clear_contextvars()` there: the
    runtime calls the handler in the same context each time, so what is bound stays bound."""
    found: dict[str, Diagnosis] = {}
    by_handler: dict[str, list[Reached]] = {}
    for place in at:
        by_handler.setdefault(place.flow.handler[1], []).append(place)
    for handler, places in by_handler.items():
        calls = [(place, node) for place in places for node in every_node(place.function)
                 if isinstance(node, ast.Call) and place.owner.qualified_name(node.func) in _BIND | _CLEAR]
        if not calls or any(place.owner.qualified_name(node.func) in _CLEAR for place, node in calls):
            continue
        place, node = calls[0]
        if place.owner.suppressed(node.lineno, code):
            continue
        message = (f"structlog context variables bound with `bind_contextvars(...)` in {place.where(context.module)} "
                   f"are never cleared: the runtime runs each invocation of `{handler}` in the same context, so "
                   "every later log line of this environment carries them")
        entry = place.flow.reached[place.flow.handler]
        plan = _clearing(context, entry, places)
        if isinstance(plan, ClearContextvars):
            related = ((place.owner.path, node.lineno, "bound here"),)
            found.setdefault(handler, Diagnosis(code, entry.lineno, entry.col_offset, message,
                                                f"clear them when each invocation starts (`{plan.call}`)",
                                                Applicability.SAFE, plan, related=related))
            continue
        found.setdefault(handler, report(code, context.module, place, node, message, (
            f"{plan}; call `structlog.contextvars.clear_contextvars()` first in the handler, or bind with "
            "`structlog.contextvars.bound_contextvars(...)` around the work"), "bound here"))
    return list(found.values())


def _clearing(context: Context, handler: ast.AST, places: list[Reached]) -> ClearContextvars | str:
    """The plan that clears the context variables when the handler starts, as a cold start begins, or
    why that may not be what a cold start does."""
    module = context.module
    if not isinstance(handler, ast.FunctionDef) or handler not in module.tree.body:
        return "the handler is not a module-level function"
    if handler.decorator_list:
        return "a decorator of the handler may bind context before it runs"
    for owner in {id(p.owner): p.owner for p in places}.values():
        for stmt in owner.tree.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(
                    isinstance(n, ast.Call) and owner.qualified_name(n.func) in _BIND for n in ast.walk(stmt)):
                return f"{owner.name or owner.path} binds context when it is imported, which clearing would drop"
    local = next((name for name, ref in module.imports.items() if ref.dotted in _CLEAR), None)
    if local is not None:
        return ClearContextvars(handler.name, f"{local}()", None)
    structlog = next((name for name, ref in module.imports.items() if ref.attr is None and ref.module == "structlog"),
                     None)
    if structlog is not None:
        return ClearContextvars(handler.name, f"{structlog}.contextvars.clear_contextvars()", None)
    if any("clear_contextvars" in names for names in (module.imports, module.functions, module.classes, module.state)):
        return "`clear_contextvars` names something else in the module"
    return ClearContextvars(handler.name, "clear_contextvars()", "from structlog.contextvars import clear_contextvars")


# --- LoggerAdapter ----------------------------------------------------------------------------------

def _adapters(context: Context, code: str, at: list[Reached]) -> list[Diagnosis]:
    """`adapter.extra[key] = ...` or `adapter.extra.update(...)` on a module-level `logging.LoggerAdapter`
    (here or imported) in code the handler reaches, never put back in a `finally`."""
    found: dict[tuple[str, str], Diagnosis] = {}
    changes = [(place, node, name) for place in at for node, name in _extra_changes(context.project, place)]
    restored = {(place.flow.handler[1], name) for place in at for name in _restored(context.project, place)}
    for place, node, name in changes:
        key = (place.flow.handler[1], name)
        if key in found or key in restored or place.owner.suppressed(node.lineno, code):
            continue
        message = (f"`{name}.extra`, the context of a module-level `logging.LoggerAdapter`, is changed per request "
                   f"in {place.where(context.module)}: the adapter lives as long as the environment, so every later "
                   "log line carries this request's values until another changes them")
        found[key] = report(code, context.module, place, node, message, (
            "make the adapter in the handler (`logging.LoggerAdapter(logger, {...})` per invocation), or put "
            "`extra` back in a `finally`"), "changed here")
    return list(found.values())


def _adapter(project: Project, module: ModuleInfo, name: str, depth: int = 0) -> bool:
    """Does the global name stand for a module-level LoggerAdapter, bound here or imported?"""
    stmt = _binding(module, name)
    if stmt is not None:
        return isinstance(stmt.value, ast.Call) and module.qualified_name(stmt.value.func) in _ADAPTERS
    ref = module.imports.get(name)
    if ref is None or ref.attr is None or depth > 3:
        return False
    found = project.resolve_attribute(ref.dotted, module)
    return found is not None and found[0] is not module and _adapter(project, found[0], found[1], depth + 1)


def _extra_of(node: ast.AST) -> str | None:
    """`name.extra` -> name."""
    if isinstance(node, ast.Attribute) and node.attr == "extra" and isinstance(node.value, ast.Name):
        return node.value.id
    return None


def _extra_changes(project: Project, place: Reached, within: ast.AST | None = None) -> Iterator[tuple[ast.AST, str]]:
    for node in every_node(within or place.function):
        name = None
        if isinstance(node, ast.Assign):
            name = next((n for t in node.targets if isinstance(t, ast.Subscript) for n in [_extra_of(t.value)] if n),
                        None)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            name = _extra_of(node.func.value)
        if name and _adapter(project, place.owner, name):
            yield node, name


def _restored(project: Project, place: Reached) -> set[str]:
    return {name for node in every_node(place.function) if isinstance(node, ast.Try)
            for stmt in node.finalbody for _, name in _extra_changes(project, place, stmt)}
