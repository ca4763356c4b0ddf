"""The process environment written with request data: later requests, and code that reads it, see it.

## What it does
Finds writes of the process environment with data from the request, in the handler or in any
function of the project it reaches: `os.environ[NAME] = value`, `os.environ.update(...)`,
`os.environ.setdefault(...)` and `os.putenv(...)`, where the value (or the name) comes from the event,
the context or anything derived from them. Writes of values fixed for the environment (constants, other
variables of the environment) are left alone, and so is a write undone in a `finally` of the same
function (`os.environ.pop(NAME)` or a restore of the saved value).

## Why is this bad?
The environment belongs to the process, which serves every invocation of the execution environment.
What one request writes there is what the next request reads, unless it writes again; a library that
reads the variable once, at import or on first use (a region, a profile, a tenant), keeps the first
request's value for the life of the environment. Requests that skip the write, or fail before it, run
with another request's value.

## Example
```python
import os


def lambda_handler(event, context):
    os.environ["TENANT"] = event["tenant"]
    return {"tenant": os.environ["TENANT"]}
```

## Use instead
```python
import os


def lambda_handler(event, context):
    if _TENANT_AT_IMPORT is None:
        os.environ.pop("TENANT", None)
    else:
        os.environ["TENANT"] = _TENANT_AT_IMPORT
    os.environ["TENANT"] = event["tenant"]
    return {"tenant": os.environ["TENANT"]}


_TENANT_AT_IMPORT = os.environ.get("TENANT")
```

## Fix safety
The fix puts each variable the handler's invocations write by name (`os.environ["TENANT"] = ...`,
`os.environ.setdefault("TENANT", ...)`) back to its value at the end of the module's import when the
handler starts, as a cold start begins with it: the module records the value last, after its own
import-time code, and the handler restores it (or removes the variable) first. No line of the body
moves, and what reads the variable after the handler returns (a test) still finds the last value.
It is safe for an undecorated handler of the module; for a decorated one it is unsafe, as the
decorator runs before the reset and still sees the last request's value. A library that read the
variable once, on first use, keeps what it read either way. Writes whose names are not constants
(`os.environ.update(...)`, a name from the request), `os.putenv(...)` (which `os.environ` does not
see) and the variables the runtime sets for each invocation (`_X_AMZN_TRACE_ID`) are reported:
pass the value explicitly, or restore the variable in a `finally`. If it is deliberate, put
`# lambda-fix: ignore[LF007]` on the line of the write.
"""

from __future__ import annotations

import ast
import re
import zlib
from dataclasses import dataclass

from ..analysis.module import ModuleInfo
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode
from ..analysis.walk import every_node
from ..codes import code_of
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan
from ._reached import Reached, reached, report, shortened, unique

CODE = code_of(__name__)
_WRITING_METHODS = frozenset({"update", "setdefault", "__setitem__"})
# Variables the Lambda runtime sets before each invocation: restoring them would undo its work.
_RUNTIME_SET = ("_X_AMZN_", "AWS_LAMBDA_")


