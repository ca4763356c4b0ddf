"""Which module-level functions the Lambda runtime calls: the entry points of every analysis."""

from __future__ import annotations

import ast
import copy
import functools
import os
import re
from typing import TYPE_CHECKING

from .module import ModuleInfo
from .scopes import FunctionNode
from .walk import remembered

if TYPE_CHECKING:
    from .project import Project

HANDLER_NAMES = frozenset({"lambda_handler", "handler"})
_EVENT_NAMES = frozenset({"event", "evt", "ev", "e", "_event", "_evt", "_ev", "_e", "_"})
_CONTEXT_NAMES = frozenset({"context", "ctx", "c", "_context", "_ctx", "_c", "_", "__",
                            "lambda_context", "_lambda_context"})

# The cheap test run on raw text before anything is parsed: a module-level def whose name is a
# handler name or whose first parameter looks like an event. False positives only cost a parse.
_CANDIDATE = re.compile(
    r"^(?:async[ \t]+)?def[ \t]+(?:(?:lambda_handler|handler)\b|\w+[ \t]*\(\s*_?(?:event|evt|ev|e)\b)"
    r"|^(?:lambda_handler|handler)[ \t]*=",  # `handler = Service().handle`: object_entries
    re.MULTILINE,
)
# A route of a web framework's app or router (framework_entries): `@router.get("/items")`.
_ROUTE_TEXT = re.compile(r"^[ \t]*@\w+\.(?:get|post|put|delete|patch|route|api_route|websocket)\(", re.MULTILINE)


def may_contain_handler(source: str, extra_names: frozenset[str] = frozenset()) -> bool:
    if _CANDIDATE.search(source) or "Chalice(" in source or _ROUTE_TEXT.search(source):
        return True
    return bool(extra_names) and _defining(extra_names).search(source) is not None


@functools.lru_cache(maxsize=8)
def _defining(names: frozenset[str]) -> re.Pattern[str]:
    """One pattern for a `def` of any of names: a run's templates may name hundreds of handlers."""
    alternatives = "|".join(sorted(re.escape(n) for n in names))
    return re.compile(rf"^(?:async[ \t]+)?def[ \t]+(?:{alternatives})\b", re.MULTILINE)


def is_handler_signature(function: FunctionNode) -> bool:
    """`(event, context)` and the usual short forms; `(e, c)` alone is too common to count."""
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if len(params) < 2:
        return False
    event, context = params[0], params[1]
    if event not in _EVENT_NAMES or context not in _CONTEXT_NAMES:
        return False
    return len(event.strip("_")) > 1 or len(context.strip("_")) > 1


def find_handlers(module: ModuleInfo, extra: tuple[str, ...] = ()) -> list[FunctionNode]:
    """Handlers in module, in source order. extra: names, or "module:name" for one module only."""
    wanted = handler_names(module, extra)
    # A function a dispatcher calls (a Powertools route, a crhelper event) is reached from the real
    # handler; its `(event, context)` signature does not make it one.
    dispatched = {name for names in registered(module).values() for name in names}
    candidates = {name: f for name, f in module.functions.items()
                  if name in wanted or (is_handler_signature(f) and name not in dispatched)}
    if len(candidates) < 2:
        return list(candidates.values())  # most modules: one entry, which nothing else can call
    inner = called_by_other_entries(module, set(candidates))
    return [f for name, f in candidates.items() if name not in inner]


def object_entries(module: ModuleInfo, extra: tuple[str, ...] = ()) -> list[FunctionNode]:
    """Handlers that are not functions: a handler name bound at module level to a bound method
    (`handler = Service().handle`, `handler = service.handle`, with `Service` here or imported), an
    object whose `__call__` the runtime calls (`handler = Handler()`), or what a factory returns
    (`lambda_handler = Provider.get_handler()`, `handler = make_handler(config)`).

    Each is returned as the function the runtime in effect calls, `def handler(event, context): return
    <value>(event, context)`, placed at the binding: the flow analysis resolves the value as Python
    would (methods along the MRO across modules, `__call__`, a factory's returned function), and what
    it finds is reported at that line. An adapter of a web app (`Mangum(app)`) is not one: its app's
    routes are the entry points (framework_entries)."""
    wanted = handler_names(module, extra)
    found: list[FunctionNode] = []
    for stmt in module.tree.body:
        if not (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None):
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        for target in targets:
            if not isinstance(target, ast.Name) or target.id not in wanted or target.id in module.functions \
                    or module.binding_counts.get(target.id) != 1:
                continue
            if not isinstance(value, (ast.Attribute, ast.Call, ast.Name)) or _adapter(module, value):
                continue
            found.append(_calling(target.id, value, stmt))
    return found


