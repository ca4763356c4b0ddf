"""## What it does
Finds fixed paths under `/tmp` (string literals, module constants, `os.path.join` of constants) that
code a Lambda handler reaches writes, appends, creates or removes, and gives each invocation its own:
the request ID goes into the name, and the file is removed when the invocation is done with it.

What writes a path is not a list of libraries: `open` and any module's opener (`gzip.open`,
`zipfile.ZipFile`) in a writing mode, `pathlib.Path` methods, `os` and `shutil` functions that create,
copy, move or remove, `sqlite3.connect`, every form of `download_file`, any function or method whose
name says it writes where it is told (`img.save(path)`, `df.to_excel(path)`, `audio.export(path)`,
`joblib.dump(model, path)`, `pdf.output(path)`, `Repo.clone_from(url, path)`), and a command given the
path (`subprocess.run(["ffmpeg", ..., path])`, not the program itself). An archive's `extractall` and a
clone make a directory, removed whole.

## Why is this bad?
`/tmp` belongs to the execution environment, not to the invocation. A handler that writes
`/tmp/output.json` finds the previous invocation's file on the next warm start: appends grow,
existence checks lie, and a half-written file from an invocation that failed gets read. Names made
unique per invocation but never removed fill the environment's ephemeral storage (512 MB by default)
over thousands of warm invocations.

## Example
```python
import json

OUTPUT = "/tmp/output.json"


def save(rows):
    with open(OUTPUT, "a") as stream:
        stream.write(json.dumps(rows) + "\\n")


def lambda_handler(event, context):
    save(event["rows"])
    with open(OUTPUT) as stream:
        return {"lines": len(stream.readlines())}
```

## Use instead
```python
import contextlib
import json
import os


def save(rows, OUTPUT):
    with open(OUTPUT, "a") as stream:
        stream.write(json.dumps(rows) + "\\n")


def lambda_handler(event, context):
    OUTPUT = f"/tmp/output-{context.aws_request_id}.json"
    try:
        save(event["rows"], OUTPUT)
        with open(OUTPUT) as stream:
            return {"lines": len(stream.readlines())}
    finally:
        with contextlib.suppress(OSError):
            os.remove(OUTPUT)
```

## Fix safety
Every place the module spells the path (in the handler and the helpers it calls) changes together:
the handler makes the name from `context.aws_request_id`, before the extension
(`/tmp/report.csv` becomes `/tmp/report-<request id>.csv`), and passes it to the helpers that use it,
as LF001 passes state. When the project calls the handler itself (a test or a `__main__` block, which
pass `None` or a bare object as the context), the name is
`getattr(context, 'aws_request_id', None) or uuid.uuid4().hex`, so those calls keep working. A
module-level path constant becomes that per-invocation value. A handler without a context parameter
gets `uuid.uuid4().hex` instead, except a durable (replayed) execution,
which must stay deterministic: that is reported, not rewritten. The statements of the handler from
the first that names the path to the last run in a `try`, and its `finally` removes the file, or the
directory made there, ignoring errors of its own, so the handler's exceptions are never hidden; the
lines before and after keep their indentation. Where the name may outlive the statement that uses it
(bound to another name such as `Path(path)`, handed to a thread, a task or a container, used by a
nested function), the `try` runs to the end of the handler.

Left alone: paths only read; files `tempfile` makes, and names already unique (the request ID, a
UUID) that the handler removes; and files made once per environment on purpose, such as a model downloaded under an
`if not os.path.exists(path):` guard, whether the path is a literal, a module constant, a local
variable or a `Path` object. A guarded write that takes request data (a download key from the event)
is no such file: every later request would get the first one's, so it is named per invocation.
Left alone too: a path the handler removes itself, or a directory holding it, before anything uses
it on every path (`shutil.rmtree(WORK, ignore_errors=True)`, or `if os.path.exists(WORK):
shutil.rmtree(WORK)`, then `os.makedirs(WORK)`, or a function of the module called to do so), or
after its last use on every way out, exceptions included (in a `finally`). Lambda runs one invocation
at a time in an execution environment, so every invocation then starts as a cold one (Lambda Managed
Instances, which run several invocations at once in one environment, are not told apart). Removed
before every return but not when an exception leaves the handler, the path still carries what a
failed invocation left: that is rewritten, and the message says so. A finding sits on the first call
(in the order of the source) that writes the path.

Reported, not rewritten: files written under names made at run time (`f"/tmp/{key}"`,
`"/tmp/" + name`, `os.path.join(tempfile.gettempdir(), name)`), by the handler or by a function of the
module it hands the name to, and never removed. Named anew per
invocation (from the request, a UUID, the time), each warm invocation leaves another file until the
environment's storage is full; named the same way every time (from the environment, a constant), the
next invocation finds the previous one's file. Those under an existence check, made with `tempfile`,
or in a handler that removes files itself are left alone. Relative names written after
`os.chdir("/tmp")` are fixed paths there, and reported too.

A directory the handler makes (`os.makedirs`, `Path.mkdir`, `extractall`) and the fixed paths
inside it change together: the directory gets the per-invocation name, each path inside it is
spelled from that name as the module spells paths (`Path(work_dir) / "a.txt"` where it divides a
`Path`, `os.path.join(work_dir, "a.txt")` where it joins, else `f"{work_dir}/a.txt"`), and the
`finally` removes the directory whole. Names built at run time in such a directory
(`os.path.join("/tmp/work", key)`) go with it and are not reported.

Also reported: a path also used by code the handler does not reach, by module-level code, by another
file of the project, or inside a longer string (a command line); a path written by a helper that
another file of the project calls (the parameter the fix adds would be missing from its calls there);
a path the handler returns, since a new name would change what it returns; and, for a directory and
the paths inside it, a directory the handler's code does not make, a path inside it that nothing
the handler runs writes, or one made once per environment under an existence check, a module
constant naming a path inside it, and a directory handed to a command (`subprocess.run`), whose
doings there cannot be followed. The fix is safe.
"""

