"""Which Python each file's fixes are written for, from what the project declares (target.py says
in which order): read once per directory of the run, in the main process, before any file is analysed.

Declarations are read, never trusted to do more than choose a version: one that cannot be read or
parsed declares nothing, and an older version than the real one only makes a fix spell itself the
older way.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from pathlib import Path
from typing import Iterable

from . import target
from .files import read_regular
from .target import Declared, Version


_MAX_SIZE = 4 * 1024 * 1024
_SETUP_PY = re.compile(r"""python_requires\s*=\s*(['"])([^'"]+)\1""")
# A project's root: the look for requires-python goes no higher.
_ROOT_MARKERS = (".git", ".hg")

Targets = tuple[tuple[str, Version, str], ...]  # (absolute directory, version, why), sorted


def targets_for(files: Iterable[str], explicit: Version | None, declared: Iterable[Declared]) -> Targets:
    """The target of every directory that holds one of files."""
    declared = tuple(declared)
    found: dict[str, tuple[Version, str]] = {}
    requires = _RequiresPython()
    for path in files:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in found:
            # Templates name their code directories as they really are (links resolved).
            real = os.path.realpath(directory)
            found[directory] = target.choose(real + os.sep, explicit, declared,
                                             None if explicit else requires.nearest(directory))
    return tuple(sorted((d, version, why) for d, (version, why) in found.items()))


class _RequiresPython:
    """The nearest declared `requires-python` at or above a directory, one look per directory."""

    def __init__(self) -> None:
        self._by_directory: dict[str, tuple[Version, str] | None] = {}

    def nearest(self, directory: str) -> tuple[Version, str] | None:
        if directory not in self._by_directory:
            here = _declared_in(directory)
            if here is None and not any(os.path.exists(os.path.join(directory, m)) for m in _ROOT_MARKERS):
                parent = os.path.dirname(directory)
                here = None if parent == directory else self.nearest(parent)
            self._by_directory[directory] = here
        return self._by_directory[directory]


def _declared_in(directory: str) -> tuple[Version, str] | None:
    for name, read in (("pyproject.toml", _pyproject), ("setup.cfg", _setup_cfg), ("setup.py", _setup_py)):
        path = Path(directory, name)
        if not path.is_file():
            continue
        try:
            specifier = read(read_regular(path, _MAX_SIZE).decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError, MemoryError):
            continue  # declares nothing we can read; discovery and settings report what matters
        bound = target.lower_bound(specifier) if specifier else None
        if bound is not None:
            return bound, f"{path}: requires-python {specifier.strip()!r}"
    return None


def _pyproject(text: str) -> str | None:
    data = tomllib.loads(text)  # TOMLDecodeError is a ValueError
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        return project["requires-python"]
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    dependencies = poetry.get("dependencies") if isinstance(poetry, dict) else None
    python = dependencies.get("python") if isinstance(dependencies, dict) else None
    return python if isinstance(python, str) else None


def _setup_cfg(text: str) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(str(exc)) from exc
    return parser.get("options", "python_requires", fallback=None)


def _setup_py(text: str) -> str | None:
    match = _SETUP_PY.search(text)
    return match.group(2) if match else None
