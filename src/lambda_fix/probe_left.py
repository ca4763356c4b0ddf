"""What the probe saw an invocation leave in the process besides module state, files and clients
(probe_report.py says those): log lines written more often warm than cold, or carrying an earlier
request's data; environment variables left changed; /tmp filling up; memory that grows with every
invocation; threads and tasks still running after the handler returned. Each with the lambda-fix
finding that covers it."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

from .probe import ProbeReport

TMP_SIZE = 512 * 1024 * 1024  # Lambda's /tmp unless the function asks for more
_MIN_INVOCATIONS = 5  # warm invocations below which memory growth is not judged
_MIN_BLOCKS = 32  # memory blocks per invocation below which a growing count is noise (the runtime's buffers)
# What differs in a log line from one run to the next whatever the state: its time.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
                   r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?")


@dataclass(frozen=True)
class RepeatedLine:
    """A line an invocation wrote more times warm than its cold run did: a log handler added again."""

    invocation: int  # 1-based
    line: str
    warm: int
    cold: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class CarriedLine:
    """A line of an invocation, not written by its cold run, that holds a value only an earlier
    invocation's event (or request id) had: log context kept from an earlier request."""

    invocation: int
    value: str
    from_invocation: int
    line: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentChange:
    name: str
    invocation: int
    before: str | None
    after: str | None  # None: removed
    where: str | None
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Growth:
    """/tmp or memory growing with the warm invocations."""

    per_invocation: float  # bytes (tmp, memory) per invocation
    blocks_per_invocation: float  # memory: Python's memory blocks (about one per small object)
    values: tuple[int, ...]  # bytes after the import, then after each invocation
    full_after: int | None  # tmp: warm invocations at that rate until /tmp is full
    codes: tuple[str, ...]


@dataclass(frozen=True)
class LeftWork:
    kind: str  # "thread" | "task"
    name: str
    started_by: int
    where: str | None
    running_after: tuple[int, ...]
    codes: tuple[str, ...]


def repeated_lines(report: ProbeReport) -> list[RepeatedLine]:
    """Per invocation, the line written most often warm beyond its cold run's count."""
    found = []
    codes = _anywhere(report, ("LF006",))
    for invocation in report.warm:
        warm, cold = _counted(report.logs, invocation.number + 1), _counted(report.cold_logs, invocation.number)
        extra = [(count - cold[line], line) for line, count in warm.items() if cold.get(line) and count > cold[line]]
        if extra:
            _, line = max(extra)
            found.append(RepeatedLine(invocation.number + 1, line, warm[line], cold[line], codes))
    return found


def carried_lines(report: ProbeReport) -> list[CarriedLine]:
    """Per invocation, the first line (not written cold) with a value of an earlier invocation only."""
    found = []
    codes = _anywhere(report, ("LF002",), words=("logger", "log context", "contextvars", "LoggerAdapter"))
    earlier: dict[str, int] = {}  # value -> the first invocation whose event (or request id) had it
    for invocation in report.warm:
        own = set(_values(report, invocation.event)) | {_request_id(invocation.number)}
        cold = set(_counted(report.cold_logs, invocation.number))
        carried = {value: number for value, number in earlier.items() if value not in own}
        hit = next(((line, value) for line in report.logs.get(invocation.number + 1, ((), 0))[0]
                    if _masked(line) not in cold for value in carried if value in line), None)
        if hit:
            line, value = hit
            found.append(CarriedLine(invocation.number + 1, value, carried[value], line, codes))
        for value in own:
            earlier.setdefault(value, invocation.number + 1)
    return found


def environment_changes(report: ProbeReport) -> list[EnvironmentChange]:
    found = []
    for phase, name, before, after, site in report.environment:
        if phase < 1:
            continue
        where = relative_site(site, report)
        path, _, line = (where or "").rpartition(":")
        codes = codes_at(report, path, (int(line),), (f"`{name}`", f"'{name}'", f'"{name}"'), ("LF007",)) if where \
            else _anywhere(report, ("LF007",), words=(name,))
        found.append(EnvironmentChange(name, phase, before, after, where, codes))
    return found


def tmp_growth(report: ProbeReport) -> Growth | None:
    values = tuple(row[1] for row in report.usage)
    if len(values) < 3 or not _growing(values[1:]):
        return None
    rate = (values[-1] - values[1]) / (len(values) - 2)  # from the first invocation on
    if rate <= 0:
        return None
    return Growth(rate, 0.0, values, math.ceil(TMP_SIZE / rate),
                  _anywhere(report, ("LF003", "LF010")))


