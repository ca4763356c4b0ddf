"""LF003's report on /tmp paths a handler builds at run time and never removes.

`f"/tmp/{key}"`, `"/tmp/" + name`, `"/tmp/{}".format(name)`, `os.path.join("/tmp", name)`,
`os.path.join(tempfile.gettempdir(), name)`, `Path("/tmp") / name`: written on every invocation, such a
file stays in the environment. Named anew per invocation (from the request, a UUID, the time, a random
number), each warm invocation leaves another file, filling the environment's ephemeral storage (and a
later request for the same name finds the file an earlier one left). Named the same way every time
(from the environment, a constant, a loop index), it is a fixed path like a literal. Neither is
rewritten: a name made at run time cannot be proven free of other uses, so the finding says what to
do. Relative names written after `os.chdir("/tmp")` are fixed paths there, reported as well. Left
alone: files under an existence check (a per-key cache, or a marker, on purpose), files made
with tempfile, and handlers that remove files themselves.
"""

from __future__ import annotations

import ast
import re

from ..analysis.flow import HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.scopes import FunctionNode, assigned_once, scope_bindings
from ..analysis.walk import every_node
from ..codes import code_of
from ._diagnosis import Diagnosis
from ._tmp_writes import written_paths

CODE = code_of("fixed_tmp_path")  # a part of that rule's decision

# Words that make a name new on every invocation (or call): the files pile up.
_NEW_EACH_TIME = re.compile(r"uuid|request_id|time|now\(|random|randint|token_|urandom|getpid")
# Files that tempfile makes are its business (removed by their context manager, or named uniquely).
_TEMPFILE = re.compile(r"mkstemp|mkdtemp|NamedTemporaryFile|TemporaryDirectory|TemporaryFile")
# A handler that removes files (or empties /tmp) manages their life itself.
_REMOVES = re.compile(r"\b(?:remove|unlink|rmtree|rmdir)\(|\brm\s+-|\brm\s+/tmp|cleanup|clean_up|clear_tmp")
_EXISTS = frozenset({"exists", "isfile", "isdir", "is_file", "is_dir", "lexists"})


def runtime_paths(module: ModuleInfo, flow: HandlerFlow, known: set[int], fresh: set[int]) -> list[Diagnosis]:
    """Reports for the /tmp files the handler's own module writes under names built at run time.
    known: the nodes of the paths the rule itself judges (literals and constants), skipped here;
    fresh: those of directories each invocation has anew (the rule's fix, or the handler's own removal
    makes them so): a name built in one (`os.path.join(WORK, name)`) leaves nothing behind."""
    reached = [(key[1], function) for key, function in flow.reached.items() if key[0] == module.path]
    text = "\n".join(module.segment(function) or "" for _, function in reached)
    if _REMOVES.search(text):
        return []
    found: dict[str, Diagnosis] = {}
    moved = _moved_into_tmp(module, reached)
    for name, function in reached:
        per_request = flow.tainted_names.get((module.path, name), frozenset())
        assigned = _assigned_once(function)
        for node in every_node(function):
            if not isinstance(node, ast.Call) or module.suppressed(node.lineno, CODE):
                continue
            for target, via in _paths_written_by(module, node):
                spelled = target
                if isinstance(target, ast.Name) and target.id in assigned:
                    spelled = assigned[target.id]
                spelled = _unwrapped(module, spelled)
                shown = module.segment(spelled)
                if moved is not None and _relative(spelled) and shown not in found:
                    found[shown] = _relative_report(module, flow, name, node, shown, moved)
                    continue
                if shown is None or shown in found or id(spelled) in known or not _built_under_tmp(module, spelled) \
                        or id(_base(module, spelled)) in fresh:
                    continue
                made_of = _expanded(module, spelled, assigned)
                if _TEMPFILE.search(made_of) or _checked_for(module, function, target, spelled):
                    continue
                found[shown] = _report(module, flow, name, node, shown, _names(spelled, assigned) & per_request,
                                       bool(_NEW_EACH_TIME.search(made_of)), via)
    return list(found.values())


