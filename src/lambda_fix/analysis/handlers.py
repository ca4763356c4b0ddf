"""Which module-level functions the Lambda runtime calls: the entry points of every analysis."""

from __future__ import annotations

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
    r"^(?:async[ \t]+)?def[ \t]+(?:(?:lambda_handler|handler)\b|\w+[ \t]*\(\s*_?(?:event|evt|ev|e)\b)",
    re.MULTILINE,
)


def may_contain_handler(source: str, extra_names: frozenset[str] = frozenset()) -> bool:
    if _CANDIDATE.search(source):
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
    return [f for name, f in module.functions.items()
            if name in wanted or is_handler_signature(f)]


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
