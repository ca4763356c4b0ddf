"""Which files a run covers: Python files under the given paths, minus what should never be touched."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pathspec

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


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> Discovery:
    files: list[str] = []
    errors: list[tuple[str, str]] = []
    extra = pathspec.GitIgnoreSpec.from_lines(list(exclude))
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(str(path))  # named on the command line: always included
        elif path.is_dir():
            _walk(path, extra, files, errors)
        elif path.is_symlink():
            errors.append((raw, "broken symbolic link"))
        else:
            errors.append((raw, "no such file or directory"))
    unique = sorted(set(files))
    return Discovery(tuple(unique), tuple(errors))


def _walk(root: Path, extra: pathspec.GitIgnoreSpec, files: list[str], errors: list[tuple[str, str]]) -> None:
    ignores: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    seen: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        errors.append((exc.filename or str(root), f"cannot read directory: {exc.strerror or exc}"))

    for directory, subdirs, names in os.walk(root, onerror=on_error, followlinks=True):
        here = Path(directory)
        try:
            stat = here.stat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen:  # a symlink loop: walk each directory once
            subdirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        gitignore = here / ".gitignore"
        if gitignore.is_file():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
                ignores.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError:
                pass

        def ignored(path: Path, is_dir: bool) -> bool:
            relative = path.relative_to(root).as_posix() + ("/" if is_dir else "")
            if extra.match_file(relative):
                return True
            for base, spec in ignores:
                if base == path or base not in path.parents:
                    continue
                if spec.match_file(path.relative_to(base).as_posix() + ("/" if is_dir else "")):
                    return True
            return False

        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info")
                            and not ignored(here / d, True) and not (here / d / "pyvenv.cfg").exists())
        for name in sorted(names):
            if name.endswith(".py") and not ignored(here / name, False):
                files.append(str(here / name))
