"""Reading and replacing files as a tree from anyone may offer them.

A walked tree can hold a FIFO or a device under a `.py` name (reading either never ends) or a file
that grows while it is read; a run can be killed in the middle of a write. So every file is opened
without blocking, read only when it is a regular file no larger than the caller allows, and replaced
through a temporary file whose name says which process made it, so a later run can remove what a
killed one left.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

# The most any file is read for: far above any real source, settings or cache file, far below
# what would exhaust a worker's memory.
READ_LIMIT = 64 * 1024 * 1024

_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a directory: never read."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind}): not read", path)


class TooLarge(OSError):
    """The file is larger than the caller reads."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"too large to read ({_size(size)}; the limit is {_size(limit)})", path)
        self.size = size


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def read_regular(path: str | os.PathLike[str], limit: int = READ_LIMIT) -> bytes:
    """The bytes of a regular file (a link to one is followed); OSError otherwise, without blocking:
    NotRegularFile for a FIFO or a device, TooLarge for a file larger than limit (checked on the
    opened file, and again while reading one that grows)."""
    name = os.fspath(path)
    descriptor = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(name, _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file"))
        if info.st_size > limit:
            raise TooLarge(name, info.st_size, limit)
        chunks, total = [], 0
        while True:
            chunk = os.read(descriptor, max(65536, info.st_size - total + 1))
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                raise TooLarge(name, total, limit)
            chunks.append(chunk)
    finally:
        os.close(descriptor)


# ---- replacing a file ------------------------------------------------------------------------------

_SUFFIX = ".lambda-fix"
# `.{name}.{pid}.{random}.lambda-fix`: the pid tells a later run whether its maker still runs.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+" + re.escape(_SUFFIX) + "$")
# A temporary file of this age whose maker cannot be told apart from a new process of the same pid
# is left no longer: no rewrite takes an hour.
_STALE_SECONDS = 3600


def temporary_beside(path: Path) -> tuple[int, str]:
    """A new empty file beside path, (descriptor, name), named so that remove_leftovers knows it."""
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=_SUFFIX)


def is_leftover_name(name: str) -> bool:
    return name.endswith(_SUFFIX) and _TEMPORARY.match(name) is not None


def remove_leftovers(directory: str, names: list[str]) -> list[str]:
    """Remove the temporary files among names (in directory) that a run killed before it could remove
    them left: their process no longer runs, or they are older than an hour. The paths removed."""
    removed = []
    for name in names:
        found = _TEMPORARY.match(name)
        if not found:
            continue
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if _running(int(found.group("pid"))) and time.time() - info.st_mtime < _STALE_SECONDS:
            continue
        try:
            os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or a number no process has: leave the file be
    return True


class ReplaceRefused(Exception):
    """The file was not replaced; the message says why, in the words of a per-file error."""


def replace_file(path: Path, data: bytes, expected_digest: str) -> None:
    """Replace path's content with data when it still holds what was read (expected_digest, SHA-256), keeping
    its mode, owner and group; ReplaceRefused (nothing changed) or OSError otherwise.

    An edit made while the new content is written is never lost in silence. The file is checked at the
    last moment before the rename; where the system can exchange two names atomically (Linux's
    renameat2), the new file and the old one swap places, and if what was swapped out is no longer
    the file that was read, or it was written to meanwhile, they swap back and the file is reported.
    Elsewhere a plain rename follows the check, and an in-place write to the old file found after it
    is put back. What no check can see: a program that holds the old file open and writes to it after
    the swap (docs/trust.md)."""
    old = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        before = os.fstat(old)
        if not stat.S_ISREG(before.st_mode):
            raise ReplaceRefused("not a regular file: not written")
        if _digest(_read_all(old)) != expected_digest:
            raise ReplaceRefused("the file changed on disk while lambda-fix ran; it was not written (run again)")
        _refuse_what_a_rename_would_change(before)
        descriptor, temporary = temporary_beside(path)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
                stream.flush()
                _keep_owner_and_mode(stream.fileno(), before)
                os.fsync(stream.fileno())
            _checkpoint("written")
            if not _unchanged(path, old, before, expected_digest):
                raise ReplaceRefused("the file changed on disk while lambda-fix ran; it was not written (run again)")
            _checkpoint("checked")
            if _exchange(temporary, str(path)):
                _checkpoint("exchanged")
                # The old file now bears the temporary name: it must be the one read, as it was read.
                if not _same_file(temporary, before) or not _unchanged_content(old, before, expected_digest):
                    try:
                        _exchange(temporary, str(path))
                    except OSError as exc:
                        # The temporary name holds the other version now: it must outlive this run, under
                        # a name no later run takes for its own leftover.
                        kept = path.with_name(f"{path.name}.yours-{time.strftime('%Y%m%d%H%M%S')}")
                        try:
                            os.rename(temporary, kept)
                        except OSError:
                            kept = Path(temporary)
                        temporary = ""
                        raise ReplaceRefused(f"the file changed on disk while lambda-fix wrote it, and the two "
                                             f"could not be swapped back ({exc.strerror}): your version is in "
                                             f"{kept}") from exc
                    raise ReplaceRefused("the file changed on disk while lambda-fix wrote it; your version was "
                                         "kept and the fix was not applied (run again)")
                os.unlink(temporary)
            else:
                os.replace(temporary, path)
                _checkpoint("exchanged")
                if not _unchanged_content(old, before, expected_digest):
                    _put_back(path, old, before)
                    raise ReplaceRefused("the file changed on disk while lambda-fix wrote it; your version was "
                                         "put back and the fix was not applied (run again)")
        except BaseException:
            try:
                if temporary:
                    os.unlink(temporary)
            except OSError:
                pass
            raise
    finally:
        os.close(old)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checkpoint(name: str) -> None:
    """Where the tests make an edit land (tests/test_hostile_input.py); nothing happens here otherwise."""