def memory_growth(report: ProbeReport) -> Growth | None:
    """Python's memory blocks held (less the probe's own) grew after every invocation from the first on
    (at least _MIN_INVOCATIONS), by _MIN_BLOCKS or more each time on average, and no slower in the
    second half of them than half as fast as in the first (libraries' caches fill up, then stop)."""
    rows = [row for row in report.usage if row[0] > 0]
    if len(rows) < _MIN_INVOCATIONS:
        return None
    blocks = [row[3] for row in rows]
    if any(b <= a for a, b in zip(blocks, blocks[1:])):
        return None
    per = (blocks[-1] - blocks[0]) / (len(blocks) - 1)
    middle = len(blocks) // 2
    first, second = blocks[middle] - blocks[0], blocks[-1] - blocks[middle]
    if per < _MIN_BLOCKS or second * middle < first * (len(blocks) - 1 - middle) / 2:
        return None
    resident = (rows[-1][2] - rows[0][2]) / (len(rows) - 1)
    return Growth(resident, per, tuple(row[2] for row in report.usage), None,
                  tuple(sorted({*_anywhere(report, ("LF008",)), *_grown_state_codes(report), *_client_codes(report)})))


def _client_codes(report: ProbeReport) -> set[str]:
    """LF004 when the warm run built a client in more than one invocation: each new client fills the
    library's caches again."""
    from .probe_report import clients_built

    return {code for built in clients_built(report) for code in built.codes}


def _grown_state_codes(report: ProbeReport) -> set[str]:
    """The codes of findings on module state the warm run saw grow (LF001, LF002)."""
    grown = set()
    for name, entry in report.state.items():
        sizes = [row[1] for row in entry["phases"] if row[1] is not None]
        if len(sizes) > 1 and sizes[-1] > sizes[0]:
            grown.add(f"`{name[len(entry['module']) + 1:].split('.')[0]}`")
    return {code for _, _, code, message in report.findings or ()
            if code in ("LF001", "LF002") and any(variable in message for variable in grown)}


def left_work(report: ProbeReport) -> list[LeftWork]:
    found = []
    for entry in report.work:
        where = relative_site(entry.get("site"), report)
        path, _, line = (where or "").rpartition(":")
        codes = codes_at(report, path, (int(line),), rules=("LF009",)) if where else _anywhere(report, ("LF009",))
        found.append(LeftWork(entry["kind"], entry["name"], entry["started"], where,
                              tuple(entry["alive_after"]), codes))
    return found


# --- text and JSON ---------------------------------------------------------------------------------

def text_lines(report: ProbeReport, tag: Any, invocations: Any) -> list[str]:
    """The report's lines for all of the above; tag and invocations are probe_report's (codes -> " [LF006]",
    numbers -> "invocations 2, 3")."""
    lines: list[str] = []
    repeated = repeated_lines(report)
    if repeated:
        first, last = repeated[0], repeated[-1]
        lines.append(f"log lines written more often warm than cold{tag(first.codes, report)}:")
        for entry in dict.fromkeys((first, last)):
            lines.append(f"  invocation {entry.invocation} wrote `{_cut(entry.line)}` {_times(entry.warm)}, "
                         f"its cold run {_times(entry.cold)}")
    carried = carried_lines(report)
    if carried:
        lines.append(f"log lines carrying an earlier invocation's data{tag(carried[0].codes, report)}:")
        lines += [f"  invocation {c.invocation}: `{_cut(c.line)}` holds {c.value!r}, of invocation "
                  f"{c.from_invocation}" for c in carried[:5]]
    changes = environment_changes(report)
    if changes:
        lines.append("environment variables an invocation left changed (later invocations, and libraries "
                     "that read them once, see them):")
        by_name: dict[str, list[EnvironmentChange]] = {}
        for change in changes:
            by_name.setdefault(change.name, []).append(change)
        for name, steps in by_name.items():
            values = ["unset" if steps[0].before is None else repr(steps[0].before)]
            values += ["removed" if step.after is None else repr(step.after) for step in steps]
            sites = ", ".join(dict.fromkeys(step.where for step in steps if step.where))
            lines.append(f"  {name}{tag(steps[0].codes, report)}: {' -> '.join(_few_words(values))} by "
                         f"{invocations(tuple(step.invocation for step in steps))}" + (f" at {sites}" if sites else ""))
    tmp = tmp_growth(report)
    if tmp:
        full = (f": at that rate the {_size(TMP_SIZE)} of /tmp is full after about {tmp.full_after} warm "
                "invocations" if tmp.full_after else "")
        lines.append(f"/tmp grows by {_size(tmp.per_invocation)} per invocation{tag(tmp.codes, report)} "
                     f"({' -> '.join(_size(v) for v in _few(tmp.values))}){full}")
    memory = memory_growth(report)
    if memory:
        resident = (f" and {_size(memory.per_invocation)} more resident" if memory.per_invocation > 0 else "")
        lines.append(f"memory grew after each of the {len(memory.values) - 1} invocations{tag(memory.codes, report)}: "
                     f"{memory.blocks_per_invocation:.0f} more memory blocks (about one per small object){resident} "
                     "each time")
    work = left_work(report)
    if work:
        lines.append("threads and tasks still running when an invocation returned (Lambda freezes them with "
                     "the environment: they run on in a later invocation, or never):")
        for entry in work[:3]:
            where = f" at {entry.where}" if entry.where else ""
            lines.append(f"  {entry.kind} `{entry.name}`{tag(entry.codes, report)}: started by invocation "
                         f"{entry.started_by}{where}; still running after {invocations(entry.running_after)}")
        if len(work) > 3:
            lines.append(f"  ... {len(work)} in all")
    return lines


