"""pyflakes' messages for a module, by kind and by the names they are about (not by line, since a
rewrite moves lines): what a rewrite adds must be nothing (tests/test_fixtures.py checks every
fixture's rewrite with it)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pyflakes
from helpers import interpreter
from pyflakes import checker

Message = tuple[str, tuple[str, ...]]

# Fixtures whose rewrite is known to add a warning, each with the messages it may add (any other new
# message still fails) and the rule whose fix leaves it.
KNOWN: dict[str, set[Message]] = {}

# pyflakes run by a newer Python, for a fixture written in that Python's syntax: its messages as JSON.
_NEWER = """
import ast, json, sys
from pyflakes import checker
source = sys.stdin.read()
found = checker.Checker(ast.parse(source), filename=sys.argv[1]).messages
print(json.dumps([[type(m).__name__, [str(a) for a in m.message_args if not isinstance(a, int)]] for m in found]))
"""


def messages(source: str, filename: str, python: str | None = None) -> Counter[Message]:
    """pyflakes' messages for source: each message's kind and the names it is about (its line numbers
    left out). python: the version the source is written for, when newer than this one."""
    if python is None:
        found = checker.Checker(ast.parse(source, filename=filename), filename=filename).messages
        return Counter((type(m).__name__, tuple(str(a) for a in m.message_args if not isinstance(a, int)))
                       for m in found)
    executable = interpreter(python)
    assert executable is not None
    library = str(Path(pyflakes.__file__).parent.parent)
    ran = subprocess.run([executable, "-c", _NEWER, filename], input=source, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": library}, timeout=60, check=True)
    return Counter((kind, tuple(names)) for kind, names in json.loads(ran.stdout))


def added(old: str, new: str, filename: str, python: str | None = None) -> Counter[Message]:
    return messages(new, filename, python) - messages(old, filename, python)