def _calling(name: str, value: ast.expr, at: ast.stmt) -> FunctionNode:
    """`def name(event, context): return value(event, context)`, every node at the binding's place."""
    call = ast.Call(func=copy.deepcopy(value), args=[ast.Name("event", ast.Load()), ast.Name("context", ast.Load())],
                    keywords=[])
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg("event"), ast.arg("context")], vararg=None,
                              kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    function = ast.FunctionDef(name=name, args=arguments, body=[ast.Return(call)], decorator_list=[],
                               returns=None, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        function.type_params = []  # type: ignore[attr-defined]
    for node in ast.walk(function):
        if "lineno" in node._attributes and (node in (function, call) or not hasattr(node, "lineno")):
            ast.copy_location(node, at)
    return function


# Calls that make a Lambda handler of a web application: its routes run per invocation.
_ADAPTERS = frozenset({"mangum.Mangum", "mangum.adapter.Mangum", "apig_wsgi.make_lambda_handler",
                       "serverless_wsgi.handle_request", "awsgi.response", "aws_lambda_wsgi.response",
                       "asgi_aws.Asgi", "a2wsgi.WSGIMiddleware"})
# Words that name those adapters in a file's text (the run holds an adapted app somewhere).
ADAPTER_WORDS = ("Mangum", "serverless_wsgi", "awsgi", "apig_wsgi", "aws_lambda_wsgi", "asgi_aws")


def adapted(project: Project, module: ModuleInfo) -> bool | None:
    """Does the run hold an adapter that makes a handler of a web app (this module's text, or another
    file's)? None when module imports no web framework: the question does not arise."""
    if not _WEB_IMPORTS.search(module.source):
        return None
    return any(word in module.source for word in ADAPTER_WORDS) or \
        any(project.mentioned_elsewhere(module.path, word, word) for word in ADAPTER_WORDS)


def _adapter(module: ModuleInfo, value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and (module.qualified_name(value.func) or "") in _ADAPTERS


def called_by_other_entries(module: ModuleInfo, entries: set[str]) -> set[str]:
    """The entries that another entry calls, directly or through module-level functions of module.

    Such a function runs inside the other's invocation (a helper with an `(event, context)`
    signature, say): it is not where an invocation starts, whatever its name. Entries that call one
    another in a cycle are all kept: none of them is clearly the outer one."""
    tables = _function_tables(module)
    calls = {name: _called_names(function, tables) & set(module.functions)
             for name, function in module.functions.items()}

    def reach(start: str) -> set[str]:
        seen, pending = set(), [start]
        while pending:
            for callee in calls.get(pending.pop(), ()):
                if callee not in seen:
                    seen.add(callee)
                    pending.append(callee)
        return seen

    reached = {entry: reach(entry) for entry in entries}
    return {callee for entry in entries for callee in reached[entry] & entries
            if callee != entry and entry not in reached[callee]}


def _called_names(function: FunctionNode, tables: dict[str, set[str]]) -> set[str]:
    """Names function calls as plain `name(...)`, or through a module-level dict of functions
    (`HANDLERS[kind](event, context)`, `ROUTES.get(kind)(event)`: tables), in its body and the functions
    nested in it."""
    found = set()
    for stmt in function.body:
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                found.add(func.id)
            table = func.value if isinstance(func, ast.Subscript) else \
                func.func.value if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) \
                and func.func.attr == "get" else None
            if isinstance(table, ast.Name):
                found |= tables.get(table.id, set())
    return found


def _function_tables(module: ModuleInfo) -> dict[str, set[str]]:
    """Module-level dicts whose values name functions of the module: name -> those functions."""
    found = {}
    for name, binding in module.state.items():
        if isinstance(binding.init, ast.Dict):
            names = {v.id for v in binding.init.values if isinstance(v, ast.Name) and v.id in module.functions}
            if names:
                found[name] = names
    return found


# Objects whose decorated methods register functions a framework calls once per request.
_ROUTERS = ("aws_lambda_powertools.event_handler.",)
_ROUTE_METHODS = frozenset({"get", "post", "put", "delete", "patch", "head", "options", "route", "resolver"})
_CHALICE = frozenset({"chalice.Chalice", "chalice.app.Chalice", "chalice.Blueprint"})
_CHALICE_METHODS = frozenset({"route", "lambda_function", "on_s3_event", "on_sqs_message", "on_sns_message",
                              "schedule"})
_CUSTOM_RESOURCE = "crhelper.CfnResource"
_CUSTOM_RESOURCE_METHODS = frozenset({"create", "update", "delete", "poll_create", "poll_update", "poll_delete"})


def registered(module: ModuleInfo) -> dict[str, list[str]]:
    """Module-level objects that dispatch a request to registered functions, and those functions:
    a Powertools resolver (`app.resolve(event, context)` calls one `@app.get(...)` route) and a crhelper
    `CfnResource` (`helper(event, context)` calls one of `@helper.create/update/delete`)."""
    if "powertools" not in module.source and "crhelper" not in module.source and ".resolve(" not in module.source:
        return {}
    # A resolver made in a shared module and imported (`from .utils.rest_api_resolver import app`),
    # whose routes this module registers and resolves.
    imported = {name for name in module.imports if f"{name}.resolve(" in module.source}
    return _decorated_by(module, lambda q: q.startswith(_ROUTERS) and "Resolver" in q, _ROUTE_METHODS, imported) | \
        _decorated_by(module, lambda q: q == _CUSTOM_RESOURCE, _CUSTOM_RESOURCE_METHODS)


def framework_entries(module: ModuleInfo, adapted: bool | None = None) -> list[FunctionNode]:
    """Functions a framework calls once per request, so entry points: Chalice routes and event
    functions (Chalice's app object is the handler), and the routes, middleware and error handlers of a
    web app or router (FastAPI, Flask, Starlette, Quart) when an adapter makes a handler of the app
    (`handler = Mangum(app)`, `serverless_wsgi.handle_request(app, event, context)`). adapted: whether
    the run holds such an adapter; None: judged by this module's text alone."""
    names: list[str] = []
    if "chalice" in module.source:
        chalice = _decorated_by(module, lambda q: q in _CHALICE, _CHALICE_METHODS)
        names += [n for found in chalice.values() for n in found]
    if adapted is None:
        adapted = any(word in module.source for word in ADAPTER_WORDS)
    if adapted and _WEB_IMPORTS.search(module.source):
        names += [n for found in _decorated_by(module, lambda q: q in _WEB_APPS, None).values() for n in found]
    return [module.functions[n] for n in dict.fromkeys(names)]


# Web apps and routers whose decorated functions run per request behind an adapter.
_WEB_APPS = frozenset({"fastapi.FastAPI", "fastapi.APIRouter", "fastapi.routing.APIRouter", "flask.Flask",
                       "flask.Blueprint", "starlette.applications.Starlette", "quart.Quart", "quart.Blueprint"})
_WEB_IMPORTS = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:fastapi|flask|starlette|quart)\b", re.MULTILINE)
# Decorators of such an app that register what runs once per environment, not per request.
_ONCE_PER_ENVIRONMENT = frozenset({"on_event", "before_first_request", "before_serving", "after_serving",
                                   "lifespan", "add_event_handler", "while_serving"})


