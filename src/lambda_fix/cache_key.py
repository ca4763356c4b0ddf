"""The key that proves a cache file was written on this machine, by this user.

The cache lives in the repository, where a pull request can commit one; its file name is predictable
(the tool and Python versions, the working directory, the settings). So every cache file carries an
HMAC of its content under a random key kept outside any repository, in the user's cache directory
(platformdirs: ~/.cache/lambda-fix on Linux; LAMBDA_FIX_KEY_DIR elsewhere, for tests and sandboxes),
readable only by its owner. A file whose HMAC does not check out is an empty cache.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import stat
import tempfile
from pathlib import Path

_NAME = "cache-key"
_SIZE = 32


class KeyUnavailable(Exception):
    """No key can be read or made here; the message says where and why."""


def key_directory() -> Path:
    configured = os.environ.get("LAMBDA_FIX_KEY_DIR")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("lambda-fix", appauthor=False))


@functools.lru_cache(maxsize=None)
def _key_in(directory: Path) -> bytes:
    path = directory / _NAME
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # a link, another user's file: never read through
        raise KeyUnavailable(f"cannot read the cache's key {path}: {exc.strerror or exc}") from exc
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{_NAME}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(os.urandom(_SIZE))
            try:
                os.link(temporary, path)  # the first run to get here makes the key; the others read it
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
        return _read(path)
    except OSError as exc:
        raise KeyUnavailable(f"cannot keep the cache's key in {directory}: {exc.strerror or exc}") from exc


def _read(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(descriptor)
        mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not stat.S_ISREG(info.st_mode) or not mine or info.st_mode & 0o077 or info.st_size != _SIZE:
            raise KeyUnavailable(f"{path} is not a key this user made (a regular file of {_SIZE} bytes, "
                                 "readable by its owner only): remove it and run again")
        return os.read(descriptor, _SIZE)
    finally:
        os.close(descriptor)


def key() -> bytes:
    """This user's key; KeyUnavailable when there is none and none can be made."""
    return _key_in(key_directory())


def sign(data: bytes) -> str:
    return hmac.new(key(), data, hashlib.sha256).hexdigest()


def verify(data: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(data), signature)