def _read_all(descriptor: int) -> bytes:
    """Everything in the open file, from its start (read again after each step of a replacement)."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(descriptor, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _refuse_what_a_rename_would_change(before: os.stat_result) -> None:
    """A rename gives the file the writer's owner and the directory's group rules; a read-only file
    says its owner does not want it edited."""
    if not before.st_mode & stat.S_IWUSR:
        raise ReplaceRefused(f"the file is read-only (mode {stat.S_IMODE(before.st_mode):04o}); it was not "
                             "written: make it writable, or apply the fix with --diff")
    if hasattr(os, "geteuid") and os.geteuid() != 0 and before.st_uid != os.geteuid():
        raise ReplaceRefused(f"the file is owned by another user (uid {before.st_uid}); a rewrite would make it "
                             "yours, so it was not written: run as its owner, or apply the fix with --diff")


def _keep_owner_and_mode(descriptor: int, before: os.stat_result) -> None:
    info = os.fstat(descriptor)
    if hasattr(os, "fchown") and (info.st_uid, info.st_gid) != (before.st_uid, before.st_gid):
        try:
            os.fchown(descriptor, before.st_uid, before.st_gid)
        except PermissionError as exc:
            raise ReplaceRefused(f"the file's group (gid {before.st_gid}) cannot be kept by a rewrite, so it was "
                                 "not written: run as its owner, or apply the fix with --diff") from exc
    # After chown, which clears the set-id bits.
    if hasattr(os, "fchmod"):
        os.fchmod(descriptor, stat.S_IMODE(before.st_mode))


def _same_file(path: str, before: os.stat_result) -> bool:
    try:
        now = os.lstat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino)


def _unchanged_content(descriptor: int, before: os.stat_result, expected: str) -> bool:
    now = os.fstat(descriptor)
    return (now.st_size, now.st_mtime_ns) == (before.st_size, before.st_mtime_ns) and \
        _digest(_read_all(descriptor)) == expected


def _unchanged(path: Path, descriptor: int, before: os.stat_result, expected: str) -> bool:
    """path still names the file that was read, and it holds what was read."""
    return _same_file(str(path), before) and _unchanged_content(descriptor, before, expected)


def _put_back(path: Path, descriptor: int, before: os.stat_result) -> None:
    """After a plain rename: the old file's current content back under its name (the fallback where
    names cannot be exchanged)."""
    write_beside(path, _read_all(descriptor), lambda written: _keep_owner_and_mode(written, before))


def write_beside(path: Path, data: bytes, finish: Callable[[int], None] | None = None) -> None:
    """Replace path with data through a temporary file beside it and a rename: readers see the old
    content or the new, never half. finish: called with the temporary file's descriptor once data is in
    it. On any failure the temporary file is removed."""
    handle, temporary = temporary_beside(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if finish is not None:
                stream.flush()
                finish(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


_RENAME_EXCHANGE = 2
_renameat2: list[Any] = []


def _exchange(first: str, second: str) -> bool:
    """Swap two names in one step (Linux renameat2); False where the system cannot."""
    if not _renameat2:
        _renameat2.append(_load_renameat2())
    function = _renameat2[0]
    if function is None:
        return False
    at_cwd = -100
    if function(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system that cannot exchange
        return False
    raise OSError(error, os.strerror(error), second)


def _load_renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28, or another one
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function