def json_fields(report: ProbeReport) -> dict[str, Any]:
    tmp, memory = tmp_growth(report), memory_growth(report)
    return {
        "private_tmp": report.private_tmp,
        "repeated_log_lines": [{"invocation": r.invocation, "line": r.line, "warm": r.warm, "cold": r.cold,
                                "codes": list(r.codes)} for r in repeated_lines(report)],
        "carried_log_lines": [{"invocation": c.invocation, "line": c.line, "value": c.value,
                               "from_invocation": c.from_invocation, "codes": list(c.codes)}
                              for c in carried_lines(report)],
        "environment": [{"name": c.name, "invocation": c.invocation, "before": c.before, "after": c.after,
                         "where": c.where, "codes": list(c.codes)} for c in environment_changes(report)],
        "tmp_growth": None if tmp is None else {"bytes_per_invocation": tmp.per_invocation, "bytes": list(tmp.values),
                                                "full_after": tmp.full_after, "codes": list(tmp.codes)},
        "memory_growth": None if memory is None else {
            "blocks_per_invocation": memory.blocks_per_invocation, "bytes_per_invocation": memory.per_invocation,
            "codes": list(memory.codes)},
        "work": [{"kind": w.kind, "name": w.name, "started_by": w.started_by, "where": w.where,
                  "running_after": list(w.running_after), "codes": list(w.codes)} for w in left_work(report)],
    }


# --- helpers ---------------------------------------------------------------------------------------

def _counted(logs: dict[int, tuple[tuple[str, ...], int]], key: int) -> Counter[str]:
    return Counter(_masked(line) for line in logs.get(key, ((), 0))[0])


def _masked(line: str) -> str:
    return _TIME.sub("<time>", line)


def _values(report: ProbeReport, event: int) -> Iterator[str]:
    """The strings of an event long enough to tell apart."""
    stack: list[Any] = [report.events[event] if event < len(report.events) else None]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += value.values()
        elif isinstance(value, list):
            stack += value
        elif isinstance(value, str) and len(value) >= 4:
            yield value


def _request_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"  # probe_child.LambdaContext's


def _growing(values: tuple[int, ...]) -> bool:
    """Larger at the end than at the start, and never smaller from one step to the next."""
    return values[-1] > values[0] and all(b >= a for a, b in zip(values, values[1:]))


def relative_site(site: str | None, report: ProbeReport) -> str | None:
    """"/abs/app.py:12" -> "app.py:12", relative to the project the probe imported."""
    if not site:
        return None
    path, _, line = site.rpartition(":")
    return f"{os.path.relpath(path, report.root)}:{line}"


def codes_at(report: ProbeReport, relative: str, lines: tuple[int | None, ...] = (), words: tuple[str, ...] = (),
             rules: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The codes of lambda-fix's findings in relative at one of lines or whose message has one of words."""
    return tuple(sorted({code for path, line, code, message in report.findings or ()
                         if path == relative and (rules is None or code in rules)
                         and (line in lines or any(word in message for word in words))}))


def _anywhere(report: ProbeReport, rules: tuple[str, ...], words: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(sorted({code for _, _, code, message in report.findings or ()
                         if code in rules and (not words or any(w in message for w in words))}))


def _cut(line: str, width: int = 70) -> str:
    line = line.replace("\t", " ")
    return line if len(line) <= width else line[:width - 3] + "..."


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _few_words(values: list[str]) -> list[str]:
    return values if len(values) <= 5 else [*values[:3], "...", values[-1]]


def _few(values: tuple[int, ...]) -> tuple[int, ...]:
    return values if len(values) <= 5 else (*values[:3], values[-1])


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"