# Fixed paths under /tmp that code a handler reaches writes, creates or removes.
#
# /tmp belongs to the execution environment: a file one invocation leaves there is still there for
# the next warm one. A path counts when it is a string literal under /tmp, a module constant bound once
# to one, or `os.path.join` of such constants, and some reached code writes, appends, creates or
# removes it. It is left alone when it is only read, when every write sits under an
# `if not os.path.exists(path):` guard (a model or data set downloaded once per environment, on
# purpose), and when it is already unique (anything not constant: the request ID, a UUID, tempfile).

from __future__ import annotations

import ast
import enum
import posixpath
import re
from dataclasses import dataclass

from ..analysis.flow import HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.parameters import Threading, threading_plan
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, scope_bindings
from ..analysis.walk import every_node, nodes
from ..codes import code_of
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan, Span
from ._runtime_tmp_paths import runtime_paths
from ._tmp_resets import TmpReset, handler_resets
from ._tmp_resets import related as _related
from ._tmp_writes import COMMANDS, written_paths

CODE = code_of(__name__)
# What the fix removes whole: calls that make a directory.
_DIRECTORY_MAKERS = frozenset({"os.makedirs", "os.mkdir", "mkdir", "extractall", "clone_from"})


class Cleanup(enum.Enum):
    """What the handler removes when the invocation is done with it."""

    FILE = "file"
    DIRECTORY = "directory"


@dataclass(frozen=True)
class TmpPathPlan(Plan):
    handler: str
    variable: str  # the per-invocation value that replaces the fixed path
    value: str  # the fixed path
    # Where the module spells the path (literals, `os.path.join(...)`, f-strings, `Path(...) / ...`),
    # and what replaces each: the variable, or `Path(variable)` for a Path. A module constant keeps
    # its name, which becomes the variable.
    replaced: tuple[tuple[Span, str], ...]
    move: Threading  # creates the variable in the handler and passes it to the helpers that use it
    cleanup: Cleanup
    imports: tuple[str, ...]

    def functions(self) -> tuple[str, ...]:
        return (self.handler, *(function for function, _ in self.move.threaded))


