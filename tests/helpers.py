"""Shared by the tests: the fixture cases, copies to work on, runs of the tool."""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lambda_fix import Config, Mode, RunSummary, run

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    source: Path  # a .py file, or a directory holding a small project

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    @property
    def must_not_change(self) -> bool:
        return self.name.startswith(("ok_", "report_"))

    @property
    def config(self) -> Config:
        return Config(unsafe_fixes=self.name.startswith("unsafe_"), jobs=1)

    @property
    def events_file(self) -> Path | None:
        path = self.source / "events.json" if self.source.is_dir() else self.source.with_suffix(".events.json")
        return path if path.exists() else None

    @property
    def python(self) -> str | None:
        """The Python version the fixture is written for, when newer than the one running the tests."""
        return json.loads(self.events_file.read_text()).get("python") if self.events_file else None

    def copy_to(self, directory: Path) -> Path:
        """Copy the fixture into directory; returns the path to run the tool on."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.source.is_dir():
            target = directory / self.name
            shutil.copytree(self.source, target, ignore=shutil.ignore_patterns("events.json", "__pycache__"))
            return target
        target = directory / self.source.name
        shutil.copyfile(self.source, target)
        return target


def cases() -> list[Case]:
    found = []
    for code_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for entry in sorted(code_dir.iterdir()):
            if entry.is_dir() and not entry.name.startswith("__"):
                found.append(Case(code_dir.name, entry.name, entry))
            elif entry.suffix == ".py":
                found.append(Case(code_dir.name, entry.stem, entry))
    return found


def run_tool(paths: list[str], config: Config, mode: Mode) -> RunSummary:
    return run(paths, config, mode)


def invoke(root: Path, events: Path, warm: bool) -> list[object]:
    """Results of the handler for every event: in one process (warm) or a new process each (cold)."""
    base = _command(root, events)
    if warm:
        return json.loads(_run(base))
    count = len(json.loads(events.read_text())["events"])
    return [json.loads(_run([*base, str(i)]))[0] for i in range(count)]


def invoke_counting(root: Path, events: Path) -> tuple[list[object], list[int]]:
    """Warm results, and how many clients had been built after each invocation."""
    output = json.loads(_run([*_command(root, events), "--built"]))
    return output["results"], output["built"]


def _command(root: Path, events: Path) -> list[str]:
    spec = json.loads(events.read_text())
    module = spec.get("module") or _module_of(root)
    handler = spec.get("handler", "lambda_handler")
    python = interpreter(spec["python"]) if "python" in spec else sys.executable
    assert python is not None, f"no Python {spec.get('python')} here: skip before invoking"
    return [python, str(TESTS / "harness.py"), str(root), module, handler, str(events)]


@functools.lru_cache(maxsize=None)
def interpreter(version: str) -> str | None:
    """A python{version} executable: on PATH, or beside this one in a pyenv-style versions directory."""
    found = shutil.which(f"python{version}")
    candidates = [found] if found and "shims" not in found else []
    candidates += sorted(str(p) for p in Path(sys.base_prefix).parent.glob(f"{version}*/bin/python{version}"))
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "print(1)"], capture_output=True, text=True)
        if probe.returncode == 0:
            return candidate
    return None


def _module_of(root: Path) -> str:
    modules = [p.stem for p in root.glob("*.py")]
    assert len(modules) == 1, f"say which module to import in the events file of {root}"
    return modules[0]


# Run a command with its own empty /tmp, as a cold start has: in a private mount namespace, the old
# /tmp is bound to a staging directory, a fresh tmpfs covers /tmp, and the paths the command needs
# that lie under /tmp (the interpreter, these tests, the fixture copy) are bound back in place.
_FRESH_TMP = r"""
set -e
stage="$1"; shift
count="$1"; shift
mount --bind /tmp "$stage"
mount -t tmpfs tmpfs /tmp
while [ "$count" -gt 0 ]; do
    mkdir -p "$1"
    mount --bind "$stage${1#/tmp}" "$1"
    shift
    count=$((count - 1))
