"""Which module-level functions the Lambda runtime calls: the entry points of every analysis."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .module import ModuleInfo
from .scopes import FunctionNode

HANDLER_NAMES = frozenset({"lambda_handler", "handler"})
_EVENT_NAMES = frozenset({"event", "evt", "ev", "e", "_event", "_evt", "_ev", "_e", "_"})
_CONTEXT_NAMES = frozenset({"context", "ctx", "c", "_context", "_ctx", "_c", "_", "__",
                            "lambda_context", "_lambda_context"})

# The cheap test run on raw text before anything is parsed: a module-level def whose name is a
# handler name or whose first parameter looks like an event. False positives only cost a parse.
_CANDIDATE = re.compile(
    r"^(?:async[ \t]+)?def[ \t]+(?:(?:lambda_handler|handler)\b|\w+[ \t]*\(\s*_?(?:event|evt|ev|e)\b)"
    r"|^(?:lambda_handler|handler)[ \t]*=",  # `handler = Service().handle`: bound_entries
    re.MULTILINE,
)


def may_contain_handler(source: str, extra_names: frozenset[str] = frozenset()) -> bool:
    if _CANDIDATE.search(source) or "Chalice(" in source:  # a Chalice app has routes, not a handler
        return True
    return any(re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(n)}\b", source, re.MULTILINE)
               for n in extra_names)


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
    wanted = set(HANDLER_NAMES)
    for entry in extra:
        module_name, _, function_name = entry.rpartition(":")
        if not module_name or _module_matches(module, module_name):
            wanted.add(function_name)
    # A function a dispatcher calls (a Powertools route, a crhelper event) is reached from the real
    # handler; its `(event, context)` signature does not make it one.
    dispatched = {name for names in registered(module).values() for name in names}
    candidates = {name: f for name, f in module.functions.items()
                  if name in wanted or (is_handler_signature(f) and name not in dispatched)}
    if len(candidates) < 2:
        return list(candidates.values())  # most modules: one entry, which nothing else can call
    inner = called_by_other_entries(module, set(candidates))
    return [f for name, f in candidates.items() if name not in inner]


def bound_entries(module: ModuleInfo, extra: tuple[str, ...] = ()) -> list[tuple[str, FunctionNode]]:
    """Handlers that are methods: a handler name bound at module level to a method of an object of
    a class of the module (`handler = Service().handle`, `handler = service.handle` for a module-level
    `service = Service()`), or to such an object whose `__call__` the runtime calls (`handler =
    Handler()`). Returns ("Class.method", the method), in source order."""
    wanted = set(HANDLER_NAMES) | {e.rpartition(":")[2] for e in extra
                                    if not e.rpartition(":")[0] or _module_matches(module, e.rpartition(":")[0])}
    instances: dict[str, ast.ClassDef] = {}
    found: list[tuple[str, FunctionNode]] = []
    for stmt in module.tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        name, value = stmt.targets[0].id, stmt.value
        made = _instance_of(module, value)
        if made is not None and module.binding_counts.get(name) == 1:
            instances[name] = made
        if name not in wanted or name in module.functions or module.binding_counts.get(name) != 1:
            continue
        cls, method = None, None
        if made is not None:
            cls, method = made, "__call__"
        elif isinstance(value, ast.Attribute):
            receiver = value.value
            cls = _instance_of(module, receiver) or (
                instances.get(receiver.id) if isinstance(receiver, ast.Name) else None)
            method = value.attr
        if cls is None or method is None:
            continue
        node = next((s for s in cls.body
                     if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == method),
                    None)
        if node is not None:
            found.append((f"{cls.name}.{method}", node))
    return found


def _instance_of(module: ModuleInfo, value: ast.AST) -> ast.ClassDef | None:
    """The class of the module that `value`, a call `C(...)`, makes."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in module.classes \
            and value.func.id not in module.imports:
        return module.classes[value.func.id]
    return None


def called_by_other_entries(module: ModuleInfo, entries: set[str]) -> set[str]:
    """The entries that another entry calls, directly or through module-level functions of module.

    Such a function runs inside the other's invocation (a helper with an `(event, context)`
    signature, say): it is not where an invocation starts, whatever its name. Entries that call one
    another in a cycle are all kept: none of them is clearly the outer one."""
    calls = {name: _called_names(function) & set(module.functions) for name, function in module.functions.items()}

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


def _called_names(function: FunctionNode) -> set[str]:
    """Names function calls as plain `name(...)`, in its body and the functions nested in it."""
    return {node.func.id for stmt in function.body for node in ast.walk(stmt)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


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
    if "powertools" not in module.source and "crhelper" not in module.source:
        return {}
    return _decorated_by(module, lambda q: q.startswith(_ROUTERS) and "Resolver" in q, _ROUTE_METHODS) | \
        _decorated_by(module, lambda q: q == _CUSTOM_RESOURCE, _CUSTOM_RESOURCE_METHODS)


def framework_entries(module: ModuleInfo) -> list[FunctionNode]:
    """Chalice routes and event functions: Chalice's app object is the handler, so they are entry points."""
    if "chalice" not in module.source:
        return []
    names = [n for found in _decorated_by(module, lambda q: q in _CHALICE, _CHALICE_METHODS).values() for n in found]
    return [module.functions[n] for n in dict.fromkeys(names)]


def _decorated_by(module: ModuleInfo, is_dispatcher, methods: frozenset[str]) -> dict[str, list[str]]:  # noqa: ANN001
    dispatchers = set()
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.Call) and is_dispatcher(module.qualified_name(stmt.value.func) or ""):
            dispatchers.add(stmt.targets[0].id)
    found: dict[str, list[str]] = {}
    for name, function in module.functions.items():
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                    and target.value.id in dispatchers and target.attr in methods:
                found.setdefault(target.value.id, []).append(name)
    return found


def extra_names(extra: tuple[str, ...]) -> frozenset[str]:
    return frozenset(e.rpartition(":")[2] for e in extra)


def _module_matches(module: ModuleInfo, wanted: str) -> bool:
    """`app`, `pkg.app`, `src/app.py`, or an absolute path (from a deployment template)."""
    if wanted.startswith("/"):
        try:
            return Path(module.path).resolve() == Path(wanted)
        except OSError:
            return False
    wanted = wanted.replace("/", ".").removesuffix(".py")
    return module.name == wanted or module.name.endswith("." + wanted)
