"""Whether libcst's parser can read a text without taking the process down.

libcst parses in native code, which overflows its stack on a file nested far deeper than any Python
allows (about 1,500 parentheses, 20,000 `not`s) and kills the process: no exception to catch, no
result for any file. CPython's own parser refuses such files with an error, and every text it
accepted is one libcst reads safely (tests/test_hostile_input.py), so only text it rejected (newer
syntax, or a syntax error to explain) is first parsed in a child process.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading

_CHECK = "import sys, libcst\nlibcst.parse_module(sys.stdin.buffer.read().decode('utf-8', 'surrogatepass'))\n"


@functools.lru_cache(maxsize=16)
def survives(text: str) -> bool:
    """True when parsing text with libcst ends, with a tree or an exception, rather than a crash."""
    import libcst

    if hasattr(os, "fork") and threading.active_count() == 1:
        pid = os.fork()
        if pid == 0:  # the child: parse, and say only whether it got that far
            try:
                libcst.parse_module(text)
            except BaseException:  # noqa: BLE001 - an exception is an answer too
                pass
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status)
    # Forking a process with threads can deadlock the child: a fresh interpreter instead.
    completed = subprocess.run([sys.executable, "-c", _CHECK], input=text.encode("utf-8", "surrogatepass"),
                               capture_output=True, check=False)
    return completed.returncode >= 0
