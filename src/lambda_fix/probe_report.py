"""What a probe found, in words: results that differ warm from cold, module-level state that changed
between invocations, files under /tmp one invocation left for the next, clients built per
invocation, each with the lambda-fix finding that covers it, processes the handler left running,
and what probe_left.py finds in the process (log lines, environment, /tmp and memory growth, threads
and tasks); as text or JSON."""

from __future__ import annotations

import difflib
import json
import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import probe_left
from .probe_left import codes_at, relative_site
from .probe import ProbeReport
from .probe_compare import ValuePath, decoded, masked, spelled


@dataclass(frozen=True)
class StateChange:
    name: str  # module.name or module.name.attribute
    where: str  # path:line of its definition, relative to the project
    type: str
    history: tuple[tuple[int, int | None, str], ...]  # (phase, size, short repr): 0 after import, n after invocation n
    codes: tuple[str, ...]


@dataclass(frozen=True)
class LeftFile:
    path: str
    made_by: int  # invocation number, 1-based
    there_at: tuple[int, ...]  # later invocations at whose start it existed
    read_by: tuple[int, ...]  # later invocations that opened it to read
    where: str | None
    codes: tuple[str, ...]
    via: str | None = None  # the program the handler started that made it


@dataclass(frozen=True)
class ClientsBuilt:
    label: str
    where: str | None
    per_invocation: tuple[int, ...]  # how many each warm invocation built (index n-1 for invocation n)
    at_import: int
    codes: tuple[str, ...]
    inside: str | None = None  # the library function the project called, that built it


@dataclass(frozen=True)
class ReusedClient:
    """A client built from a value of one event that served (or, built from credentials, was still held
    for) an invocation whose event has another value there."""

    label: str
    where: str | None
    from_event: str  # event["headers"]["region"]
    parameter: str  # the factory's parameter the value went to
    built_in: int
    used_in: tuple[int, ...]
    held_in: tuple[tuple[int, str], ...]  # (invocation, module state holding it)


@dataclass(frozen=True)
class LeftProcess:
    """A process the handler started that was still running when an invocation returned: Lambda freezes
    it with the environment, and it runs on in the next invocation, with what the last one left it."""

    command: str
    pid: int
    started_by: int  # the invocation it started in, 1-based; 0: an import
    new_environment: bool  # then: the import of an environment after one that ended
    running_after: tuple[int, ...]  # the invocations after which it was running


def state_changes(report: ProbeReport) -> list[StateChange]:
    changes = []
    for name, entry in sorted(report.state.items()):
        rows = entry["phases"]
        if all(row[1:] == rows[0][1:] for row in rows):
            continue  # never changed after the import (nor after a new environment's)
        relative = os.path.relpath(entry["file"], report.root)
        variable = name[len(entry["module"]) + 1:].split(".")[0]
        line = entry.get("line")
        codes = codes_at(report, relative, lines=(line,), words=(f"`{variable}`",))
        changes.append(StateChange(name, f"{relative}:{line}" if line else relative, entry["type"],
                                   tuple((phase, size, text) for phase, size, text, _ in rows), codes))
    return changes


def left_files(report: ProbeReport) -> list[LeftFile]:
    found = []
    for entry in report.files:
        made = entry["created"]
        if not made:  # there before the probe, or made at import: per-environment on purpose (a model)
            continue
        there = tuple(p for p in entry["present"] if p > made)
        read = tuple(p for p in entry["read"] if p > made)
        if not there and not read:
            continue
        where = relative_site(entry.get("site"), report)
        found.append(LeftFile(entry["path"], made, there, read, where, _tmp_codes(report, entry["path"], where),
                              entry.get("via")))
    return found


_QUOTED = re.compile(r"""(?:[rbf]{0,2})(['"])(.*?)(?<!\\)\1""")
_CUT_LITERAL = re.compile(r"""(?:[rbf]{0,2})(['"])(.*)$""")  # a literal the message shortened with ...
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%[sdr]")


