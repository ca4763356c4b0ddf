"""The copy of the project that `probe --after` rewrites: directories and regular files of its own,
never a symbolic link, so that nothing the rewrite writes can land outside it.

A link is copied as what it points to, as the handler's imports see it (a module linked from a shared
directory outside the project, the tree a link inside it names again). What cannot be copied that way
is left out and said: a link to nothing, a link loop, a directory that holds the project (a link to
`..` or `/`), and what is not a regular file or a directory (a FIFO, `/dev/zero`, a socket), whose
reading could block or never end.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable

# Lambda runs a function's image of up to 10 GB: a project that copies to more than that is a link
# to somewhere else (a home directory, a sparse file), not what the function holds.
LIMIT_BYTES = 10 * 1024 ** 3
LIMIT_FILES = 500_000
_CHUNK = 1024 * 1024


class CopyError(Exception):
    """The project cannot be copied within the limits."""


def copy_project(root: str, copy: str,
                 ignore: Callable[[str, list[str]], Iterable[str]] | None = None) -> list[tuple[str, str]]:
    """Copy root to copy (which must not exist), and return what was left out: (path relative to
    root, why). ignore is shutil.copytree's: the names of a directory's entries not to copy."""
    real_root = os.path.realpath(root)
    budget = _Budget()
    skipped: list[tuple[str, str]] = []
    top = os.stat(root)
    os.mkdir(copy)
    # Depth first, without recursion: a deep tree must not reach Python's recursion limit.
    stack: list[tuple[str, str, str, frozenset[tuple[int, int]]]] = [
        (root, copy, "", frozenset({(top.st_dev, top.st_ino)}))]
    while stack:
        source_dir, target_dir, relative_dir, ancestors = stack.pop()
        try:
            names = sorted(os.listdir(source_dir))
        except OSError as exc:
            skipped.append((relative_dir or ".", f"cannot be read: {exc.strerror or exc}"))
            continue
        left_out = set(ignore(source_dir, names)) if ignore else set()
        for name in names:
            if name in left_out:
                continue
            source, target = os.path.join(source_dir, name), os.path.join(target_dir, name)
            relative = os.path.join(relative_dir, name)
            try:
                info = os.stat(source)  # what a link points to
            except OSError as exc:
                skipped.append((relative, _unreachable(source, exc)))
                continue
            if stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors or (os.path.islink(source) and _within(real_root, os.path.realpath(source))):
                    skipped.append((relative, "a symbolic link to a directory that holds it (a loop)"))
                    continue
                budget.spend(0)  # links can name one directory many times over: each is copied again
                os.mkdir(target)
                stack.append((source, target, relative, ancestors | {key}))
            elif stat.S_ISREG(info.st_mode):
                why = _copy_file(source, target, budget)
                if why:
                    skipped.append((relative, why))
            else:
                skipped.append((relative, "not a regular file or a directory (a FIFO, a device or a socket)"))
    return sorted(skipped)


class _Budget:
    def __init__(self) -> None:
        self.bytes = self.entries = 0

    def spend(self, size: int) -> None:
        self.bytes += size
        self.entries += 1
        if self.bytes > LIMIT_BYTES or self.entries > LIMIT_FILES:
            raise CopyError(f"the project copies to more than {LIMIT_FILES} files and directories or "
                            f"{LIMIT_BYTES // 1024 ** 3} GB (a symbolic link to a large directory or file?): "
                            "--after cannot copy it")


def _copy_file(source: str, target: str, budget: _Budget) -> str | None:
    """Copy a regular file's bytes, as many as it held when opened (a file that grows while it is read
    is not followed), with its permission bits; None, or why it was not copied."""
    try:
        # Non-blocking: what was a regular file when looked at may be a FIFO by now, whose open would wait.
        reading = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    with os.fdopen(reading, "rb", buffering=0) as stream:
        info = os.fstat(reading)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file or a directory (a FIFO, a device or a socket)"
        budget.spend(info.st_size)
        try:
            with open(target, "xb") as out:
                left = info.st_size
                while left > 0:
                    try:
                        chunk = stream.read(min(_CHUNK, left))
                    except OSError as exc:
                        out.close()
                        os.unlink(target)
                        return f"cannot be read: {exc.strerror or exc}"
                    if not chunk:
                        break  # it shrank while being read
                    out.write(chunk)
                    left -= len(chunk)
            os.chmod(target, stat.S_IMODE(info.st_mode) & 0o777)
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        except OSError as exc:  # the copy's side: a full disk
            raise CopyError(f"cannot copy the project: {exc.strerror or exc}") from exc
    return None


def _unreachable(path: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "a symbolic link to nothing"
    return f"cannot be read: {exc.strerror or exc}"


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