@dataclass
class _Occurrence:
    function: str | None  # top-level function, None at module level or in a class
    node: ast.AST
    kind: str  # "literal", "constant", "join"


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: without it, find finds nothing, whatever the flows."""
    return "/tmp" in module.source or "gettempdir" in module.source


def find(context: Context) -> list[Diagnosis]:
    project, module, flows = context.project, context.module, context.flows
    if not may_find(project, module):
        return []
    found: dict[str, list[Diagnosis]] = {}  # by the outermost path of each group
    occurrences = _occurrences(module)
    known = {id(o.node) for found_at in occurrences.values() for o in found_at}
    fresh: set[int] = set()  # the nodes of directories each invocation has anew, once fixed or as they are
    built: dict[tuple[int, int], Diagnosis] = {}  # names made at run time: reported (_runtime_tmp_paths)
    for flow in flows:
        reached = {key[1] for key in flow.reached if key[0] == module.path}
        written = _written(module, flow, occurrences, reached)
        for root, members in _groups(occurrences, written):
            if root in found:
                continue
            if len(members) == 1:
                judged, anew = _judge(project, module, flow, members[0], occurrences, written[members[0]])
                found[root] = [judged] if judged is not None else []
            else:
                found[root], anew = _judge_group(project, module, flow, root, members, occurrences, written)
            if anew:
                fresh.update(id(o.node) for member in members if member.rstrip("/") == root
                             for o in occurrences[member])
        for report in runtime_paths(module, flow, known, fresh):
            built.setdefault((report.line, report.column), report)
    return [*(f for judged in found.values() for f in judged), *built.values()]


def _groups(occurrences: dict[str, list[_Occurrence]],
            written: dict[str, list[tuple[ast.AST, bool, str]]]) -> list[tuple[str, list[str]]]:
    """The written paths, each with the paths the module spells in it or around it: (the outermost,
    without a trailing slash; every path of the group, the outermost first). Paths nested in one
    another change together: the directory gets the per-invocation name, the paths inside it are
    spelled from that name."""
    by_length = sorted(occurrences, key=lambda v: (len(v.rstrip("/")), v))
    groups: dict[str, list[str]] = {}
    for value in sorted(written):
        root = next(v.rstrip("/") for v in by_length if _within(value, v.rstrip("/")))
        if root not in groups:
            groups[root] = [v for v in by_length if _within(v, root)]
    return sorted(groups.items())


def _within(value: str, directory: str) -> bool:
    """Is value the directory itself (a trailing slash aside) or a path inside it?"""
    return value.rstrip("/") == directory or value.startswith(directory + "/")


def _string_constants(module: ModuleInfo) -> dict[str, str]:
    """Module constants bound once to a string and never rebound."""
    constants = {}
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                    and module.binding_counts.get(name) == 1 and name not in module.rebound_in:
                constants[name] = value.value
    return constants


def _constants(module: ModuleInfo) -> dict[str, str]:
    """Module constants bound once to a /tmp path string."""
    return {name: value for name, value in _string_constants(module).items() if _is_tmp(value)}


def _constant_text(module: ModuleInfo, node: ast.AST, strings: dict[str, str]) -> str | None:
    """The text of a string literal, a string constant, or an f-string made only of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in strings:
        return strings[node.id]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    return None
                part = part.value
            text = _constant_text(module, part, strings)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def _division(module: ModuleInfo, node: ast.BinOp, strings: dict[str, str]) -> tuple[str, str] | None:
    """`Path("/tmp") / "a" / NAME` -> ("/tmp/a/<NAME>", "Path"): the path and how Path was spelled."""
    parts: list[str] = []
    current: ast.AST = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Div):
        text = _constant_text(module, current.right, strings)
        if text is None:
            return None
        parts.append(text)
        current = current.left
    if not (isinstance(current, ast.Call) and module.qualified_name(current.func) in ("pathlib.Path", "Path")
            and current.args and not current.keywords):
        return None
    base = [_constant_text(module, a, strings) for a in current.args]
    if not all(isinstance(b, str) for b in base):
        return None
    callee = module.segment(current.func) or "Path"
    return posixpath.join(*base, *reversed(parts)), callee  # type: ignore[arg-type]


def _is_tmp(text: str) -> bool:
    return text.startswith("/tmp/") and len(text) > len("/tmp/") and "\n" not in text


def _occurrences(module: ModuleInfo) -> dict[str, list[_Occurrence]]:
    """Every place the module spells each /tmp path, with the top-level function it is in."""
    constants = _constants(module)
    strings = _string_constants(module)
    found: dict[str, list[_Occurrence]] = {}
    for stmt in module.tree.body:
        owner = stmt.name if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        walked = every_node(stmt)
        docstrings = {id(n.body[0].value) for n in walked  # type: ignore[attr-defined]
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        joined: set[int] = set()
        for node in walked:
            if id(node) in joined:
                continue
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                division = _division(module, node, strings)
                if division is not None and _is_tmp(division[0]):
                    found.setdefault(division[0], []).append(_Occurrence(owner, node, "division"))
                    joined.update(id(n) for n in nodes(node)[1:])
                continue
            if isinstance(node, ast.JoinedStr):
                text = _constant_text(module, node, strings)
                if text is not None and _is_tmp(text):
                    found.setdefault(text, []).append(_Occurrence(owner, node, "fstring"))
                    joined.update(id(n) for n in nodes(node)[1:])
                continue
            if isinstance(node, ast.Call) and module.qualified_name(node.func) == "os.path.join":
                parts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else
                         constants.get(a.id) if isinstance(a, ast.Name) else None for a in node.args]
                if parts and all(isinstance(p, str) for p in parts) and not node.keywords:
                    value = posixpath.join(*parts)
                    if _is_tmp(value):
                        found.setdefault(value, []).append(_Occurrence(owner, node, "join"))
                        joined.update(id(a) for a in node.args)
        for node in walked:
            if id(node) in joined or id(node) in docstrings:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_tmp(node.value):
                if isinstance(stmt, ast.Assign) and stmt.value is node and owner is None \
                        and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in constants:
                    continue  # the constant's own binding
                found.setdefault(node.value, []).append(_Occurrence(owner, node, "literal"))
            elif isinstance(node, ast.Name) and node.id in constants and isinstance(node.ctx, ast.Load):
                found.setdefault(constants[node.id], []).append(_Occurrence(owner, node, "constant"))
    return found


