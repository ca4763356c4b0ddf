"""The default report: one `path:line:col: CODE message` line per finding still in the code, one
`path: error: reason` line per file that could not be processed, and a one-line summary.

color: the command line's choice (a terminal, NO_COLOR, FORCE_COLOR); Ruff's colours, only ever in
this format: the path bold, the code bold red, the separators and `[*]` cyan."""

from __future__ import annotations

import os

from collections import Counter

from ..model import Applicability, FileResult, RunSummary, Status
from ._names import one_line, shown

_BOLD, _RED, _CYAN, _GREEN = "1", "1;31", "36", "1;32"


def _paint(text: str, style: str, color: bool) -> str:
    return f"\033[{style}m{text}\033[0m" if color else text


def problems(summary: RunSummary, color: bool = False) -> str:
    """The warnings, one `path: error: reason` line per file that could not be processed and one `path:
    note: ...` per file skipped for a reason worth telling: what a machine-readable format's run tells
    a person on stderr, before the summary."""
    lines = [*map(one_line, summary.warnings), *filter(None, (_file_problem(r, color) for r in summary.results))]
    return "\n".join(lines) + "\n" if lines else ""


def _file_problem(result: FileResult, color: bool = False) -> str | None:
    """`path: error: reason` for a file that could not be processed; `path: note: ...` for one skipped
    for a reason worth telling."""
    path = _paint(shown(result.path), _BOLD, color)
    if result.status is Status.FAILED:
        return f"{path}: {_paint('error', _RED, color)}: {one_line(result.error)}"
    if result.status is Status.SKIPPED and result.error:
        return f"{path}: note: {one_line(result.error)}"
    return None


def render(summary: RunSummary, wrote: bool, color: bool = False, show_fixes: bool = False) -> str:
    """show_fixes: also the fixes applied (or, when nothing was written, available), by file (`fixes`)."""
    lines = [one_line(w) for w in summary.warnings]
    colon = _paint(":", _CYAN, color)
    for result in summary.results:
        problem = _file_problem(result, color)
        if problem:
            lines.append(problem)
        for finding in result.findings:
            if finding.applied and wrote and result.status is Status.CHANGED:
                continue  # fixed on disk: nothing left to report
            marker = _paint("[*]", _CYAN, color) + " " if finding.applied else ""
            lines.append(f"{_paint(shown(finding.path), _BOLD, color)}{colon}{finding.line}{colon}{finding.column}"
                         f"{colon} {_paint(finding.code, _RED, color)} {marker}{one_line(finding.message)}")
    lines.append((fixes(summary, wrote, color) if show_fixes else "") + summary_line(summary, wrote))
    return "\n".join(lines) + "\n"


def fixes(summary: RunSummary, wrote: bool, color: bool = False) -> str:
    """`--show-fixes`, as Ruff lists them: the fixes applied (or, when nothing was written, those a run
    would apply), by file, each code with its count and rule name, the most frequent first; "" when
    there are none. Placed before the summary line, with a blank line on either side."""
    from ..codes import BY_CODE

    by_file: dict[str, Counter[str]] = {}
    for result in summary.results:
        if result.status is Status.CHANGED:
            applied = Counter(f.code for f in result.findings if f.applied)
            if applied:
                by_file[result.path] = applied
    if not by_file:
        return ""
    total = sum(sum(counts.values()) for counts in by_file.values())
    width = len(str(max(max(counts.values()) for counts in by_file.values())))
    findings = _count(total, "finding", "findings")
    lines = ["", _paint(f"Fixed {findings}:" if wrote else f"Would fix {findings}:", _GREEN, color)]
    for path in sorted(by_file):
        lines.append(f"{_paint('-', _CYAN, color)} {_paint(shown(path), _BOLD, color)}{_paint(':', _CYAN, color)}")
        for code, number in sorted(by_file[path].items(), key=lambda item: (-item[1], item[0])):
            name = BY_CODE[code].name if code in BY_CODE else ""
            lines.append(f"    {number:>{width}} \u00d7 {_paint(code, _RED, color)} ({name})")
    return "\n".join(lines) + "\n\n"


