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
    work = tempfile.mkdtemp()
    try:
        shutil.copy("/etc/hostname", work)
        return {"copied": event["id"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
```

## Fix safety
The fix removes a directory `tempfile.mkdtemp()` makes when the function that made it ends, however
it ends (the rest of its body runs in a `try` whose `finally` removes it), as a new environment would
not have it. It is safe, and made only where the function is provably done with the directory then: a
module-level function binds it once to a name, in the function's own block, under /tmp, and neither it
nor anything built from it is returned (by a function other than the handler: the runtime reads no
file it is given), yielded, stored outside the function, given to a thread, a task or a process that
may outlive the call, to an object the function builds outside a `with` (a log file's handler), to
`logging.basicConfig`, to a function of the project (which may keep it), made the working directory,
or used by a nested function; and the function neither deletes the name nor binds `shutil` itself.
Files from `mkstemp()` and `NamedTemporaryFile(delete=False)`, whose open descriptors the code may
still hold, are reported: remove them in a `finally`, or use `tempfile.TemporaryDirectory()` /
`NamedTemporaryFile()` as a context manager. If it is deliberate, put `# lambda-fix: ignore[LF010]`
on the line of the call that makes it.
"""

from __future__ import annotations

import ast
import builtins
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
_MAKERS = frozenset({"tempfile.mkdtemp", "tempfile.mkstemp", "tempfile.NamedTemporaryFile"})
_REMOVERS = frozenset({"shutil.rmtree", "os.remove", "os.unlink", "os.rmdir"})
# Calls that may keep using a path after the function returns (the work they start outlives it).
_OUTLIVING = frozenset({"threading.Thread", "threading.Timer", "subprocess.Popen", "multiprocessing.Process",
                        "asyncio.create_task", "asyncio.ensure_future", "_thread.start_new_thread"})
_BUILTINS = frozenset(dir(builtins))
_STORING = frozenset({"append", "add", "extend", "update", "insert", "setdefault", "put", "put_nowait"})
_OUTLIVING_METHODS = frozenset({"submit", "apply_async", "map_async", "create_task", "run_in_executor", "chdir"})


@dataclass(frozen=True)
class RemoveAtEnd(Plan):
    """The statements after `statement` (`name = tempfile.mkdtemp(...)`, in the function's own block)
    run in a `try` whose `finally` removes name."""

    function: str
    statement: str  # its source, unique in the function's block
    name: str
    import_shutil: bool  # the module needs `import shutil`

    def functions(self) -> tuple[str, ...]:
        return (self.function,)


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
    fixed = _removal(module, at, call)
    if isinstance(fixed, RemoveAtEnd):
        return Diagnosis(CODE, call.lineno, call.col_offset, message,
                         f"remove `{fixed.name}` when `{at.key[1]}` ends (`finally: shutil.rmtree(...)`)",
                         Applicability.SAFE, fixed)
    reason = (f"{fixed}; remove it in a `finally`, or use `tempfile.TemporaryDirectory()` / `NamedTemporaryFile()` "
              "as a context manager")
    return report(CODE, module, at, call, message, reason, "made here")


def _removal(module: ModuleInfo, at: Reached, call: ast.Call) -> RemoveAtEnd | str:
    """The plan that removes what call makes when its function ends, or why the function may not be
    done with it then."""
    function = at.function
    if at.owner is not module or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) \
            or function not in module.tree.body:
        return "it is not made in a module-level function of this module"
    if module.qualified_name(call.func) != "tempfile.mkdtemp":
        return "the code may still hold the file open"
    directory = next((k.value for k in call.keywords if k.arg == "dir"), call.args[2] if len(call.args) > 2 else None)
    if directory is not None and not (isinstance(directory, ast.Constant) and isinstance(directory.value, str)
                                      and (directory.value.rstrip("/") == "/tmp"
                                           or directory.value.startswith("/tmp/"))):
        return "it is made in a directory that may outlive the environment (`dir=`)"
    binding = next((stmt for stmt in function.body if isinstance(stmt, ast.Assign) and stmt.value is call
                    and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)), None)
    if binding is None:
        return "it is not bound to a name in the function's own block"
    name = binding.targets[0].id  # type: ignore[attr-defined]
    nodes = every_node(function)
    text = module.segment(binding)
    if text is None or sum(1 for n in nodes if isinstance(n, ast.stmt) and n.lineno == binding.lineno) > 1 \
            or sum(1 for stmt in function.body if module.segment(stmt) == text) > 1:
        return "its statement is not alone on its line"
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
        return "the function is a generator, which may be left unfinished"
    derived = _derived(nodes, name)
    if sum(1 for n in nodes if isinstance(n, ast.Name) and n.id == name
           and isinstance(n.ctx, (ast.Store, ast.Del))) > 1:
        return f"`{name}` is bound again, or deleted"
    if any(isinstance(n, ast.Name) and n.id == "shutil" and not isinstance(n.ctx, ast.Load)
           or isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == "shutil"
                                                                  for a in n.names)
           or isinstance(n, ast.arg) and n.arg == "shutil" for n in nodes):
        return "the function binds `shutil` itself"
    escape = _escapes(module, function, derived, at.key == at.flow.handler)
    if escape:
        return escape
    bound = module.imports.get("shutil")
    if bound is not None and bound.dotted != "shutil" or ("shutil" in module.state or "shutil" in module.functions):
        return "`shutil` names something else in this module"
    return RemoveAtEnd(at.key[1], text, name, import_shutil=bound is None)


def _derived(nodes: list[ast.AST], name: str) -> set[str]:
    """name and the locals assigned from expressions that read it."""
    found = {name}
    while True:
        more = {t.id for n in nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr))
                and getattr(n, "value", None) is not None
                and any(isinstance(v, ast.Name) and v.id in found for v in ast.walk(n.value))  # type: ignore[arg-type]
                for target in (n.targets if isinstance(n, ast.Assign) else [n.target])  # type: ignore[attr-defined]
                for t in ast.walk(target) if isinstance(t, ast.Name)} - found
        more |= {t.id for n in nodes if isinstance(n, (ast.For, ast.AsyncFor, ast.withitem))
                 for value, target in [(n.context_expr, n.optional_vars) if isinstance(n, ast.withitem)
                                       else (n.iter, n.target)]
                 if target is not None and any(isinstance(v, ast.Name) and v.id in found for v in ast.walk(value))
                 for t in ast.walk(target) if isinstance(t, ast.Name)} - found
        # A local container given a path in it holds it: `paths.append(os.path.join(work, name))`.
        more |= {n.func.value.id for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr in _STORING and isinstance(n.func.value, ast.Name)
                 and any(isinstance(v, ast.Name) and v.id in found for a in n.args for v in ast.walk(a))} - found
        if not more:
            return found
        found |= more


def _escapes(module: ModuleInfo, function: ast.AST, derived: set[str], handler: bool) -> str | None:
    """How the directory (or a path in it) may be used after the function returns, if it may."""
    nodes = [n for n in every_node(function) if n is not function]
    def reads(node: ast.AST | None) -> bool:
        return node is not None and any(isinstance(n, ast.Name) and n.id in derived for n in ast.walk(node))

    local = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    in_with = {id(item.context_expr) for n in nodes if isinstance(n, (ast.With, ast.AsyncWith)) for item in n.items}

    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if reads(node):
                return "a nested function uses it"
        elif isinstance(node, ast.Return) and not handler and reads(node.value):
            return "the function returns it, or a path in it, to its caller"
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and derived & set(node.names):
            return "it is bound outside the function"
        elif isinstance(node, ast.Assign) and reads(node.value) and any(
                isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets):
            return "it is stored outside the function"
        elif isinstance(node, ast.Call) and reads(node):
            name = module.qualified_name(node.func) or ""
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            spelled = module.segment(node.func) or name
            if method in _STORING:
                if not (isinstance(receiver, ast.Name) and receiver.id in local):
                    return "it is stored in a container from outside the function"
                continue
            if name in _OUTLIVING or method in _OUTLIVING_METHODS or name in ("os.chdir", "os.putenv",
                                                                               "logging.basicConfig"):
                return f"it is given to `{spelled}`, which may use it after the function returns"
            last = (name or spelled).rsplit(".", 1)[-1]
            if last[:1].isupper() and id(node) not in in_with:
                return f"it is given to `{spelled}`, an object that may keep it after the function returns"
            if isinstance(node.func, ast.Name) and node.func.id not in _BUILTINS:
                return f"it is given to `{spelled}`, which may keep it after the function returns"
    return None
