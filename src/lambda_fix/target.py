"""The Python a file's fixes must run on: its target version.

Everything a fix writes must exist on the Python the function runs (`functools.cache` is 3.9+), so
each file gets a target, the first of:

1. the `target-version` setting (`py38`, as in Ruff) or `--target-version`;
2. the runtime of the functions whose code holds the file, from the deployment definitions
   (SAM / CloudFormation `Runtime`, the Serverless Framework's `runtime`, CDK `Runtime.PYTHON_3_8`);
   the oldest when several share the code; definitions that name no code directory apply to the whole
   project they sit in;
3. the lower bound of the nearest `requires-python` (pyproject.toml, Poetry's `python`, setup.cfg's
   or setup.py's `python_requires`);
4. the oldest Python 3 that Lambda runs: functions on deprecated runtimes keep being invoked, so
   a fix written for python3.6 runs wherever the code may be deployed.

An older target than the real one costs nothing but an older spelling (`lru_cache(maxsize=None)`),
so each step errs towards the older version.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable

Version = tuple[int, int]

DEFAULT: Version = (3, 6)
DEFAULT_REASON = "the oldest Python 3 that Lambda runs (no target-version, runtime or requires-python found)"
# What the fixes write that not every Python 3 has.
CACHE_DECORATOR_SINCE: Version = (3, 9)  # functools.cache

_SETTING = re.compile(r"^(?:py|python)?(\d)\.?(\d{1,2})$")
_RUNTIME = re.compile(r"^python(\d)\.(\d{1,2})$")
_CDK_RUNTIME = re.compile(r"\bRuntime\.PYTHON_(\d)_(\d{1,2})\b")
# A lower bound in a version specifier: `>=3.8`, `~=3.8`, `==3.8.*`, `>3.7`, Poetry's `^3.8` or `3.8.*`.
_LOWER_BOUND = re.compile(r"(>=|~=|==|\^|~|>|(?<![<>=!~^\d.]))\s*(\d+)(?:\.(\d+))?")


def parse_setting(value: str) -> Version | None:
    """`py38`, `py312`, `3.8` or `python3.8` -> (3, 8); None when it names no Python version."""
    match = _SETTING.match(value.strip().lower())
    if not match:
        return None
    version = (int(match.group(1)), int(match.group(2)))
    return version if version[0] in (2, 3) else None


def spelled(version: Version) -> str:
    """(3, 8) -> "3.8"."""
    return f"{version[0]}.{version[1]}"


def from_runtime(runtime: object) -> Version | None:
    """A Lambda runtime identifier, `python3.8` -> (3, 8); anything else (nodejs, provided) -> None."""
    if not isinstance(runtime, str):
        return None
    match = _RUNTIME.match(runtime.strip().lower())
    return (int(match.group(1)), int(match.group(2))) if match else None


def cdk_runtimes(text: str) -> list[Version]:
    """The Python runtimes a CDK app's source names (`lambda_.Runtime.PYTHON_3_8`, in Python,
    TypeScript or JavaScript)."""
    return [(int(major), int(minor)) for major, minor in _CDK_RUNTIME.findall(text)]


def lower_bound(specifier: str) -> Version | None:
    """The oldest Python a `requires-python` specifier admits: `>=3.8,<4` -> (3, 8); `^3.7` -> (3, 7);
    `>3.7` -> (3, 7) (erring older); None when it sets no lower bound (`<4`, `*`)."""
    bounds: list[Version] = []
    for clause in re.split(r"[,|]", specifier):
        clause = clause.strip()
        if not clause or clause.startswith(("<", "!=")):
            continue
        match = _LOWER_BOUND.search(clause)
        if match and match.group(2) in ("2", "3"):
            bounds.append((int(match.group(2)), int(match.group(3) or 0)))
    return min(bounds) if bounds else None


@dataclass(frozen=True)
class Declared:
    """A Python version a deployment definition declares for the code under directory (absolute)."""

    directory: str
    version: Version
    where: str  # "template.yaml: Runtime python3.8", for the verbose report

    def holds(self, path: str) -> bool:
        return path == self.directory or path.startswith(self.directory.rstrip(os.sep) + os.sep)


def choose(path: str, explicit: Version | None, declared: Iterable[Declared],
           requires_python: tuple[Version, str] | None) -> tuple[Version, str]:
    """The target of the file at path (absolute), and why: see the module's docstring."""
    if explicit is not None:
        return explicit, "the target-version setting"
    holding = [d for d in declared if d.holds(path)]
    if holding:
        oldest = min(holding, key=lambda d: d.version)
        return oldest.version, oldest.where
    if requires_python is not None:
        return requires_python
    return DEFAULT, DEFAULT_REASON


def python2(version: Version) -> bool:
    return version[0] < 3