done
exec "$@"
"""


def _with_fresh_tmp(command: list[str], keep: list[str]) -> tuple[list[str], str]:
    stage = tempfile.mkdtemp(prefix="lambda-fix-stage-", dir="/var/tmp")
    needed = sorted({os.path.realpath(p) for p in keep if os.path.realpath(p).startswith("/tmp/")})
    return ["unshare", "-m", "sh", "-c", _FRESH_TMP, "sh", stage, str(len(needed)), *needed, *command], stage


@functools.lru_cache(maxsize=None)
def fresh_tmp_available() -> bool:
    """Can each harness process get its own empty /tmp (a private mount namespace), as a cold start has?"""
    if not Path("/var/tmp").is_dir():
        return False
    marker = tempfile.NamedTemporaryFile(prefix="lambda-fix-probe-", dir="/tmp")  # must not be seen inside
    check = f"import os; assert not os.path.exists({marker.name!r})"
    command, stage = _with_fresh_tmp([sys.executable, "-c", check], [sys.prefix, sys.base_prefix, sys.executable])
    try:
        probe = subprocess.run(command, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        os.rmdir(stage)
        marker.close()
    return probe.returncode == 0


def _run(command: list[str]) -> str:
    stage = None
    if fresh_tmp_available():
        keep = [sys.prefix, sys.base_prefix, os.path.dirname(sys.executable), os.path.dirname(command[0]),
                str(TESTS), command[2]]
        command, stage = _with_fresh_tmp(command, keep)
    try:
        return _run_plain(command)
    finally:
        if stage:
            os.rmdir(stage)


def _run_plain(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60,
                               env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def facts_by_walking(module: object) -> dict[str, object]:
    """The facts module.build and LF004's first test find by searching the text (module: a
    ModuleInfo), found instead by a walk of every node: what the cheap way must equal. Nodes are
    compared by identity."""
    defaults, calls, rebound, dynamic = set(), set(), set(), False
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    for node in ast.walk(module.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            defaults |= {id(d) for d in (*node.args.defaults, *node.args.kw_defaults) if d is not None}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("globals", "eval", "exec", "vars", "locals"):
            dynamic = True
    for stmt in module.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            rebound |= {(name, stmt.name) for node in ast.walk(stmt) if isinstance(node, ast.Global)
                        for name in node.names}
        scopes = [stmt] if isinstance(stmt, functions) else [n for n in ast.walk(stmt) if isinstance(n, functions)]
        calls |= {id(n) for scope in scopes for n in ast.walk(scope) if isinstance(n, ast.Call)}
    return {"defaults": defaults, "factory calls": _factory_calls(module, calls), "rebound": rebound,
            "dynamic": dynamic}


def facts_by_searching(module: object) -> dict[str, object]:
    """The same facts, as module.build and LF004's first test find them."""
    from lambda_fix.analysis.clients import CLIENT_FACTORIES, FACTORY_CALL_NAMES
    from lambda_fix.analysis.module import calls_in_functions

    aliases = {name for name, ref in module.imports.items() if ref.dotted in CLIENT_FACTORIES}
    calls = {id(c) for c in calls_in_functions(module.statements_naming(FACTORY_CALL_NAMES | aliases))}
    return {"defaults": {id(d) for d in module.defaults}, "factory calls": _factory_calls(module, calls),
            "rebound": {(name, f) for name, functions in module.rebound_in.items() for f in functions},
            "dynamic": module.dynamic_globals}


def _factory_calls(module: object, call_ids: set[int]) -> set[int]:
    """The calls among call_ids that LF004's first test takes for a client factory's."""
    from lambda_fix.analysis.clients import may_build_client

    return {id(n) for n in ast.walk(module.tree) if id(n) in call_ids and may_build_client(module, n)}