def _written(module: ModuleInfo, flow: HandlerFlow, occurrences: dict[str, list[_Occurrence]],
             reached: set[str]) -> dict[str, list[tuple[ast.AST, bool, str]]]:
    """Path -> write sites in reached functions: (path node, made once per environment, how).

    A write under `if not os.path.exists(path):` makes the file once per environment, on purpose (a
    model, a marker), unless what it writes comes from the request: then every later request gets
    the first one's file."""
    by_node = {id(o.node): value for value, found in occurrences.items() for o in found}
    written: dict[str, list[tuple[ast.AST, bool, str]]] = {}
    for name in sorted(reached):
        function = module.functions.get(name)
        if function is None:
            continue
        aliases = _aliases(module, function, by_node)
        guards = _exists_guards(module, function, by_node, aliases)
        per_request = flow.tainted_names.get((module.path, name), frozenset())
        for node in every_node(function):
            if not isinstance(node, ast.Call):
                continue
            for target, how in written_paths(module, node, aliases):
                value = by_node.get(id(target))
                if value is not None:
                    once = id(node) in guards.get(value, set()) and not _takes_request_data(node, target, per_request)
                    written.setdefault(value, []).append((target, once, how))
    return written


def _takes_request_data(call: ast.Call, path: ast.AST, per_request: frozenset[str]) -> bool:
    """Does the call read request data besides the path (a download key from the event, say)?"""
    for argument in [call.func, *call.args, *(k.value for k in call.keywords)]:
        if argument is path:
            continue
        if any(isinstance(n, ast.Name) and n.id in per_request for n in ast.walk(argument)):
            return True
    return False


def _aliases(module: ModuleInfo, function: FunctionNode, by_node: dict[int, str]) -> dict[str, ast.AST]:
    """Locals assigned once from a path, plain or wrapped in `Path(...)`: name -> the path node."""
    values: dict[str, list[ast.AST]] = {}
    for node in every_node(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and module.qualified_name(value.func) in ("pathlib.Path", "Path") \
                    and len(value.args) == 1:
                value = value.args[0]
            values.setdefault(node.targets[0].id, []).append(value)
    return {name: found[0] for name, found in values.items() if len(found) == 1 and id(found[0]) in by_node}


def _exists_guards(module: ModuleInfo, function: FunctionNode, by_node: dict[int, str],
                   aliases: dict[str, ast.AST]) -> dict[str, set[int]]:
    """Path -> calls inside an `if not os.path.exists(path):` (or isfile, isdir, Path.exists) block;
    the path spelled directly, as a module constant or as a local assigned once from it."""
    guarded: dict[str, set[int]] = {}
    for node in every_node(function):
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
                and isinstance(node.test.operand, ast.Call)):
            continue
        check = node.test.operand
        name = module.qualified_name(check.func) or ""
        subject = None
        if name in ("os.path.exists", "os.path.isfile", "os.path.isdir") and check.args:
            subject = check.args[0]
        elif isinstance(check.func, ast.Attribute) and check.func.attr in ("exists", "is_file", "is_dir") \
                and isinstance(check.func.value, ast.Call) and check.func.value.args:
            subject = check.func.value.args[0]
        elif isinstance(check.func, ast.Attribute) and check.func.attr in ("exists", "is_file", "is_dir") \
                and isinstance(check.func.value, ast.Name):
            subject = check.func.value  # `path.exists()` on a local `path = Path("/tmp/...")`
        if isinstance(subject, ast.Name):
            subject = aliases.get(subject.id, subject)
        value = by_node.get(id(subject)) if subject is not None else None
        if value is not None:
            guarded.setdefault(value, set()).update(id(n) for s in node.body for n in ast.walk(s))
    return guarded