def _paths_written_by(module: ModuleInfo, call: ast.Call) -> list[tuple[ast.AST, str | None]]:
    """The paths a call writes: itself (`open(p, "w")`), or through a function of the module it hands
    them to (`resize(src, out)`, where `resize` writes its parameter `out`): (path, that function)."""
    written: list[tuple[ast.AST, str | None]] = [(target, None) for target, _ in written_paths(module, call, {})]
    callee = module.functions.get(call.func.id) if isinstance(call.func, ast.Name) else None
    if callee is None or call.func.id in module.imports:  # type: ignore[union-attr]
        return written
    params = [a.arg for a in (*callee.args.posonlyargs, *callee.args.args)]
    by_param = dict(zip(params, call.args))
    by_param.update({k.arg: k.value for k in call.keywords if k.arg})
    for node in every_node(callee):
        if isinstance(node, ast.Call):
            for target, _ in written_paths(module, node, {}):
                if isinstance(target, ast.Name) and target.id in by_param and not isinstance(target.ctx, ast.Store):
                    written.append((by_param[target.id], callee.name))
    return written


def _report(module: ModuleInfo, flow: HandlerFlow, function: str, call: ast.Call, shown: str,
            from_request: set[str], new_each_time: bool, via: str | None = None) -> Diagnosis:
    handler = flow.handler[1]
    where = "" if (module.path, function) == flow.handler else f" (in `{function}`)"
    if via:
        where += f" (by `{via}`, which it is handed to)"
    short = shown if len(shown) <= 50 else shown[:47] + "..."
    if from_request or new_each_time:
        how = "made anew each time" if new_each_time else "taken from the request"
        message = (f"`{short}` is written on every invocation of `{handler}`{where} under a name {how}, and "
                   "never removed: each warm invocation leaves another file in the environment's /tmp "
                   "(512 MB by default)")
        if from_request and not new_each_time:
            message += ", and a request for the same name finds the one an earlier request left"
    else:
        message = (f"`{short}` is written while `{handler}` runs{where}, under a name that does not change "
                   "from one invocation to the next, and outlives the invocation: the next warm invocation "
                   "finds what the previous one left there")
    reason = ("its name is made at run time; remove the file when the invocation is done with it "
              "(`try`/`finally` with `os.remove`), or make it under `tempfile.TemporaryDirectory()`")
    return Diagnosis.reported(CODE, call.lineno, call.col_offset, message, reason)


def _moved_into_tmp(module: ModuleInfo, reached: list[tuple[str, FunctionNode]]) -> int | None:
    """The line of an `os.chdir("/tmp")` in reached code: after it, relative names are under /tmp."""
    for _, function in reached:
        for node in every_node(function):
            if isinstance(node, ast.Call) and module.qualified_name(node.func) == "os.chdir" and node.args \
                    and _tmp_text(module, node.args[0]):
                return node.lineno
    return None


def _relative(node: ast.AST) -> bool:
    """A name that starts with a relative part: "out.json", f"out-{key}.json"."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value) \
        and not node.value.startswith(("/", "~"))


def _relative_report(module: ModuleInfo, flow: HandlerFlow, function: str, call: ast.Call, shown: str,
                     chdir_line: int) -> Diagnosis:
    where = "" if (module.path, function) == flow.handler else f" (in `{function}`)"
    message = (f"`{shown}` is written while `{flow.handler[1]}` runs{where}, in /tmp, where `os.chdir` (line "
               f"{chdir_line}) moved the process: a fixed path, and the next warm invocation finds what the "
               "previous one left there")
    reason = ("the working directory is the process's, shared by every invocation; write to a path of the "
              "invocation's own (`tempfile.TemporaryDirectory()`), and remove it when the invocation is done")
    return Diagnosis.reported(CODE, call.lineno, call.col_offset, message, reason)


def _names(node: ast.AST, assigned: dict[str, ast.expr], depth: int = 3) -> set[str]:
    """The names node reads, and those the locals among them were assigned from (a few steps back)."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if depth:
        for name in list(names):
            if name in assigned:
                names |= _names(assigned[name], assigned, depth - 1)
    return names


