"""Which calls write, create or remove which path: `open(path, "w")`, `os.makedirs(path)`,
`s3.download_file(bucket, key, path)`, `Path(path).write_text(...)`, `df.to_csv(path)`, ...

Beyond the calls known by name, any call whose name says it writes (`img.save(path)`,
`Repo.clone_from(url, path)`, `audio.export(path)`, `pdf.output(path)`, `joblib.dump(model, path)`:
see _WRITE_VERBS), any `open`-like call in a writing mode (`gzip.open(path, "wb")`,
`zipfile.ZipFile(path, "w")`), and a command given the path (`subprocess.run(["ffmpeg", ..., path])`)
writes every path it is handed: what a library or a program does with a path under /tmp it is told to
write to cannot be followed, and writing is what such a call is for."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..analysis.module import ModuleInfo

_OPEN_WRITE_MODE = re.compile(r"[wax+]")
# (qualified function or method name, index of the path argument, keyword name): calls that write it
_WRITING_FUNCTIONS = {
    "os.makedirs": (0, "name"), "os.mkdir": (0, "path"), "os.remove": (0, "path"), "os.unlink": (0, "path"),
    "os.rmdir": (0, "path"), "shutil.rmtree": (0, "path"), "shutil.copy": (1, "dst"), "shutil.copy2": (1, "dst"),
    "shutil.copyfile": (1, "dst"), "shutil.move": (1, "dst"), "shutil.copytree": (1, "dst"),
    "os.rename": (1, "dst"), "os.replace": (1, "dst"), "sqlite3.connect": (0, "database"),
    "cv2.imwrite": (0, "filename"), "urllib.request.urlretrieve": (1, "filename"),
}
_WRITING_METHODS = {  # method name -> (index of the path argument, keyword name)
    "download_file": (2, "Filename"), "to_csv": (0, "path_or_buf"), "to_parquet": (0, "path"),
    "to_json": (0, "path_or_buf"), "to_excel": (0, "excel_writer"), "savefig": (0, "fname"),
    "save": (0, "fp"), "extractall": (0, "path"),
}
_PATH_METHODS = frozenset({"write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir"})
# The start of a function's or method's name that says it writes where it is told.
_WRITE_VERBS = ("save", "write", "export", "download", "dump", "to_", "extract", "store", "clone", "output",
                "render", "retrieve", "unpack", "imsave", "imwrite", "make_archive", "checkout", "fetch_to")
# Openers whose second argument (or `mode`) is a mode, as `open`'s is.
_OPENERS = frozenset({"open", "ZipFile", "TarFile", "NamedTemporaryFile"})
# Commands run with the path among their arguments: the program may write it (its output file).
COMMANDS = frozenset({
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
    "os.system", "os.popen", "os.execv", "os.execvp", "os.execl", "os.execlp", "os.spawnv", "os.spawnl",
})


def written_paths(module: ModuleInfo, call: ast.Call, aliases: dict[str, ast.AST]) -> Iterator[tuple[ast.AST, str]]:
    """Yields (path node, how) for each path the call writes, creates or removes."""
    func = call.func
    qualified = module.qualified_name(func)

    def resolve(node: ast.AST | None) -> ast.AST | None:
        return aliases.get(node.id, node) if isinstance(node, ast.Name) else node

    def argument(index: int, keyword: str) -> ast.AST | None:
        if len(call.args) > index:
            return resolve(call.args[index])
        return resolve(next((k.value for k in call.keywords if k.arg == keyword), None))

    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    # An opener of a module (`gzip.open`, `zipfile.ZipFile`): its first argument is the path; a path
    # object's own `open(mode)` is below.
    if (qualified in ("open", "io.open") or (name in _OPENERS and qualified is not None
                                             and qualified != "tempfile.NamedTemporaryFile")) and call.args:
        mode = argument(1, "mode")
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _OPEN_WRITE_MODE.search(mode.value):
            yield resolve(call.args[0]), "open"
    elif qualified in COMMANDS:
        # Every argument but the program: a /tmp path among them may be what it writes.
        arguments = [*call.args, *(k.value for k in call.keywords if k.arg in (None, "args"))]
        for index, argument_node in enumerate(arguments):
            elements = argument_node.elts if isinstance(argument_node, (ast.List, ast.Tuple)) else [argument_node]
            for position, element in enumerate(elements):
                if index == 0 and position == 0 and isinstance(argument_node, (ast.List, ast.Tuple)):
                    continue  # the program itself (`/tmp/ffmpeg` copied there once, say)
                for node in ast.walk(element):  # inside an f-string command line too
                    yield resolve(node), "command"
    elif qualified in _WRITING_FUNCTIONS:
        index, keyword = _WRITING_FUNCTIONS[qualified]
        target = argument(index, keyword)
        if target is not None:
            yield target, qualified
        if qualified in ("os.rename", "os.replace", "shutil.move") and call.args:
            yield call.args[0], qualified  # the source disappears
    elif isinstance(func, ast.Attribute):
        receiver = func.value
        path_object = aliases.get(receiver.id) if isinstance(receiver, ast.Name) else None
        if path_object is not None and (func.attr in _PATH_METHODS or func.attr == "open"):
            mode = argument(0, "mode")
            if func.attr != "open" or (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                                       and _OPEN_WRITE_MODE.search(mode.value)):
                yield path_object, func.attr
        elif isinstance(receiver, ast.BinOp) and (func.attr in _PATH_METHODS or func.attr == "open"):
            mode = argument(0, "mode")
            if func.attr != "open" or (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                                       and _OPEN_WRITE_MODE.search(mode.value)):
                yield receiver, func.attr  # `(Path(WORK) / "a.txt").open("a")`
        elif isinstance(receiver, ast.Call) and module.qualified_name(receiver.func) in ("pathlib.Path", "Path") \
                and receiver.args:
            mode = argument(0, "mode")
            if func.attr in _PATH_METHODS or (func.attr == "open" and isinstance(mode, ast.Constant)
                                              and isinstance(mode.value, str)
                                              and _OPEN_WRITE_MODE.search(mode.value)):
                yield receiver.args[0], func.attr
        elif func.attr == "download_file":
            # `client.download_file(Bucket, Key, Filename)`, `bucket.download_file(Key, Filename)`,
            # `obj.download_file(Filename)`: the file name comes last, or by keyword.
            target = next((k.value for k in call.keywords if k.arg == "Filename"), None) or \
                (call.args[-1] if call.args else None)
            if target is not None:
                yield resolve(target), func.attr
        elif func.attr in _WRITING_METHODS:
            index, keyword = _WRITING_METHODS[func.attr]
            target = argument(index, keyword)
            if target is not None:
                yield target, func.attr
        elif func.attr.lower().startswith(_WRITE_VERBS):
            yield from _every_argument(call, resolve, func.attr)
    elif isinstance(func, ast.Name) and func.id.lower().startswith(_WRITE_VERBS) and func.id not in module.functions \
            and func.id not in module.classes:
        yield from _every_argument(call, resolve, func.id)


def _every_argument(call: ast.Call, resolve, how: str) -> Iterator[tuple[ast.AST, str]]:  # noqa: ANN001
    """Each argument of a call that writes where it is told: the caller keeps those under /tmp."""
    for node in (*call.args, *(k.value for k in call.keywords)):
        if not isinstance(node, ast.Starred):
            yield resolve(node), how
