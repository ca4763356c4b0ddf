"""`lambda-fix probe`: run a handler warm (one process, event after event, as one execution environment
does) and cold (a fresh interpreter per invocation), and show where their results differ.

It executes the project's code: it is opt-in, and nothing else in lambda-fix (`--check`, the hooks,
the bot) runs it. Each cold invocation gets its own empty TMPDIR (what `tempfile` uses); literal
`/tmp` paths are shared between runs, as they are between invocations on the same machine.
"""

from __future__ import annotations

import difflib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CHILD = Path(__file__).with_name("probe_child.py")


class ProbeError(Exception):
    """The probe could not run: a bad target or event file, or a handler that cannot be imported."""


@dataclass(frozen=True)
class Invocation:
    number: int  # 0-based, in the order of the warm run
    event: int  # index into the events
    result: Any = None
    error: str | None = None  # "Type: message" when the handler raised
    ms: float = 0.0

    @property
    def outcome(self) -> Any:
        return {"error": self.error} if self.error is not None else {"result": self.result}


@dataclass(frozen=True)
class ProbeReport:
    target: str
    event_names: tuple[str, ...]
    warm: tuple[Invocation, ...]
    cold: tuple[Invocation, ...]
    differing: tuple[int, ...] = field(default=())  # invocation numbers whose warm and cold outcomes differ

    @property
    def agrees(self) -> bool:
        return not self.differing


def load_events(events_file: str | None, event_files: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    """The events in order, and a name for each (`events.json[2]`, `events/get.json`)."""
    events: list[Any] = []
    names: list[str] = []
    if events_file is not None:
        document = _read_json(events_file)
        if not isinstance(document, list):
            raise ProbeError(f"{events_file}: --events takes a JSON array of events")
        events += document
        names += [f"{events_file}[{i}]" for i in range(len(document))]
    for path in event_files:
        events.append(_read_json(path))
        names.append(path)
    if not events:
        raise ProbeError("no events: give --events FILE (a JSON array) or --event FILE (one event)")
    return events, names


def _read_json(path: str) -> Any:  # noqa: ANN401 - an event is any JSON value
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProbeError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProbeError(f"{path}: not JSON: {exc}") from exc


def probe(target: str, events: list[Any], names: list[str], repeat: int = 1, root: str = ".",
          python: str = sys.executable) -> ProbeReport:
    """target: `module:function` (a dotted module, imported from root)."""
    module, _, function = target.partition(":")
    if not module or not function:
        raise ProbeError(f"{target!r}: give the handler as MODULE:FUNCTION (app:lambda_handler)")
    plan = [(number, number % len(events)) for number in range(len(events) * repeat)]
    with tempfile.TemporaryDirectory(prefix="lambda-fix-probe-") as scratch:
        events_path = Path(scratch, "events.json")
        events_path.write_text(json.dumps(events), encoding="utf-8")
        warm = _run(python, root, module, function, events_path, plan, Path(scratch, "warm"))
        cold: list[Invocation] = []
        for number, index in plan:
            cold += _run(python, root, module, function, events_path, [(number, index)], Path(scratch, f"cold{number}"))
    differing = tuple(w.number for w, c in zip(warm, cold) if w.outcome != c.outcome)
    return ProbeReport(target, tuple(names), tuple(warm), tuple(cold), differing)


def _run(python: str, root: str, module: str, function: str, events_path: Path, plan: list[tuple[int, int]],
         scratch: Path) -> list[Invocation]:
    """One execution environment: a fresh interpreter, with an empty TMPDIR of its own."""
    scratch.mkdir()
    output = scratch / "output.json"
    environment = {**os.environ, "TMPDIR": str(scratch), "AWS_LAMBDA_FUNCTION_NAME": "probe-function"}
    command = [python, str(_CHILD), os.path.abspath(root), module, function, str(events_path), str(output),
               *(f"{number}:{index}" for number, index in plan)]
    completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, check=False)
    if not output.exists():
        raise ProbeError(f"the handler's process ended without a result (exit {completed.returncode}): "
                         f"{completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else 'no output'}")
    document = json.loads(output.read_text(encoding="utf-8"))
    if "import_error" in document:
        last = document["import_error"].splitlines()[-1]
        raise ProbeError(f"cannot import {module}:{function}: {last}")
    return [Invocation(r["number"], r["event"], r.get("result"), r.get("error"), r.get("ms", 0.0))
            for r in document["invocations"]]


def render_text(report: ProbeReport) -> str:
    lines = [f"probe {report.target}: {len(report.event_names)} event(s), {len(report.warm)} invocation(s) warm "
             "in one process, each also cold in a fresh one"]
    for number in report.differing:
        warm, cold = report.warm[number], report.cold[number]
        lines.append(f"invocation {number + 1} ({report.event_names[warm.event]}): warm differs from cold")
        lines += ["  " + line.rstrip("\n") for line in difflib.unified_diff(
            _pretty(cold.outcome), _pretty(warm.outcome), fromfile="cold", tofile="warm")]
    for invocation in report.warm:
        if invocation.error is not None:
            lines.append(f"invocation {invocation.number + 1} ({report.event_names[invocation.event]}) raised "
                         f"{invocation.error}")
    lines.append(f"time per invocation: warm median {_median(report.warm)} ms, cold median {_median(report.cold)} ms")
    lines.append(f"{len(report.differing)} of {len(report.warm)} invocation(s) differ warm from cold"
                 if report.differing else "warm and cold results agree")
    return "\n".join(lines) + "\n"


def render_json(report: ProbeReport) -> str:
    document = {
        "target": report.target, "agrees": report.agrees, "differing": [n + 1 for n in report.differing],
        "invocations": [{"number": w.number + 1, "event": report.event_names[w.event], "warm": w.outcome,
                         "cold": c.outcome, "warm_ms": w.ms, "cold_ms": c.ms}
                        for w, c in zip(report.warm, report.cold)],
    }
    return json.dumps(document, indent=2) + "\n"


def _pretty(outcome: Any) -> list[str]:  # noqa: ANN401 - JSON
    return (json.dumps(outcome, indent=2, sort_keys=True) + "\n").splitlines(keepends=True)


def _median(invocations: tuple[Invocation, ...]) -> str:
    return f"{statistics.median(i.ms for i in invocations):.1f}" if invocations else "-"