def _judge(project: Project, module: ModuleInfo, flow: HandlerFlow, value: str,
           occurrences: dict[str, list[_Occurrence]],
           sites: list[tuple[ast.AST, bool, str]]) -> tuple[Diagnosis | None, bool]:
    """The finding for one path, if any, and whether it is a directory each invocation has anew (the
    handler empties it, or the fix names it per invocation and removes it whole)."""
    if all(guarded for _, guarded, _ in sites):
        return None, False  # downloaded or built once per environment, on purpose
    reset = _removed_by_the_handler(module, flow, value, occurrences)
    if reset.every_path:
        return None, True  # the handler empties it itself: every invocation starts as a cold one
    handler = flow.handler[1]
    first = min((node for node, guarded, _ in sites if not guarded),
                key=lambda node: (node.lineno, node.col_offset))  # type: ignore[attr-defined]
    message = (f"`{value}` is written while `{handler}` runs and outlives the invocation: the next warm "
               "invocation finds what the previous one left there")
    if reset.on_return:
        lines = ", ".join(str(line) for line in reset.on_return)
        message = (f"`{value}` is written while `{handler}` runs and removed before it returns (line {lines}), "
                   "but not when an exception leaves it: the next warm invocation finds what a failed one left there")
    line, column = first.lineno, first.col_offset  # type: ignore[attr-defined]
    if module.suppressed(line, CODE):
        return None, False
    reason, plan = _plan(project, module, flow, value, occurrences, sites)
    if plan is None:
        return Diagnosis.reported(CODE, line, column, message, reason), False
    title = f"name it per invocation (`{plan.variable}`) and remove it when the invocation is done with it"
    return Diagnosis(CODE, line, column, message, title, Applicability.SAFE, plan), plan.cleanup is Cleanup.DIRECTORY


def _judge_group(project: Project, module: ModuleInfo, flow: HandlerFlow, root: str, members: list[str],
                 occurrences: dict[str, list[_Occurrence]],
                 written: dict[str, list[tuple[ast.AST, bool, str]]]) -> tuple[list[Diagnosis], bool]:
    """A directory and the paths inside it, judged together: one finding, on the first write of any of
    them, and whether the directory is the invocation's own (emptied by the handler, or once fixed)."""
    sites = [site for member in members for site in written.get(member, [])]
    if all(guarded for _, guarded, _ in sites):
        return [], False  # downloaded or built once per environment, on purpose
    reset = _removed_by_the_handler(module, flow, root, occurrences)
    if reset.every_path:
        return [], True  # the handler empties the directory itself
    if all(_removed_by_the_handler(module, flow, member, occurrences).every_path
           for member in members if member in written):
        return [], False
    handler = flow.handler[1]
    first = min((node for node, guarded, _ in sites if not guarded),
                key=lambda node: (node.lineno, node.col_offset))  # type: ignore[attr-defined]
    subject, several = _written_subject(root, [member for member in members if member in written])
    are, outlive = ("are", "outlive") if several else ("is", "outlives")
    message = (f"{subject} {are} written while `{handler}` runs and {outlive} the invocation: the next warm "
               "invocation finds what the previous one left there")
    if reset.on_return:
        lines = ", ".join(str(line) for line in reset.on_return)
        message = (f"{subject} {are} written while `{handler}` runs and removed before it returns (line {lines}), "
                   "but not when an exception leaves it: the next warm invocation finds what a failed one left there")
    line, column = first.lineno, first.col_offset  # type: ignore[attr-defined]
    if module.suppressed(line, CODE):
        return [], False
    reason, plan = _group_plan(project, module, flow, root, members, occurrences, written)
    if plan is None:
        return [Diagnosis.reported(CODE, line, column, message, reason)], False
    title = (f"name the directory per invocation (`{plan.variable}`), spell the paths in it from that name, "
             "and remove it when the invocation is done with it")
    return [Diagnosis(CODE, line, column, message, title, Applicability.SAFE, plan)], True


def _written_subject(root: str, written: list[str]) -> tuple[str, bool]:
    """("`/tmp/work` and the paths in it (`/tmp/work/a.txt`)", several), or the paths alone when the
    directory itself is not written."""
    inside = [f"`{member}`" for member in written if member.rstrip("/") != root]
    if len(inside) < len(written):
        return (f"`{root}` and the paths in it ({', '.join(inside)})", True) if inside else (f"`{root}`", False)
    return " and ".join(inside), len(inside) > 1


# Calls that hand a path to a command: what the command does in the directory cannot be followed.
_COMMANDS = COMMANDS