def _decorated_by(module: ModuleInfo, is_dispatcher, methods: frozenset[str] | None,  # noqa: ANN001
                  imported: set[str] | frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """methods: the decorating methods that register; None: any but _ONCE_PER_ENVIRONMENT's.
    imported: names of dispatchers this module imports rather than makes."""
    dispatchers = set(imported)
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.Call) and is_dispatcher(module.qualified_name(stmt.value.func) or ""):
            dispatchers.add(stmt.targets[0].id)
    found: dict[str, list[str]] = {}
    for name, function in module.functions.items():
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                    and target.value.id in dispatchers and (target.attr in methods if methods is not None
                                                            else target.attr not in _ONCE_PER_ENVIRONMENT):
                found.setdefault(target.value.id, []).append(name)
    return found


def extra_names(extra: tuple[str, ...]) -> frozenset[str]:
    return frozenset(e.rpartition(":")[2] for e in extra)


def handler_names(module: ModuleInfo, extra: tuple[str, ...]) -> frozenset[str]:
    """The names a handler of module may have: the usual ones, and those extra gives for every module or
    for this one (names, or "module:name"; templates give many, with absolute paths). Asked once per
    module and extra: a run's templates may name hundreds of functions, each compared with the module."""
    known = remembered(module.tree, "handler_names", dict)
    if extra not in known:
        here = os.path.realpath(module.path)
        wanted = set(HANDLER_NAMES)
        for entry in extra:
            module_name, _, function_name = entry.rpartition(":")
            if not module_name or _module_matches(module, module_name, here):
                wanted.add(function_name)
        known[extra] = frozenset(wanted)
    return known[extra]  # type: ignore[no-any-return]


def _module_matches(module: ModuleInfo, wanted: str, here: str | None = None) -> bool:
    """`app`, `pkg.app`, `src/app.py`, or an absolute path (from a deployment template)."""
    if wanted.startswith("/"):
        try:
            return (here or os.path.realpath(module.path)) == os.path.normpath(wanted)
        except OSError:
            return False
    wanted = wanted.replace("/", ".").removesuffix(".py")
    return module.name == wanted or module.name.endswith("." + wanted)