def _tmp_codes(report: ProbeReport, path: str, where: str | None) -> tuple[str, ...]:
    """LF003 when a finding names path (or the directory it is in), or its path expression could spell
    path: a string literal in the finding's `...` whose fixed pieces (around `{}` and `%s`) appear in
    path in order, anchored at its ends. Only the findings of the file that made it, when known.
    It reads what LF003's messages put between their first backticks (rules/fixed_tmp_path.py and
    _runtime_tmp_paths.py): a finding carries no path of its own."""
    site_path = (where or "").rpartition(":")[0]
    for relative, _, code, message in report.findings or ():
        if code != "LF003" or "`" not in message or (where and relative != site_path):
            continue
        named = message.split("`")[1]  # the path, or the expression that makes it
        directory = named.rstrip("/")
        if not _QUOTED.search(named) and (path == named or (directory not in ("", "/tmp")
                                                              and path.startswith(directory + "/"))):
            return (code,)  # the rule names the fixed path itself (or the directory it is in)
        literals = [(literal, True) for _, literal in _QUOTED.findall(named)]
        cut = _CUT_LITERAL.search(named) if named.endswith("...") else None
        if cut and not _QUOTED.match(named, cut.start()):
            # shortened: its end is not known, and a placeholder it cuts in two is dropped
            literals.append((re.sub(r"\{[^{}]*$", "", cut.group(2)[:-3]), False))
        for literal, whole in literals:
            pieces = _PLACEHOLDER.split(literal)
            if any(pieces) and _in_order([p for p in pieces if p], path) and path.startswith(pieces[0]) \
                    and (not whole or path.endswith(pieces[-1])):
                return (code,)
    return ()


def _in_order(pieces: list[str], text: str) -> bool:
    start = 0
    for piece in pieces:
        start = text.find(piece, start)
        if start < 0:
            return False
        start += len(piece)
    return True


def clients_built(report: ProbeReport) -> list[ClientsBuilt]:
    count = len(report.warm)
    by_site: dict[tuple[str, str | None, str | None], list[int]] = {}
    for record in report.clients:
        key = (record["label"], relative_site(record.get("site"), report), record.get("inside"))
        by_site.setdefault(key, []).append(record["phase"])
    found = []
    for (label, where, inside), phases in sorted(by_site.items(), key=lambda item: (item[0][1] or "", item[0][0])):
        tally = Counter(phases)
        per_invocation = tuple(tally.get(n, 0) for n in range(1, count + 1))
        if sum(1 for n in per_invocation if n) < 2:
            continue  # built at import, or once when first needed: what Lambda code should do
        site_path, _, site_line = (where or "").rpartition(":")
        codes = codes_at(report, site_path, lines=(int(site_line),), rules=("LF004",)) if where else ()
        found.append(ClientsBuilt(label, where, per_invocation, tally.get(0, 0), codes, inside))
    return found


def reused_clients(report: ProbeReport) -> list[ReusedClient]:
    return [ReusedClient(r["label"], relative_site(r.get("site"), report), _subscript(r["from_event"]),
                         r.get("parameter", ""), r["phase"], tuple(r["used_in"]),
                         tuple((phase, holder) for phase, holder in r.get("held_in", ())))
            for r in report.clients if r.get("from_event") and (r["used_in"] or r.get("held_in"))]


def left_processes(report: ProbeReport) -> list[LeftProcess]:
    found = []
    for entry in report.processes:
        running_after = tuple(phase for phase in entry["running_after"] if phase > 0)
        if running_after:
            found.append(LeftProcess(entry["command"], entry["pid"], entry["started"],
                                     entry["started"] == 0 and entry.get("environment", 0) > 0, running_after))
    return found


def _subscript(path: str) -> str:
    """/headers/x-region -> event["headers"]["x-region"]"""
    keys = [k for k in path.split("/") if k]
    return "event" + "".join(f"[{k}]" if k.isdigit() else f"[{json.dumps(k)}]" for k in keys)


# --- text ------------------------------------------------------------------------------------------