def _group_plan(project: Project, module: ModuleInfo, flow: HandlerFlow, root: str, members: list[str],
                occurrences: dict[str, list[_Occurrence]],
                written: dict[str, list[tuple[ast.AST, bool, str]]]) -> tuple[str, TmpPathPlan | None]:
    """The directory gets the per-invocation name, every path inside it is spelled from that name, and
    the handler removes the directory whole; or why that cannot be proven to keep the behaviour."""
    handler = flow.reached[flow.handler]
    reached = {key[1] for key in flow.reached if key[0] == module.path}
    made = [how for member in members if member.rstrip("/") == root for _, _, how in written.get(member, [])]
    if not any(how in _DIRECTORY_MAKERS for how in made):
        return (f"the code the handler runs does not make `{root}`, which holds the other paths, so its name "
                "cannot change with theirs"), None
    for member in members:
        if member.rstrip("/") == root:
            continue  # the directory itself ("/tmp/work/" + name spells it too)
        if member not in written:
            return f"nothing the handler runs writes `{member}` inside it: something else puts it there", None
        if all(guarded for _, guarded, _ in written[member]):
            return f"`{member}` inside it is made once per environment, on purpose (under an existence check)", None
    mine = [o for member in members for o in occurrences[member]]
    spelled = {id(o.node) for o in mine}
    if any(id(part) in spelled for n in every_node(module.tree) if isinstance(n, ast.JoinedStr) for part in n.values):
        return "it begins an f-string that names a path at run time, and that f-string would keep the old name", None
    for n in every_node(module.tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and root in n.value \
                and n.value not in members and id(n) not in spelled:
            return "it also appears inside a longer string (a command line?) that would keep the old name", None
    for n in every_node(module.tree):
        if isinstance(n, ast.Call) and module.qualified_name(n.func) in _COMMANDS \
                and any(id(inner) in spelled for argument in [*n.args, *(k.value for k in n.keywords)]
                        for inner in nodes(argument)):
            return (f"a command (`{module.segment(n.func)}`, line {n.lineno}) is given it, and what the command "
                    "does there cannot be followed"), None
    for occurrence in mine:
        if occurrence.function is None:
            return f"code outside functions uses it (line {occurrence.node.lineno})", None
        if occurrence.function not in reached:
            return f"`{occurrence.function}` uses it, and `{handler.name}` does not call it", None
    for member in members:
        if _in_other_files(project, module, member):
            return f"another file of the project mentions `{member}`", None
    outer = [o for member in members if member.rstrip("/") == root for o in occurrences[member]]
    inner = [o for o in mine if o not in outer]
    for o in inner:
        if o.kind == "constant":
            return (f"the module constant `{o.node.id}` names `{_value_of(occurrences, o)}` inside it, "  # type: ignore[attr-defined]
                    "and would have to become a per-invocation value of its own"), None
    root_sites = [site for member in members if member.rstrip("/") == root for site in written.get(member, [])]
    made = _per_invocation_name(project, module, flow, root, outer, mine, root_sites)
    if isinstance(made, str):
        return made, None
    variable, move, request_id = made
    replaced = []
    spelling = _Spelling(module, variable)
    for member in members:
        for o in occurrences[member]:
            if o.kind != "constant":
                replaced.append((Span(*module.span(o.node)), spelling.of(o, member[len(root):])))
    plan = TmpPathPlan(handler.name, variable, root, tuple(sorted(replaced)), move, Cleanup.DIRECTORY,
                       (*request_id[1:], "import shutil"))
    return "", plan


def _value_of(occurrences: dict[str, list[_Occurrence]], occurrence: _Occurrence) -> str:
    return next(value for value, found in occurrences.items() if occurrence in found)


class _Spelling:
    """How a path inside the per-invocation directory is spelled from its name, as the module spells
    paths: `Path(work_dir) / "a.txt"` where it divides a Path, `os.path.join(work_dir, "a.txt")` where
    it joins (or joins paths elsewhere), else `f"{work_dir}/a.txt"`."""

    def __init__(self, module: ModuleInfo, variable: str) -> None:
        self.module, self.variable = module, variable
        joins = [n for n in every_node(module.tree) if isinstance(n, ast.Call)
                 and module.qualified_name(n.func) == "os.path.join"]
        self.join = module.segment(joins[0].func) if joins else None

    def of(self, occurrence: _Occurrence, rest: str) -> str:
        """rest: what follows the directory ("" for the directory itself, "/a.txt" inside it)."""
        node, variable = occurrence.node, self.variable
        parts = [part for part in rest.split("/") if part]
        if occurrence.kind == "division":
            callee = _division(self.module, node, _string_constants(self.module))[1]  # type: ignore[arg-type,index]
            return " / ".join([f"{callee}({variable})", *(_quoted(p) for p in parts)])
        if occurrence.kind == "join":
            join = self.module.segment(node.func) or "os.path.join"  # type: ignore[attr-defined]
            return f"{join}({', '.join([variable, *(_quoted(p) for p in parts)])})" if parts else variable
        if not rest:
            return variable
        if self.join is not None and not rest.endswith("/"):  # a trailing slash only an f-string keeps
            return f"{self.join}({', '.join([variable, *(_quoted(p) for p in parts)])})"
        return f'f"{{{variable}}}{_in_fstring(rest)}"'


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _in_fstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")


def _removed_by_the_handler(module: ModuleInfo, flow: HandlerFlow, value: str,
                            occurrences: dict[str, list[_Occurrence]]) -> TmpReset:
    """Does the handler remove the path (or a directory above it) itself, at entry or on every way out?"""
    handler = flow.reached[flow.handler]
    by_node = {id(o.node): found_value for found_value, found in occurrences.items() for o in found}
    users = {o.function for other, found in occurrences.items() if _related(other, value) for o in found
             if o.function and o.function != handler.name}
    return handler_resets(module, flow, value, by_node, lambda function: _aliases(module, function, by_node),
                          users)  # type: ignore[arg-type]


def _plan(project: Project, module: ModuleInfo, flow: HandlerFlow, value: str,
          occurrences: dict[str, list[_Occurrence]],
          sites: list[tuple[ast.AST, bool, str]]) -> tuple[str, TmpPathPlan | None]:
    handler = flow.reached[flow.handler]
    reached = {key[1] for key in flow.reached if key[0] == module.path}
    mine = occurrences[value]
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and value in n.value and n.value != value
           for n in every_node(module.tree)):
        return "it also appears inside a longer string (a command line?) that would keep the old name", None
    for occurrence in mine:
        if occurrence.function is None:
            return f"code outside functions uses it (line {occurrence.node.lineno})", None
        if occurrence.function not in reached:
            return f"`{occurrence.function}` uses it, and `{handler.name}` does not call it", None
    if _in_other_files(project, module, value):
        return "another file of the project mentions it", None
    made = _per_invocation_name(project, module, flow, value, mine, mine, sites)
    if isinstance(made, str):
        return made, None
    variable, move, request_id = made
    cleanup = Cleanup.DIRECTORY if any(how in _DIRECTORY_MAKERS for _, _, how in sites) else Cleanup.FILE
    imports = list(request_id[1:])
    if cleanup is Cleanup.FILE:
        imports += ["import contextlib", "import os"]
    else:
        imports += ["import shutil"]
    replaced = []
    for o in mine:
        if o.kind == "constant":
            continue  # the constant's name becomes the per-invocation variable
        callee = _division(module, o.node, _string_constants(module))[1] if o.kind == "division" else None  # type: ignore[arg-type]
        replaced.append((Span(*module.span(o.node)), f"{callee}({variable})" if callee else variable))
    plan = TmpPathPlan(handler.name, variable, value, tuple(sorted(replaced)), move, cleanup, tuple(imports))
    return "", plan


