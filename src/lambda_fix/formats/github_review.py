"""The body of GitHub's "create a review for a pull request" call, with fixes as suggestions.

Suggestions come from the file lambda-fix would write, not from each fix on its own: the changed lines
of the whole rewrite are grouped so that no two suggestions touch the same line (two fixes that each
add an import share one), and accepting every suggestion gives exactly that file. A fix whose lines
fall in several groups ties them together: they are suggested only when GitHub can place every one of
them (on lines of the pull request's diff, a multi-line one within one hunk), each marked as a part to
accept with the others; otherwise the fixes come as one patch to read, never as a partial suggestion
that would leave the code broken if accepted alone. Only fixes the run would apply are suggested: an
unsafe fix without `--unsafe-fixes` is shown as a patch marked unsafe. Without --diff-base every line
counts as shown, which suits a new file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..model import Applicability, FileResult, Finding, RunSummary, Status
from ._names import code_span, longest_backtick_run, one_line, shown
from ._source import source_lines
from .diff import unified_diff

MARKER = "<!-- lambda-fix -->"
EXPLANATION = ("\n\nThis fix also changes lines this pull request does not show, so it cannot be a suggestion. "
               "Run `lambda-fix` on the file, or apply this patch:")
UNSAFE = ("\n\nThis fix is marked unsafe (see the rule's \"Fix safety\"), so this run does not apply it; "
          "`--unsafe-fixes` does. Read it before applying:")


@dataclass
class _Group:
    """Old lines first..last, which the rewrite replaces with content; the findings whose fixes edit them."""

    first: int
    last: int
    content: str
    findings: list[Finding] = field(default_factory=list)
    foreign: bool = False  # also edited by a fix of a finding outside the pull request's lines


def render(summary: RunSummary, wrote: bool) -> str:  # noqa: ARG001 - a review is made with --check only
    pull_request = summary.pull_request
    comments: list[dict[str, Any]] = []
    notes: list[str] = []
    errors: list[str] = []
    findings = 0
    for result in summary.results:
        if result.status is Status.FAILED:
            errors.append(f"- {code_span(shown(result.path))}: {one_line(result.error)}")
            continue
        findings += len(result.findings)
        placed, unplaced = _file_comments(result, pull_request)
        comments.extend(placed)
        notes.extend(unplaced)
    if not findings and not errors:
        body = [MARKER, "lambda-fix: nothing to fix in this pull request."]
    else:
        body = [MARKER, f"lambda-fix found {_count(findings, 'finding')} in this pull request"
                + (f" and {_count(len(errors), 'file')} it could not check." if errors else ".")]
    if notes:
        body += ["", "Not on lines this pull request shows:", *notes]
    if errors:
        body += ["", "Could not be checked:", *errors]
    review: dict[str, Any] = {"body": "\n".join(body), "event": "COMMENT", "comments": comments}
    head = getattr(pull_request, "head", "")
    if head:
        review["commit_id"] = head  # the commit the lines are of: GitHub places the comments there
    # What the review says, so a bot can tell a new push that changes nothing from one that does.
    digest = hashlib.sha256(json.dumps([review["body"], comments], sort_keys=True).encode()).hexdigest()[:16]
    review["body"] += f"\n<!-- lambda-fix:digest={digest} -->"
    return json.dumps(review, indent=2) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _file_comments(result: FileResult, pull_request: Any) -> tuple[list[dict[str, Any]], list[str]]:
    comments: list[dict[str, Any]] = []
    notes: list[str] = []
    lines = source_lines(result, keepends=True)
    applied = [f for f in result.findings if f.applied and f.fix is not None]
    others = [f for f in result.findings if f not in applied]
    if applied:
        groups = _groups(result, applied, lines)
        if groups is None:  # no rewrite to take the suggestions from: each fix as a patch
            others = list(result.findings)
        else:
            # A fix none of whose edits meets a changed line (should not happen) is shown as its patch.
            others += [f for f in applied if not any(f in g.findings for g in groups)]
            for component in _components(groups):
                placed, unplaced = _suggest(result, component, lines, pull_request)
                comments.extend(placed)
                notes.extend(unplaced)
    for finding in others:
        header = f"**{finding.code}** {finding.message}"
        if finding.fix is not None and finding.fix.diff:
            unsafe = finding.fix.applicability is Applicability.UNSAFE and not finding.applied
            header += (UNSAFE if unsafe else EXPLANATION) + _patch(finding.fix.diff)
        anchor = _anchor(finding, pull_request)
        if anchor is None:
            notes.append(f"- {code_span(f'{shown(finding.path)}:{finding.line}')} {header}")
        else:
            comments.append(_comment(finding.path, anchor, anchor, header))
    return comments, notes


def _groups(result: FileResult, applied: list[Finding], lines: list[str]) -> list[_Group] | None:
    """The rewrite's changed lines as suggestions that touch no line twice, with the findings whose
    fixes edit each one (a fix's own edits say which old lines it changes)."""
    if result.status is not Status.CHANGED or result.old_source is None or result.new_source is None or not lines:
        return None
    new = result.new_source.splitlines(keepends=True)
    spans: list[tuple[int, int, list[tuple[int, int, int, int]]]] = []  # (first, last, opcodes), 1-based lines
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, lines, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # An insertion is suggested with a neighbour: the line above it, or the first line.
        first, last = (i1 + 1, i2) if i2 > i1 else (i1, i1) if i1 > 0 else (1, 1)
        if spans and first <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]), [*spans[-1][2], (i1, i2, j1, j2)])
        else:
            spans.append((first, last, [(i1, i2, j1, j2)]))
    groups = []
    for first, last, opcodes in spans:
        out, position = [], first - 1
        for i1, i2, j1, j2 in opcodes:
            out += lines[position:i1] + new[j1:j2]
            position = i2
        out += lines[position:last]
        groups.append(_Group(first, last, "".join(_ended(text) for text in out)))
    for finding in applied:
        for group in groups:
            if any(_edits_touch(edit, group) for edit in finding.fix.edits):  # type: ignore[union-attr]
                group.findings.append(finding)
    for finding in result.outside:
        if finding.applied and finding.fix is not None:
            for group in groups:
                if any(_edits_touch(edit, group) for edit in finding.fix.edits):
                    group.foreign = True
    return [g for g in groups if g.findings]  # the rest belongs to fixes outside the pull request


