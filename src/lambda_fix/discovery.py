"""Which files a run covers: Python files under the given paths, minus what should never be touched."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .files import is_leftover_name, read_regular

if TYPE_CHECKING:
    import pathspec

_MAX_GITIGNORE = 4 * 1024 * 1024

# Directories that hold no project code: VCS data, environments, dependencies, build output, caches.
SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "virtualenv", "node_modules",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist",
    ".aws-sam", ".serverless", "cdk.out", "site-packages", ".eggs",
})


@dataclass(frozen=True)
class Discovery:
    files: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]  # (path, reason)
    named: tuple[str, ...] = ()  # the files named on the command line: always parsed
    # Temporary files of lambda-fix's own writes (files.py) found on the way, which a killed run may
    # have left: (directory, name).
    leftovers: tuple[tuple[str, str], ...] = ()
    # Deployment templates the walk passed (templates.py reads them): one in a directory that holds no
    # Python file (`infra/template.yaml`, its code under `../src`) names its handlers too.
    templates: tuple[str, ...] = ()


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> Discovery:
    files: list[str] = []
    named: list[str] = []
    errors: list[tuple[str, str]] = []
    leftovers: list[tuple[str, str]] = []
    templates: list[str] = []
    extra = _spec(list(exclude)) if exclude else None
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(str(path))  # named on the command line: always included
            named.append(str(path))
        elif path.is_dir():
            _walk(path, extra, files, errors, leftovers, templates)
        else:
            errors.append((raw, _why_missing(raw)))
    for directory in dict.fromkeys(os.path.dirname(path) or "." for path in named):  # each listed once
        leftovers.extend((directory, n) for n in _listdir(directory) if is_leftover_name(n))
    unique = sorted(set(files))
    return Discovery(tuple(unique), tuple(errors), tuple(sorted(set(named))), tuple(dict.fromkeys(leftovers)),
                     tuple(sorted(set(templates))))


# What marks the top of a project, besides a repository's `.git`: a packaging file or a deployment
# definition (templates.py reads the same names).
TEMPLATE_NAMES = ("template.yaml", "template.yml", "serverless.yml", "serverless.yaml")
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", *TEMPLATE_NAMES)


def project_root(path: str, top: str | None = None) -> str | None:
    """The project a file named on the command line belongs to, which its analysis looks across: the
    repository that holds it (the nearest directory up with a `.git`, as pre-commit and a pull request
    see it), else the nearest with a packaging file or a deployment template; never above the working
    directory (or top: an editor's workspace) when the file is inside it, as imports resolve and
    templates are read no higher. None for a file of no project (a scratch file in a home directory):
    it is analysed on its own."""
    directory = os.path.dirname(os.path.abspath(path))
    cwd = os.path.abspath(top) if top else os.getcwd()
    inside = directory == cwd or directory.startswith(cwd.rstrip(os.sep) + os.sep)
    nearest = None
    for candidate in _upwards(directory, cwd if inside else None):
        if os.path.exists(os.path.join(candidate, ".git")):
            return candidate
        if nearest is None and any(os.path.isfile(os.path.join(candidate, m)) for m in PROJECT_MARKERS):
            nearest = candidate
    return nearest


def _upwards(directory: str, last: str | None) -> Iterator[str]:
    """directory and those above it, up to last (or the root of the file system)."""
    while True:
        yield directory
        parent = os.path.dirname(directory)
        if directory == last or parent == directory:
            return
        directory = parent


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def _why_missing(raw: str) -> str:
    try:
        os.stat(raw)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if os.path.islink(raw):
            return "broken symbolic link"
        if exc.errno == errno.EACCES:
            return "permission denied"
        return "no such file or directory" if exc.errno == errno.ENOENT else f"cannot read: {exc.strerror}"
    return "not a regular file or directory"


def exclusion(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The `exclude` setting's gitignore-style patterns, to match paths relative to where they apply."""
    return _spec(list(patterns))


def _spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    import pathspec  # only when there are patterns: the import costs a tenth of a cached run

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _walk(root: Path, extra: pathspec.GitIgnoreSpec | None, files: list[str], errors: list[tuple[str, str]],
          leftovers: list[tuple[str, str]], templates: list[str]) -> None:
    # Plain strings and os functions: on a large repository pathlib alone costs more than a cached run.
    ignores: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # (directory + "/", its .gitignore)
    seen: set[tuple[int, int]] = set()
    top = str(root)  # normalised by Path: "a", not "./a/"; files are named as pathlib would join them
    top_prefix = "" if top == "." else top.rstrip("/") + "/"

    def on_error(exc: OSError) -> None:
        errors.append((exc.filename or top, f"cannot read directory: {exc.strerror or exc}"))

    def ignored(path: str, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if extra is not None and extra.match_file(path[len(top_prefix):] + suffix):
            return True
        return any(path.startswith(base) and spec.match_file(path[len(base):] + suffix) for base, spec in ignores)

    real_top = os.path.realpath(top)
    for directory, subdirs, names in os.walk(top, onerror=on_error, followlinks=True):
        try:
            stat = os.stat(directory)
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen:  # a symlink loop: walk each directory once
            subdirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        here = top_prefix + directory[len(top):].strip("/") + "/" if directory != top else top_prefix
        if ".gitignore" in names:
            try:
                lines = read_regular(here + ".gitignore", _MAX_GITIGNORE).decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            if [line.strip() for line in lines if line.strip() and not line.startswith("#")] == ["*"]:
                # A cache's own (lambda-fix's, Ruff's, pytest's): all of it is ignored, no patterns to compile.
                subdirs[:] = []
                leftovers.extend((here or ".", n) for n in sorted(names) if n.startswith(".") and is_leftover_name(n))
                continue
            if lines:
                ignores.append((here, _spec(lines)))
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info")
                            and not ignored(here + d, True) and not os.path.exists(here + d + "/pyvenv.cfg")
                            and not _leaves_the_root(here + d, real_top))
        for name in sorted(names):
            if name.endswith(".py") and not ignored(here + name, False):
                files.append(here + name)
            elif name in TEMPLATE_NAMES and not ignored(here + name, False):
                templates.append(here + name)
            elif name.startswith(".") and is_leftover_name(name):
                leftovers.append((here or ".", name))


def _leaves_the_root(directory: str, real_top: str) -> bool:
    """A link to a directory outside the walk's root (`..`, `/`, `/proc`, another checkout) would take
    the walk, and a run that writes, outside the project: such a link is not followed. Only links are
    asked (one readlink)."""
    if not os.path.islink(directory):
        return False
    real = os.path.realpath(directory)
    return not (real == real_top or real.startswith(real_top.rstrip("/") + "/"))