def _per_invocation_name(project: Project, module: ModuleInfo, flow: HandlerFlow, value: str,
                         spelled: list[_Occurrence], used: list[_Occurrence],
                         sites: list[tuple[ast.AST, bool, str]]) -> str | tuple[str, Threading, tuple[str, ...]]:
    """The variable that holds value's per-invocation name, made in the handler and passed to the
    helpers that use it: (its name, the move, the request ID's expression and imports), or why not.
    spelled: the occurrences of value itself (a module constant among them lends its name); used:
    every occurrence the move must reach (a directory's and the paths inside it)."""
    handler = flow.reached[flow.handler]
    constants = {o.node.id for o in spelled if o.kind == "constant"}  # type: ignore[attr-defined]
    if len(constants) > 1 or (constants and any(o.kind != "constant" for o in spelled)):
        return "it is spelled both as a constant and directly"
    request_id = _request_id(handler, _called_by_the_project(project, module, handler.name))
    if request_id is None:
        return "the handler has no context parameter, and it is a durable execution that must stay deterministic"
    variable = next(iter(constants)) if constants else _variable_name(module, flow, value, sites)
    threaded = threading_plan(module, flow, variable, {o.function for o in used if o.function})  # type: ignore[arg-type]
    if isinstance(threaded, str):
        return threaded
    called_elsewhere = project.threaded_helper_used_elsewhere(module, threaded)
    if called_elsewhere is not None:
        return (f"`{called_elsewhere}`, which would receive the per-invocation name as a parameter, is used by "
                "another module of the project")
    if variable in scope_bindings(handler).local:
        return f"`{handler.name}` already has a local `{variable}`"
    if _escapes(module, flow, used):
        return "the path is returned, and a per-invocation name would change what the handler returns"
    created = f"{variable} = {_per_invocation(value, request_id[0])}"
    return variable, Threading(name=variable, handler=handler.name, threaded=threaded, created=created), request_id