def _ended(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _edits_touch(edit: Any, group: _Group) -> bool:
    """Does an edit meet the group's old lines? It changes the lines from its start to its end (the end
    line only when it ends after that line's first column); one that only inserts, the two around it."""
    first, last = edit.start_line, edit.end_line if edit.end_column > 1 else edit.end_line - 1
    if last < first:
        first, last = edit.start_line - 1, edit.start_line
    return first <= group.last and group.first <= last


def _components(groups: list[_Group]) -> list[list[_Group]]:
    """Groups tied together by a fix that edits more than one of them, in line order."""
    components: list[list[_Group]] = []
    for group in groups:
        joined = [c for c in components if any(f in g.findings for g in c for f in group.findings)]
        merged = [g for c in joined for g in c] + [group]
        components = [c for c in components if c not in joined] + [sorted(merged, key=lambda g: g.first)]
    return sorted(components, key=lambda c: c[0].first)


def _suggest(result: FileResult, component: list[_Group], lines: list[str],
             pull_request: Any) -> tuple[list[dict[str, Any]], list[str]]:
    findings = list(dict.fromkeys(f for g in component for f in g.findings))
    header = "\n\n".join(f"**{f.code}** {f.message}\n\n{f.fix.title}"  # type: ignore[union-attr]
                         + (" (an unsafe fix: read it before accepting)"
                            if f.fix.applicability is Applicability.UNSAFE else "")  # type: ignore[union-attr]
                         for f in findings)
    path = result.path
    if not any(g.foreign for g in component) and all(_shown(pull_request, path, g.first, g.last) for g in component):
        total = len(component)
        comments = []
        for number, group in enumerate(component, start=1):
            if number == 1:
                text = header + (f"\n\n(part 1 of {total}: accept every part, or none)" if total > 1 else "")
            else:
                text = f"**{findings[0].code}** part {number} of {total}: accept every part, or none"
            fence = fence_for(group.content)
            comments.append(_comment(path, group.first, group.last,
                                     f"{text}\n\n{fence}suggestion\n{group.content}{fence}"))
        return comments, []
    patch = _patch(_component_diff(path, lines, component))
    anchor = next((a for a in (_anchor(f, pull_request) for f in findings) if a is not None), None)
    if anchor is None:
        return [], [f"- {code_span(f'{shown(path)}:{findings[0].line}')} {header}{EXPLANATION}{patch}"]
    return [_comment(path, anchor, anchor, header + EXPLANATION + patch)], []


def _component_diff(path: str, lines: list[str], component: list[_Group]) -> str:
    """The patch of these groups alone, to read or apply where a suggestion cannot go."""
    new, position = [], 0
    for group in component:
        new += lines[position:group.first - 1] + [group.content]
        position = group.last
    new += lines[position:]
    return unified_diff(path, "".join(lines), "".join(new))


def _anchor(finding: Finding, pull_request: Any) -> int | None:
    """A line to comment on: the finding's own, else a related one in the same file (the write that
    leaks, which may be what the pull request added), if the pull request shows it."""
    candidates = [finding.line, *(line for path, line, _ in finding.related if path == finding.path)]
    return next((line for line in candidates if _shown(pull_request, finding.path, line, line)), None)


def _shown(pull_request: Any, path: str, first: int, last: int) -> bool:
    return pull_request is None or pull_request.hunk_of(path, first, last) is not None


def _comment(path: str, first: int, last: int, body: str) -> dict[str, Any]:
    comment: dict[str, Any] = {"path": path, "line": last, "side": "RIGHT", "body": body}
    if first != last:
        comment.update(start_line=first, start_side="RIGHT")
    return comment


def _patch(diff: str) -> str:
    fence = fence_for(diff)
    return f"\n\n{fence}diff\n{diff}{fence}"


def fence_for(content: str) -> str:
    """A code fence longer than any run of backticks in content (the pull request's own lines), so
    that none of them ends the block and makes the rest of the comment Markdown."""
    return "`" * max(3, longest_backtick_run(content) + 1)