def counts(summary: RunSummary, wrote: bool) -> dict[str, int]:
    """The numbers the summary line states, for the machine-readable formats."""
    return {
        "files_checked": checked_and_skipped(summary)[0],
        "files_skipped": checked_and_skipped(summary)[1],
        "files_changed": summary.changed,
        "fixes_applied" if wrote else "fixes_available": sum(
            f.applied for r in summary.results if r.status is Status.CHANGED for f in r.findings),
        "findings_remaining": sum(not f.applied for r in summary.results for f in r.findings),
        "errors": summary.failed,
    }


def checked_and_skipped(summary: RunSummary) -> tuple[int, int]:
    """The files read and checked (a file found to hold nothing to check counts), and those skipped for a
    reason a note names (generated, over max-file-size, ...): never analysed, so not counted as checked."""
    skipped = sum(r.status is Status.SKIPPED and bool(r.error) for r in summary.results)
    return sum(r.status is not Status.FAILED for r in summary.results) - skipped, skipped


def summary_line(summary: RunSummary, wrote: bool) -> str:
    applied = sum(f.applied for r in summary.results if r.status is Status.CHANGED for f in r.findings)
    remaining = sum(not f.applied for r in summary.results for f in r.findings)
    changed = summary.changed
    parts = [
        _count(changed, "file changed" if wrote else "file would change",
               "files changed" if wrote else "files would change"),
        _count(applied, "fix applied" if wrote else "fix available", "fixes applied" if wrote else "fixes available"),
        _count(remaining, "finding remaining", "findings remaining"),
        _count(summary.failed, "error", "errors"),
    ]
    checked, skipped = checked_and_skipped(summary)
    line = f"{', '.join(parts)} ({_count(checked, 'file', 'files')} checked{f', {skipped} skipped' if skipped else ''})"
    hidden = sum(1 for r in summary.results for f in r.findings
                 if not f.applied and f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
    if hidden:
        line += f"; {_count(hidden, 'unsafe fix', 'unsafe fixes')} can be applied with --unsafe-fixes"
    return line


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def statistics(summary: RunSummary, wrote: bool, color: bool = False, show_fixes: bool = False) -> str:
    """`--statistics`, as Ruff prints it: one line per code, the most frequent first (`[*]` when every
    one of them has a fix that applies), then the problems, the fixes (show_fixes) and the summary line."""
    from ..codes import BY_CODE

    counts: dict[str, list[int]] = {}
    for result in summary.results:
        for finding in result.findings:
            if finding.applied and wrote and result.status is Status.CHANGED:
                continue
            seen = counts.setdefault(finding.code, [0, 0])
            seen[0] += 1
            seen[1] += finding.applied
    lines = [f"{total:5d}\t{_paint(code, _RED, color)}\t{_paint('[*]', _CYAN, color) + ' ' if fixed == total else ''}"
             f"{BY_CODE[code].name if code in BY_CODE else ''}"
             for code, (total, fixed) in sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))]
    blind = unfollowed_calls(summary)
    if blind:
        lines.append(f"{len(blind):5d}\t\tcalls with request data that lambda-fix could not follow (-v lists them)")
    return ("\n".join(lines) + ("\n" if lines else "") + problems(summary, color)
            + (fixes(summary, wrote, color) if show_fixes else "") + summary_line(summary, wrote) + "\n")


def unfollowed_calls(summary: RunSummary) -> list[tuple[str, int, str]]:
    """Every call with request data that the analysis could not follow, once each, by place."""
    return sorted({u for result in summary.results for u in result.unfollowed})


def unfollowed(summary: RunSummary) -> str:
    """`-v`: where request data went that lambda-fix could not follow (a function picked at run time, a
    library object's method): what happens to it there is not checked."""
    lines = []
    for path, line, what in unfollowed_calls(summary):
        shown = os.path.relpath(path) if os.path.isabs(path) else path
        lines.append(f"{shown}:{line}: request data goes into {what}, which lambda-fix could not follow\n")
    return "".join(lines)
