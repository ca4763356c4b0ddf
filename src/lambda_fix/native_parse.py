"""Whether libcst's parser can read a text without taking the process down.

libcst parses in native code, which overflows its stack on a file nested deeply enough (about 1,500
parentheses, 20,000 `not`s, or 7,000 operands of one `and`) and kills the process: no exception to
catch, no result for any file. CPython's parser refuses most such files itself, but it keeps a chain
of `and`s or `or`s flat where libcst nests it. So a text is handed to libcst in this process only when
CPython's parser accepted it and it nests no deeper than DEPTH_IN_PROCESS, counting each operand of a
boolean chain as a level; any other text is first parsed in a child process, within a time limit
(libcst takes time quadratic in some chains).
"""

from __future__ import annotations

import ast
import functools
import os
import signal
import subprocess
import sys
import threading
import time

from . import lifetime
from .analysis.walk import children

# Far below where libcst's parser crashes (tests/test_hostile_input.py), far above real code.
DEPTH_IN_PROCESS = 500
# A text libcst cannot parse in this long is refused as too complex (a real module takes milliseconds).
TIME_LIMIT = 30.0

_CHECK = "import sys, libcst\nlibcst.parse_module(sys.stdin.buffer.read().decode('utf-8', 'surrogatepass'))\n"


def safe_in_process(text: str, tree: ast.AST | None) -> bool:
    """True when libcst may parse text in this process: CPython accepted it (tree: its tree, or None
    when CPython rejected it) and it nests shallowly, or a child process parsed it without crashing."""
    if tree is None:
        return survives(text)
    return depth(tree) <= DEPTH_IN_PROCESS or survives(text)


def depth(tree: ast.AST) -> int:
    """How deeply libcst would nest the tree: its depth, with each operand of a boolean chain a level."""
    # Level by level, each node's children found as the analysis finds them (walk.children: no
    # Load/Store markers, which add at most one level): a boolean chain's extra levels are carried
    # down with its operands.
    deepest = 0
    layer: list[tuple[ast.AST, int]] = [(tree, 1)]
    while layer:
        below: list[tuple[ast.AST, int]] = []
        for node, level in layer:
            if isinstance(node, ast.BoolOp):
                level += len(node.values) - 2
            if level > deepest:
                deepest = level
            below.extend((child, level + 1) for child in children(node))
        layer = below
    return deepest


@functools.lru_cache(maxsize=16)
def survives(text: str) -> bool:
    """True when parsing text with libcst ends within TIME_LIMIT, with a tree or an exception, rather
    than a crash."""
    import libcst

    if hasattr(os, "fork") and threading.active_count() == 1:
        pid = os.fork()
        if pid == 0:  # the child: parse, and say only whether it got that far
            _child_of(os.getppid())
            try:
                libcst.parse_module(text)
            except BaseException:  # noqa: BLE001 - an exception is an answer too
                pass
            os._exit(0)
        return _exited_in_time(pid)
    # Forking a process with threads can deadlock the child: a fresh interpreter instead.
    try:
        completed = subprocess.run([sys.executable, "-c", _CHECK], input=text.encode("utf-8", "surrogatepass"),
                                   capture_output=True, check=False, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        return False
    return completed.returncode >= 0


def _child_of(parent: int) -> None:
    """The child ends with its parent, and on the signals that would end the parent: Python's handlers,
    which never run while native code parses, are not kept."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    # No watching thread: the parent waits at most TIME_LIMIT and kills it then.
    lifetime.end_with(parent, watch=False)


def _exited_in_time(pid: int) -> bool:
    deadline = time.monotonic() + TIME_LIMIT
    pause = 0.001
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.WIFEXITED(status)
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
    except BaseException:  # an interrupt while waiting: the child does not outlive it
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        raise
