"""Which calls write, create or remove which path: `open(path, "w")`, `os.makedirs(path)`,
`s3.download_file(bucket, key, path)`, `Path(path).write_text(...)`, `df.to_csv(path)`, ..."""

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

    if qualified in ("open", "io.open") and call.args:
        mode = argument(1, "mode")
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _OPEN_WRITE_MODE.search(mode.value):
            yield resolve(call.args[0]), "open"
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
        elif func.attr in _WRITING_METHODS:
            index, keyword = _WRITING_METHODS[func.attr]
            target = argument(index, keyword)
            if target is not None:
                yield target, func.attr
