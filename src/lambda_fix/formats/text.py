"""The default report: one `path:line:col: CODE message` line per finding still in the code, one
`path: error: reason` line per file that could not be processed, and a one-line summary."""

from __future__ import annotations

from ..model import Applicability, FileResult, RunSummary, Status
from ._names import one_line, shown


def problems(summary: RunSummary) -> str:
    """The warnings, one `path: error: reason` line per file that could not be processed and one `path:
    note: ...` per file skipped for a reason worth telling: what a machine-readable format's run tells
    a person on stderr, before the summary."""
    lines = [*map(one_line, summary.warnings), *filter(None, map(_file_problem, summary.results))]
    return "\n".join(lines) + "\n" if lines else ""


def _file_problem(result: FileResult) -> str | None:
    """`path: error: reason` for a file that could not be processed; `path: note: ...` for one skipped
    for a reason worth telling."""
    if result.status is Status.FAILED:
        return f"{shown(result.path)}: error: {one_line(result.error)}"
    if result.status is Status.SKIPPED and result.error:
        return f"{shown(result.path)}: note: {one_line(result.error)}"
    return None


def render(summary: RunSummary, wrote: bool) -> str:
    lines = [one_line(w) for w in summary.warnings]
    for result in summary.results:
        problem = _file_problem(result)
        if problem:
            lines.append(problem)
        for finding in result.findings:
            if finding.applied and wrote and result.status is Status.CHANGED:
                continue  # fixed on disk: nothing left to report
            marker = "[*] " if finding.applied else ""
            lines.append(f"{shown(finding.path)}:{finding.line}:{finding.column}: {finding.code} {marker}"
                         f"{one_line(finding.message)}")
    lines.append(summary_line(summary, wrote))
    return "\n".join(lines) + "\n"


def counts(summary: RunSummary, wrote: bool) -> dict[str, int]:
    """The numbers the summary line states, for the machine-readable formats."""
    return {
        "files_checked": sum(r.status is not Status.FAILED for r in summary.results),
        "files_changed": summary.changed,
        "fixes_applied" if wrote else "fixes_available": sum(
            f.applied for r in summary.results if r.status is Status.CHANGED for f in r.findings),
        "findings_remaining": sum(not f.applied for r in summary.results for f in r.findings),
        "errors": summary.failed,
    }


def summary_line(summary: RunSummary, wrote: bool) -> str:
    applied = sum(f.applied for r in summary.results if r.status is Status.CHANGED for f in r.findings)
    remaining = sum(not f.applied for r in summary.results for f in r.findings)
    changed = summary.changed
    parts = [
        _count(changed, "file changed" if wrote else "file would change", "files changed" if wrote else "files would change"),
        _count(applied, "fix applied" if wrote else "fix available", "fixes applied" if wrote else "fixes available"),
        _count(remaining, "finding remaining", "findings remaining"),
        _count(summary.failed, "error", "errors"),
    ]
    checked = sum(r.status is not Status.FAILED for r in summary.results)
    line = f"{', '.join(parts)} ({_count(checked, 'file', 'files')} checked)"
    hidden = sum(1 for r in summary.results for f in r.findings
                 if not f.applied and f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
    if hidden:
        line += f"; {_count(hidden, 'unsafe fix', 'unsafe fixes')} can be applied with --unsafe-fixes"
    return line


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def statistics(summary: RunSummary, wrote: bool) -> str:
    """`--statistics`, as Ruff prints it: one line per code, the most frequent first (`[*]` when every
    one of them has a fix that applies), then the problems and the summary line."""
    from ..codes import BY_CODE

    counts: dict[str, list[int]] = {}
    for result in summary.results:
        for finding in result.findings:
            if finding.applied and wrote and result.status is Status.CHANGED:
                continue
            seen = counts.setdefault(finding.code, [0, 0])
            seen[0] += 1
            seen[1] += finding.applied
    lines = [f"{total:5d}\t{code}\t{'[*] ' if fixed == total else ''}{BY_CODE[code].name if code in BY_CODE else ''}"
             for code, (total, fixed) in sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))]
    return "\n".join(lines) + ("\n" if lines else "") + problems(summary) + summary_line(summary, wrote) + "\n"