def _expanded(module: ModuleInfo, node: ast.AST, assigned: dict[str, ast.expr]) -> str:
    """node's source, and the sources of what its locals were assigned from."""
    parts = [module.segment(node) or ""]
    parts += [module.segment(assigned[name]) or "" for name in _names(node, assigned) if name in assigned]
    return "\n".join(parts)


def _assigned_once(function: FunctionNode) -> dict[str, ast.expr]:
    """Each local the function gives one value, and that value."""
    values = {name: assigned_once(function, name) for name in scope_bindings(function).local}
    return {name: value for name, value in values.items() if value is not None}


def _unwrapped(module: ModuleInfo, node: ast.AST) -> ast.AST:
    """`Path(x)`, `str(x)` -> x."""
    while isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords \
            and module.qualified_name(node.func) in ("pathlib.Path", "Path", "str"):
        node = node.args[0]
    return node


def _tmp_text(module: ModuleInfo, node: ast.AST) -> bool:
    """"/tmp", "/tmp/...", or `tempfile.gettempdir()`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == "/tmp" or node.value.startswith("/tmp/")
    return isinstance(node, ast.Call) and module.qualified_name(node.func) == "tempfile.gettempdir"


def _built_under_tmp(module: ModuleInfo, node: ast.AST) -> bool:
    """A name under /tmp with at least one part computed at run time (constant names are the rule's own)."""
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and _tmp_text(module, node.values[0]) and any(
            isinstance(v, ast.FormattedValue) and not _constant(v.value) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
        left = node.left
        while isinstance(left, ast.BinOp) and isinstance(left.op, type(node.op)):
            left = left.left
        if isinstance(node.op, ast.Div):
            left = _unwrapped(module, left)
        return _tmp_text(module, left) and not _constant(node)
    if isinstance(node, ast.Call):
        qualified = module.qualified_name(node.func)
        if qualified == "os.path.join" and node.args:
            return _tmp_text(module, node.args[0]) and not all(_constant(a) for a in node.args)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return _tmp_text(module, node.func.value) and bool(node.args or node.keywords)
    return False


def _base(module: ModuleInfo, node: ast.AST) -> ast.AST:
    """The directory a built name starts from: `os.path.join(base, ...)`, `base + ...`, `Path(base) / ...`."""
    if isinstance(node, ast.Call) and module.qualified_name(node.func) == "os.path.join" and node.args:
        return node.args[0]
    if isinstance(node, ast.BinOp):
        while isinstance(node, ast.BinOp):
            node = node.left
        return _unwrapped(module, node)
    return node


def _constant(node: ast.AST) -> bool:
    return all(isinstance(n, (ast.Constant, ast.BinOp, ast.operator, ast.JoinedStr)) for n in ast.walk(node)) \
        and not any(isinstance(n, ast.FormattedValue) for n in ast.walk(node))


def _checked_for(module: ModuleInfo, function: FunctionNode, target: ast.AST, spelled: ast.AST) -> bool:
    """Does the function look whether the file is there (`os.path.exists(path)`, `Path(p).exists()`)?
    Then the file is kept on purpose: a per-key cache, a marker of work already done."""
    names = {target.id} if isinstance(target, ast.Name) else set()
    dump = ast.dump(spelled)
    for node in every_node(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if attr not in _EXISTS:
            continue
        subjects = [*node.args, func.value] if isinstance(func, ast.Attribute) else list(node.args)
        for subject in subjects:
            subject = _unwrapped(module, subject)
            if (isinstance(subject, ast.Name) and subject.id in names) or ast.dump(subject) == dump:
                return True
    return False
