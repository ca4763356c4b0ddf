"""A temporary file or directory made on every invocation and never removed: /tmp fills up.

## What it does
Finds, in the handler and in any function of the project it reaches, temporary files and directories
that are made under a new name on each call and that nothing removes: `tempfile.mkdtemp(...)`,
`tempfile.mkstemp(...)` and `tempfile.NamedTemporaryFile(delete=False)`. Left alone: a name the same
function removes (`shutil.rmtree`, `os.remove`, `os.unlink`, `Path(...).unlink()`), hands back to its
caller (`return`) or keeps elsewhere (whose cleanup is then another function's), and the context
managers that remove what they made (`with tempfile.TemporaryDirectory() as work:`).

## Why is this bad?
/tmp belongs to the execution environment (512 MB by default), not to the invocation: a file that
each invocation leaves under a new name stays, and after enough warm invocations the next write fails
with "No space left on device", in whatever request happens to come then.

## Example
```python
import shutil
import tempfile


def lambda_handler(event, context):
    work = tempfile.mkdtemp()
    shutil.copy("/etc/hostname", work)
    return {"copied": event["id"]}
```

## Use instead
```python
import shutil
import tempfile


def lambda_handler(event, context):
    with tempfile.TemporaryDirectory() as work:
        shutil.copy("/etc/hostname", work)
    return {"copied": event["id"]}
```

## Fix safety
Reported, not rewritten: where the invocation is done with the file (and whether a `finally` or a
`with` block fits the code around it) is the code's to say. If it is deliberate, put
`# lambda-fix: ignore[LF010]` on the line of the call that makes it.
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
from ._reached import Reached, reached, report, shortened, unique

CODE = code_of(__name__)
_MAKERS = frozenset({"tempfile.mkdtemp", "tempfile.mkstemp", "tempfile.NamedTemporaryFile"})
_REMOVERS = frozenset({"shutil.rmtree", "os.remove", "os.unlink", "os.rmdir"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the module, or a project module it imports, spells one of the makers."""
    from ..analysis.callers import imported_modules

    words = ("mkdtemp", "mkstemp", "NamedTemporaryFile")
    return any(word in m.source for m in (module, *imported_modules(project, module)) for word in words)


def find(context: Context) -> list[Diagnosis]:
    return unique(_report(context.module, at, call) for at in reached(context)
                  for call in _left_behind(at.owner, at.function, at.key == at.flow.handler)
                  if not at.owner.suppressed(call.lineno, CODE))


def _left_behind(module: ModuleInfo, function: FunctionNode, handler: bool) -> list[ast.Call]:
    """handler: function is the handler, whose return value goes to the runtime, which removes nothing."""
    nodes = every_node(function)
    in_with = {id(item.context_expr) for node in nodes if isinstance(node, (ast.With, ast.AsyncWith))
               for item in node.items}
    found = []
    for node in nodes:
        if not isinstance(node, ast.Call) or id(node) in in_with:
            continue
        name = module.qualified_name(node.func)
        if name not in _MAKERS or (name == "tempfile.NamedTemporaryFile" and not _kept(node)):
            continue
        names = _bound_names(nodes, node)
        if names is None or not any(_handled(module, nodes, n, handler) for n in names):
            found.append(node)
    return found


def _kept(call: ast.Call) -> bool:
    """`NamedTemporaryFile(delete=False)`: the file stays after it is closed."""
    return any(k.arg == "delete" and isinstance(k.value, ast.Constant) and k.value.value is False
               for k in call.keywords)


def _bound_names(nodes: list[ast.AST], call: ast.Call) -> set[str] | None:
    """The locals the call's result goes into (`work = mkdtemp()`, `fd, path = mkstemp()`, and
    `path = named.name` for a file object); {""} when it is handed to another call; None when it is lost
    (a statement of its own, or only used in place: `NamedTemporaryFile(delete=False).write(...)`)."""
    for node in nodes:
        if isinstance(node, ast.Assign) and node.value is call:
            names = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            names |= {t.id for n in nodes if isinstance(n, ast.Assign) and isinstance(n.value, ast.Attribute)
                      and isinstance(n.value.value, ast.Name) and n.value.value.id in names
                      and n.value.attr == "name" for t in n.targets if isinstance(t, ast.Name)}
            return names
    handed_on = any(isinstance(n, ast.Call) and any(a is call for a in (*n.args, *(k.value for k in n.keywords)))
                    for n in nodes)
    return {""} if handed_on else None  # given to another call (its to remove), or lost


def _handled(module: ModuleInfo, nodes: list[ast.AST], name: str, handler: bool) -> bool:
    """Is the name removed, returned to a caller, or kept somewhere else (another function's to remove)?"""
    if not name:
        return True  # handed straight to something else: not this function's to remove
    for node in nodes:
        if isinstance(node, ast.Call):
            func = node.func
            removing = module.qualified_name(func) in _REMOVERS or (
                isinstance(func, ast.Attribute) and func.attr in ("unlink", "rmdir", "cleanup"))
            if removing and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
                return True
        if not handler and isinstance(node, (ast.Return, ast.Yield)) and node.value is not None and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)):
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets) \
                and isinstance(node.value, ast.Name) and node.value.id == name:
            return True
    return False


def _report(module: ModuleInfo, at: Reached, call: ast.Call) -> Diagnosis:
    spelled = shortened(at.owner.segment(call), "tempfile")
    message = (f"`{spelled}` in {at.where(module)} makes a new temporary file or directory on every invocation of "
               f"`{at.flow.handler[1]}` and nothing removes it: each warm invocation leaves another in the "
               "environment's /tmp (512 MB by default) until a write fails for lack of space")
    reason = ("remove it in a `finally`, or use `tempfile.TemporaryDirectory()` / `NamedTemporaryFile()` as a "
              "context manager")
    return report(CODE, module, at, call, message, reason, "made here")