def render_text(report: ProbeReport) -> str:
    restarts = sum(1 for n in report.ended if n + 1 < len(report.warm))
    processes = f"{restarts + 1} processes, one per execution environment" if restarts else "one process"
    lines = [(f"probe {report.target}: {len(report.event_names)} event(s), {len(report.warm)} invocation(s) warm "
              f"in {processes}, each also cold in a fresh one")]
    if report.after:
        changed = (f"{len(report.rewritten)} file(s) changed: {', '.join(report.rewritten)}" if report.rewritten
                   else "it changed no file")
        lines.append(f"after lambda-fix's rewrite in a temporary copy ({changed}): its warm results against the "
                     "original's cold ones")
        if report.not_copied:
            lines.append("left out of the copy (the rewrite runs without them):")
            lines += [f"  {path}: {why}" for path, why in report.not_copied]
    # With --after, warm is the rewrite's and cold the original's: a correct rewrite returns warm what
    # the original returns cold.
    cold_is, warm_is = ("cold (original)", "warm (rewrite)") if report.after else ("cold", "warm")
    for number in report.differing:
        warm, cold = report.warm[number], report.cold[number]
        lines.append(f"invocation {number + 1} ({report.event_names[warm.event]}): {warm_is} differs from {cold_is}")
        skipped = report.not_compared.get(number, ())
        lines += ["  " + line.rstrip("\n") for line in difflib.unified_diff(
            _pretty(cold.outcome, skipped), _pretty(warm.outcome, skipped), fromfile=cold_is, tofile=warm_is)]
    lines += _not_compared_lines(report)
    lines += _state_lines(report) + _file_lines(report) + _client_lines(report) + _process_lines(report)
    lines += probe_left.text_lines(report, _tag, _invocations)
    if report.unfollowed:
        lines.append("calls with request data that lambda-fix could not follow (what they keep is not checked):")
        lines += [f"  {path}:{line}: {what}" for path, line, what in report.unfollowed]
    for invocation in report.warm:
        if invocation.error is not None:
            how = ":" if invocation.number in report.ended else " raised"  # a timeout is not an exception
            lines.append(f"invocation {invocation.number + 1} ({report.event_names[invocation.event]}){how} "
                         f"{invocation.error}")
    for number in report.ended:
        then = (": the next ran in a new one, as in Lambda (the module imported again, /tmp as it was left)"
                if number + 1 < len(report.warm) else "")
        lines.append(f"invocation {number + 1} ended its execution environment (a timeout or an exit){then}")
    lines.append(f"time per invocation: {warm_is} median {_median(report.warm)} ms, "
                 f"{cold_is} median {_median(report.cold)} ms")
    lines.append(_verdict(report))
    return "\n".join(lines) + "\n"


def _verdict(report: ProbeReport) -> str:
    count = f"{len(report.differing)} of {len(report.warm)} invocation(s)"
    if report.after:
        return (f"{count}: the rewrite's warm result differs from the original's cold one" if report.differing
                else "the rewrite's warm results agree with the original's cold ones")
    return f"{count} differ warm from cold" if report.differing else "warm and cold results agree"


def _state_lines(report: ProbeReport) -> list[str]:
    changes = state_changes(report)
    if not changes:
        return []
    lines = ["module-level state that changed between invocations:"]
    for change in changes:
        steps = [f"{_shown(size, text)} after "
                 + (f"invocation {phase}" if phase else "import" if at == 0 else "the new environment's import")
                 for at, (phase, size, text) in enumerate(change.history)]
        if len(steps) > 5:
            steps = [*steps[:3], "...", steps[-1]]
        tag = _tag(change.codes, report)
        lines.append(f"  {change.name} ({change.type}, {change.where}){tag}: {' -> '.join(steps)}")
    return lines


def _shown(size: int | None, text: str) -> str:
    short = text if len(text) <= 40 else text[:37] + "..."
    return short if size is None else f"{short} (len {size})"


def _not_compared_lines(report: ProbeReport) -> list[str]:
    by_value: dict[str, list[int]] = {}
    for number, paths in sorted(report.not_compared.items()):
        for path in paths:
            by_value.setdefault(spelled(path), []).append(number + 1)
    if not by_value:
        return []
    return ["not compared, as they differ from one cold run to the next (a time, a random id):"] + [
        f"  {value} ({_invocations(tuple(numbers))})" for value, numbers in by_value.items()]


def _file_lines(report: ProbeReport) -> list[str]:
    left = left_files(report)
    if not left:
        return []
    lines = ["files one invocation left for the next:"]
    for entry in left:
        said = [f"made by invocation {entry.made_by}" + (f" at {entry.where}" if entry.where else "")
                + (f" (by `{entry.via}`, a program it started)" if entry.via else "")]
        if entry.there_at:
            said.append(f"still there at the start of {_invocations(entry.there_at)}")
        if entry.read_by:
            said.append(f"read by {_invocations(entry.read_by)}")
        lines.append(f"  {entry.path}{_tag(entry.codes, report)}: {'; '.join(said)}")
    return lines