@dataclass(frozen=True)
class RestoreAtEntry(Plan):
    """The handler starts by putting `variable` back to the value the module records, last, in
    `recorded` (`_TENANT_AT_IMPORT = os.environ.get("TENANT")`)."""

    handler: str
    variable: str
    recorded: str
    add_import: bool  # the module needs `import os`

    def functions(self) -> tuple[str, ...]:
        return (self.handler,)


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the module, or a project module it imports, spells a write of the environment."""
    from ..analysis.callers import imported_modules

    return any(_spells_a_write(m.source) for m in (module, *imported_modules(project, module)))


def _spells_a_write(source: str) -> bool:
    return "environ" in source and ("environ[" in source or "environ.update" in source
                                    or "environ.setdefault" in source) or "putenv" in source


def find(context: Context) -> list[Diagnosis]:
    return unique(_report(context.module, at, node, name) for at in reached(context)
                  if _spells_a_write(at.owner.source) for node, name in _writes(at.owner, at.function)
                  if _reads(node, at.flow.tainted_names.get(at.key, frozenset()))
                  and not at.owner.suppressed(node.lineno, CODE) and not _restored(at.function, name)
                  and not _restored_at_entry(at.flow.reached.get(at.flow.handler), name))


def _writes(module: ModuleInfo, function: FunctionNode) -> list[tuple[ast.AST, str | None]]:
    """(the write, the variable's name when it is a constant) for each write of the environment."""
    found: list[tuple[ast.AST, str | None]] = []
    for node in every_node(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and module.qualified_name(target.value) == "os.environ":
                    found.append((node, _constant(target.slice)))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _WRITING_METHODS \
                    and module.qualified_name(func.value) == "os.environ":
                found.append((node, _constant(node.args[0]) if node.args and func.attr != "update" else None))
            elif module.qualified_name(func) == "os.putenv":
                found.append((node, _constant(node.args[0]) if node.args else None))
    return found


def _constant(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reads(node: ast.AST, tainted: frozenset[str]) -> bool:
    """Does the write take what it writes (or the name it writes) from request data? A choice between
    fixed values (`"a.conf" if use_ssl else "b.conf"`) writes one of them, not the request's data."""
    parts = [node.value, *node.targets] if isinstance(node, ast.Assign) else [*node.args,  # type: ignore[attr-defined]
                                                                               *(k.value for k in node.keywords)]  # type: ignore[attr-defined]
    return any(isinstance(n, ast.Name) and n.id in tainted for part in parts for n in _written_parts(part))


def _written_parts(node: ast.AST) -> list[ast.AST]:
    """node's nodes, without the tests of its conditional expressions."""
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        found.append(current)
        if isinstance(current, ast.IfExp):
            pending += [current.body, current.orelse]
        else:
            pending += list(ast.iter_child_nodes(current))
    return found


def _restored(function: FunctionNode, name: str | None) -> bool:
    """Does a `finally` of the function pop the variable or assign it back?"""
    if name is None:
        return False
    for node in every_node(function):
        if isinstance(node, ast.Try) and node.finalbody:
            for inner in (n for stmt in node.finalbody for n in ast.walk(stmt)):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) \
                        and inner.func.attr == "pop" and inner.args and _constant(inner.args[0]) == name:
                    return True
                if isinstance(inner, ast.Assign) and any(
                        isinstance(t, ast.Subscript) and _constant(t.slice) == name for t in inner.targets):
                    return True
    return False


def _restored_at_entry(handler: ast.AST | None, name: str | None) -> bool:
    """Does the handler start by putting the variable back (`os.environ.pop(NAME, ...)` or
    `os.environ[NAME] = ...` in one of its first statements, as the fix writes it)?"""
    if name is None or not isinstance(handler, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for stmt in handler.body:
        inner = list(ast.walk(stmt))
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "pop"
               and n.args and _constant(n.args[0]) == name for n in inner):
            return True
        if any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Subscript) and _constant(t.slice) == name
                                                 for t in n.targets) for n in inner):
            return False  # written before anything puts it back
    return False


def _report(module: ModuleInfo, at: Reached, node: ast.AST, name: str | None) -> Diagnosis:
    spelled = shortened(at.owner.segment(node), "os.environ")
    message = (f"`{spelled}` in {at.where(module)} writes the process environment with the request's data on "
               f"invocations of `{at.flow.handler[1]}`: the next invocation, and code that read the variable once, "
               "see it")
    plan = _restoring(module, at, node, name)
    if isinstance(plan, RestoreAtEntry):
        handler = at.flow.reached[at.flow.handler]
        unsafe = bool(getattr(handler, "decorator_list", None))
        related = ((at.owner.path, node.lineno, "the environment is written here"),)  # type: ignore[attr-defined]
        place = node if at.owner is module else handler
        return Diagnosis(CODE, place.lineno, place.col_offset, message,  # type: ignore[attr-defined]
                         f"put `{name}` back to its value at import when `{at.flow.handler[1]}` starts"
                         + (" (a decorator of the handler runs before, and still sees the last value)" if unsafe
                            else ""), Applicability.UNSAFE if unsafe else Applicability.SAFE, plan, related=related)
    reason = (f"{plan}; pass the value explicitly, or restore the variable in a `finally`; what reads it decides "
              "which is right")
    return report(CODE, module, at, node, message, reason, "the environment is written here")


def _restoring(module: ModuleInfo, at: Reached, node: ast.AST, name: str | None) -> RestoreAtEntry | str:
    """The plan that restores the variable when the handler starts, or why it cannot."""
    if name is None:
        return "the names it writes are not constants"
    if isinstance(node, ast.Call) and module.qualified_name(node.func) == "os.putenv":
        return "`os.putenv` changes what `os.environ` does not show"
    handler = at.flow.reached.get(at.flow.handler)
    if at.flow.handler[0] != module.path or not isinstance(handler, ast.FunctionDef) \
            or handler not in module.tree.body:
        return "the handler is not a module-level function of this module"
    imported = module.imports.get("os")
    if imported is not None and imported.dotted != "os" or "os" in module.state or "os" in module.functions:
        return "`os` names something else in the handler's module"
    if name.startswith(_RUNTIME_SET):
        return "the Lambda runtime sets this variable itself for each invocation"
    recorded = recorded_name(name)
    if re.search(rf"\b{re.escape(recorded)}\b", module.source):
        return f"`{recorded}` names something else in the handler's module"
    return RestoreAtEntry(handler.name, name, recorded, add_import=imported is None)


def recorded_name(variable: str) -> str:
    """The module-level name that records variable's value at import: `_TENANT_AT_IMPORT`; one of its
    own for each variable (the environment's names are case-sensitive; `A-B` is not `A_B`)."""
    spelled = re.sub(r"[^0-9A-Za-z_]", "_", variable)
    suffix = "" if spelled == variable else f"_{zlib.crc32(variable.encode('utf-8', 'surrogatepass')):08x}"
    return f"_{spelled}_AT_IMPORT{suffix}"