def _in_other_files(project: Project, module: ModuleInfo, value: str) -> bool:
    """Another file of the run that mentions /tmp names the file: changing its name here would break it."""
    return project.mentioned_elsewhere(module.path, value.rsplit("/", 1)[-1], alongside="/tmp")


def _called_by_the_project(project: Project, module: ModuleInfo, handler: str) -> bool:
    """Does code other than Lambda call the handler: the module's `__main__` block, or another file of
    the run (a test) that imports the module? Such callers pass `None` or a bare object as the context."""
    return any(use.where == "main" for use in module.uses.get(handler, [])) \
        or project.referenced_elsewhere(module, handler)


def _request_id(handler: FunctionNode, called_by_the_project: bool) -> tuple[str, ...] | None:
    """The expression naming this invocation, and the imports it needs. When tests or a script call
    the handler too, their context may have no request ID: a random name serves them."""
    params = [a.arg for a in (*handler.args.posonlyargs, *handler.args.args)]
    if len(params) >= 2 and called_by_the_project:
        return (f"getattr({params[1]}, 'aws_request_id', None) or uuid.uuid4().hex", "import uuid")
    if len(params) >= 2:
        return (f"{params[1]}.aws_request_id",)
    durable = any("durable" in ast.unparse(d) for d in handler.decorator_list)
    if durable:
        return None  # replays must see the same names: no random ones
    return ("uuid.uuid4().hex", "import uuid")


def _per_invocation(value: str, request_id: str) -> str:
    """`/tmp/report.csv` -> f"/tmp/report-{context.aws_request_id}.csv" (the ID before the extension)."""
    directory, base = value.rsplit("/", 1)
    dot = base.find(".", 1)
    stem, extension = (base, "") if dot < 0 else (base[:dot], base[dot:])

    def literal(text: str) -> str:  # as it must be spelled inside an f-string
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")

    return f'f"{literal(directory)}/{literal(stem)}-{{{request_id}}}{literal(extension)}"'


def _variable_name(module: ModuleInfo, flow: HandlerFlow, value: str, sites: list[tuple[ast.AST, bool, str]]) -> str:
    base = value.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
    base = re.sub(r"\W+", "_", base).strip("_").lower() or "tmp"
    if base[0].isdigit():
        base = "tmp_" + base
    directory = any(how in _DIRECTORY_MAKERS for _, _, how in sites)
    candidate = f"{base}_dir" if directory else f"{base}_path"
    taken = set(module.binding_counts) | set(module.imports)
    for key, node in flow.reached.items():
        if key[0] == module.path:
            taken |= scope_bindings(node).local
    name, number = candidate, 2
    while name in taken:
        name, number = f"{candidate}_{number}", number + 1
    return name


_PATH_BUILDERS = frozenset({"str", "pathlib.Path", "Path", "os.path.join", "os.path.abspath", "os.fspath"})


def _escapes(module: ModuleInfo, flow: HandlerFlow, mine: list[_Occurrence]) -> bool:
    """Is the path returned (so someone may use the file after the invocation)?"""
    nodes = {id(o.node) for o in mine}

    def may_be_path(expr: ast.AST) -> bool:
        if id(expr) in nodes:
            return True
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return any(may_be_path(e) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            return any(v is not None and may_be_path(v) for v in expr.values)
        if isinstance(expr, ast.JoinedStr):
            return any(isinstance(v, ast.FormattedValue) and may_be_path(v.value) for v in expr.values)
        if isinstance(expr, ast.BinOp):
            return may_be_path(expr.left) or may_be_path(expr.right)
        if isinstance(expr, ast.IfExp):
            return may_be_path(expr.body) or may_be_path(expr.orelse)
        if isinstance(expr, ast.Call) and module.qualified_name(expr.func) in _PATH_BUILDERS:
            return any(may_be_path(a) for a in expr.args)
        return False  # a call given the path returns something else: its content, its size, a listing

    for key, function in flow.reached.items():
        if key[0] != module.path:
            continue
        for node in every_node(function):
            if isinstance(node, ast.Return) and node.value is not None and may_be_path(node.value):
                return True
    return False