def _client_lines(report: ProbeReport) -> list[str]:
    built, reused = clients_built(report), reused_clients(report)
    lines = ["clients built per invocation:"] if built else []
    for entry in built:
        where = (f" at {entry.where}" if entry.where else "") + (f", inside {entry.inside}" if entry.inside else "")
        total = sum(entry.per_invocation)
        each = sorted(set(entry.per_invocation))
        building = tuple(n for n, built in enumerate(entry.per_invocation, 1) if built)
        spread = (f"{each[0]} in each of the {len(entry.per_invocation)} invocations" if len(each) == 1
                  else f"in {len(building)} of the {len(entry.per_invocation)} invocations ({_invocations(building)})")
        lines.append(f"  {entry.label}{where}{_tag(entry.codes, report)}: {total} built, {spread}")
    if reused:
        lines.append("clients built from one event and used for another:")
    for entry in reused:
        where = f" at {entry.where}" if entry.where else ""
        said = [f"built in invocation {entry.built_in} from {entry.from_event} ({entry.parameter})"]
        if entry.used_in:
            said.append(f"called in {_invocations(entry.used_in)}, whose event has another value there")
        if entry.held_in:
            said.append(f"still held by {entry.held_in[0][1]} when {_invocations(tuple(p for p, _ in entry.held_in))} "
                        "started with other credentials")
        lines.append(f"  {entry.label}{where}: {'; '.join(said)}")
    return lines


def _process_lines(report: ProbeReport) -> list[str]:
    left = left_processes(report)
    if not left:
        return []
    lines = ["processes left running when an invocation returned (Lambda freezes them with the environment, "
             "and they run on in the next invocation; the probe ended them):"]
    for entry in left:
        started = (f"invocation {entry.started_by}" if entry.started_by
                   else "the new environment's import" if entry.new_environment else "the import")
        lines.append(f"  `{entry.command}` (pid {entry.pid}) [warm-start hazard]: started in {started}; "
                     f"still running after {_invocations(entry.running_after)}")
    return lines


def _invocations(numbers: tuple[int, ...]) -> str:
    shown = ", ".join([str(n) for n in numbers[:5]] + (["..."] if len(numbers) > 5 else []))
    return f"invocation {shown}" if len(numbers) == 1 else f"invocations {shown}"


def _tag(codes: tuple[str, ...], report: ProbeReport) -> str:
    if report.findings is None:
        return ""
    return f" [{', '.join(codes)}]" if codes else " [no lambda-fix finding]"


def _pretty(outcome: Any, not_compared: tuple[ValuePath, ...]) -> list[str]:
    """An outcome as indented JSON, its strings that hold JSON decoded (so a diff shows the field that
    differs rather than one long line) and what is not compared marked."""
    shown = masked(decoded(outcome), not_compared)
    return (json.dumps(shown, indent=2, sort_keys=True) + "\n").splitlines(keepends=True)


def _median(invocations: tuple[Any, ...]) -> str:
    return f"{statistics.median(i.ms for i in invocations):.1f}" if invocations else "-"


# --- JSON ------------------------------------------------------------------------------------------

def render_json(report: ProbeReport) -> str:
    document = {
        "target": report.target, "agrees": report.agrees, "differing": [n + 1 for n in report.differing],
        "after": report.after, "rewritten": list(report.rewritten),
        "not_copied": [{"path": path, "why": why} for path, why in report.not_copied],
        "ended": [n + 1 for n in report.ended],
        "invocations": [{"number": w.number + 1, "event": report.event_names[w.event], "warm": w.outcome,
                         "cold": c.outcome, "warm_ms": w.ms, "cold_ms": c.ms,
                         "not_compared": [spelled(p) for p in report.not_compared.get(w.number, ())]}
                        for w, c in zip(report.warm, report.cold)],
        "state": [{"name": c.name, "where": c.where, "type": c.type, "codes": list(c.codes),
                   "history": [{"after": p, "size": s, "value": t} for p, s, t in c.history]}
                  for c in state_changes(report)],
        "files": [{"path": f.path, "made_by": f.made_by, "there_at": list(f.there_at), "read_by": list(f.read_by),
                   "where": f.where, "via": f.via, "codes": list(f.codes)} for f in left_files(report)],
        "clients": [{"label": c.label, "where": c.where, "inside": c.inside, "per_invocation": list(c.per_invocation),
                     "at_import": c.at_import, "codes": list(c.codes)} for c in clients_built(report)],
        "reused_clients": [{"label": c.label, "where": c.where, "from_event": c.from_event, "parameter": c.parameter,
                            "built_in": c.built_in, "used_in": list(c.used_in),
                            "held_in": [{"invocation": p, "by": h} for p, h in c.held_in]}
                           for c in reused_clients(report)],
        "processes": [{"command": p.command, "pid": p.pid, "started_by": p.started_by,
                       "running_after": list(p.running_after), "hazard": "warm-start"} for p in left_processes(report)],
        "unfollowed": [{"path": path, "line": line, "call": what} for path, line, what in report.unfollowed],
        **probe_left.json_fields(report),
    }
    return json.dumps(document, indent=2) + "\n"
