"""Work started during an invocation and not waited for: it is frozen with the environment, and runs on
inside a later invocation, or never.

## What it does
Finds, in the handler and in any function of the project it reaches, work started and left running
when the function returns:
- a thread started (`threading.Thread(...).start()`) that the function never joins;
- a task scheduled on the event loop (`asyncio.create_task(...)`, `asyncio.ensure_future(...)`,
  `loop.create_task(...)`) that is neither awaited nor gathered nor waited for;
- a process started with `subprocess.Popen(...)` that is neither waited for nor used in a `with`;
- work submitted to an executor (`executor.submit(...)`) whose future is never asked for its result,
  when the executor is not used in a `with` and not shut down.

## Why is this bad?
Lambda freezes the execution environment as soon as the handler returns. A thread, a task or a process
still running is suspended with it, and resumes inside the next invocation that environment serves,
interleaving its output, its writes and its network calls with another request's, or is lost when the
environment is retired: logs never flushed, messages never sent, files half written.

## Example
```python
import threading


def send_metrics(payload):
    print("metrics", payload)


def lambda_handler(event, context):
    threading.Thread(target=send_metrics, args=(event["id"],)).start()
    return {"ok": True}
```

## Use instead
```python
import threading


def send_metrics(payload):
    print("metrics", payload)


def lambda_handler(event, context):
    sender = threading.Thread(target=send_metrics, args=(event["id"],))
    sender.start()
    sender.join()
    return {"ok": True}
```

## Fix safety
Reported, not rewritten: waiting changes how long an invocation takes, and the work may belong in an
extension or another function. If it is deliberate, put `# lambda-fix: ignore[LF009]` on the line of
the call that starts it.
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
_THREADS = frozenset({"threading.Thread", "threading.Timer"})
_TASKS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
_PROCESSES = frozenset({"subprocess.Popen"})
_EXECUTORS = frozenset({"concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor"})
# What waits for each kind, called on the name that holds it (or handed it, for tasks).
_WAITED_BY = {"thread": {"join", "cancel"}, "process": {"wait", "communicate", "kill", "terminate"},
              "task": {"cancel", "result"}, "future": {"result", "exception", "cancel"}}
_WAITING_FUNCTIONS = frozenset({"asyncio.gather", "asyncio.wait", "asyncio.wait_for", "asyncio.as_completed",
                                "concurrent.futures.wait", "concurrent.futures.as_completed", "asyncio.shield"})


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: the module, or a project module it imports, spells a way to start work."""
    from ..analysis.callers import imported_modules

    words = ("Thread", "Timer", "create_task", "ensure_future", "Popen", "submit")
    return any(word in m.source for m in (module, *imported_modules(project, module)) for word in words)


def find(context: Context) -> list[Diagnosis]:
    return unique(_report(context.module, at, call, what) for at in reached(context)
                  for call, what in _left_running(at.owner, at.function) if not at.owner.suppressed(call.lineno, CODE))


def _left_running(module: ModuleInfo, function: FunctionNode) -> list[tuple[ast.Call, str]]:
    nodes = every_node(function)
    holders = _holders(nodes)  # id(call) -> the local it is assigned to
    with_items = {id(item.context_expr) for node in nodes if isinstance(node, (ast.With, ast.AsyncWith))
                  for item in node.items}
    found = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        name = module.qualified_name(node.func)
        kind = ("thread" if name in _THREADS else "task" if name in _TASKS or _loop_task(node)
                else "process" if name in _PROCESSES else "future" if _submits(module, node, nodes) else None)
        if kind is None or id(node) in with_items:
            continue
        holder = holders.get(id(node))
        if kind == "thread":
            started = holder is not None and _called_on(nodes, holder, {"start"}) or _started_in_place(nodes, node)
            if started and not (holder is not None and _waited(module, nodes, holder, kind)):
                found.append((node, "a thread is started and never joined"))
        elif holder is None:
            if _discarded(nodes, node):
                found.append((node, _DISCARDED[kind]))
        elif not _waited(module, nodes, holder, kind):
            found.append((node, _NEVER_WAITED[kind]))
    return found


_DISCARDED = {"task": "a task is scheduled and nothing keeps it to await it",
              "process": "a process is started and nothing keeps it to wait for it",
              "future": "work is submitted to an executor and nothing keeps its future"}
_NEVER_WAITED = {"task": "a task is scheduled and never awaited",
                 "process": "a process is started and never waited for",
                 "future": "work is submitted to an executor and its result is never asked for"}


def _holders(nodes: list[ast.AST]) -> dict[int, str]:
    return {id(node.value): target.id for node in nodes if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def _called_on(nodes: list[ast.AST], name: str, methods: set[str] | frozenset[str]) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in methods
               and isinstance(n.func.value, ast.Name) and n.func.value.id == name for n in nodes)


def _started_in_place(nodes: list[ast.AST], call: ast.Call) -> bool:
    """`Thread(...).start()`."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "start"
               and n.func.value is call for n in nodes)


def _discarded(nodes: list[ast.AST], call: ast.Call) -> bool:
    """Is the call a statement of its own (its result thrown away)?"""
    return any(isinstance(n, ast.Expr) and n.value is call for n in nodes)


def _loop_task(call: ast.Call) -> bool:
    """`loop.create_task(...)`, `asyncio.get_event_loop().create_task(...)`."""
    return isinstance(call.func, ast.Attribute) and call.func.attr == "create_task"


def _submits(module: ModuleInfo, call: ast.Call, nodes: list[ast.AST]) -> bool:
    """`executor.submit(...)` on an executor made here or at module level, not in a `with` and not shut down."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "submit" and isinstance(func.value, ast.Name)):
        return False
    executor = func.value.id
    made = [n.value for n in nodes if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and any(isinstance(t, ast.Name) and t.id == executor for t in n.targets)]
    made += [s.value for s in module.tree.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
             and any(isinstance(t, ast.Name) and t.id == executor for t in s.targets)]
    if not any(module.qualified_name(m.func) in _EXECUTORS for m in made):  # type: ignore[union-attr]
        return False
    return not _called_on(nodes, executor, {"shutdown"})


def _waited(module: ModuleInfo, nodes: list[ast.AST], name: str, kind: str) -> bool:
    """Is the local awaited, waited for, or handed on (to gather, to a list that is, returned)?"""
    if _called_on(nodes, name, _WAITED_BY[kind]):
        return True
    for node in nodes:
        if isinstance(node, ast.Await) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
            return True
        if isinstance(node, ast.Return) and node.value is not None and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value)):
            return True  # the caller's to wait for
        if isinstance(node, ast.Call) and (module.qualified_name(node.func) in _WAITING_FUNCTIONS or (
                isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "add", "extend"))) \
                and any(isinstance(n, ast.Name) and n.id == name for a in node.args for n in ast.walk(a)):
            return True  # gathered, or kept in a collection that something waits for
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(i.context_expr, ast.Name) and i.context_expr.id == name for i in node.items):
            return True
    return False


def _report(module: ModuleInfo, at: Reached, call: ast.Call, what: str) -> Diagnosis:
    spelled = shortened(at.owner.segment(call), "...")
    message = (f"`{spelled}` in {at.where(module)}: {what} before an invocation of `{at.flow.handler[1]}` returns; "
               "Lambda freezes the environment then, so it runs on inside a later invocation, or never")
    reason = "wait for it before the handler returns, or hand the work to something that outlives the invocation"
    return report(CODE, module, at, call, message, reason, "the work starts here")
