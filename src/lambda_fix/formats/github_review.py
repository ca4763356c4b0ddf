"""The body of GitHub's "create a review for a pull request" call, with fixes as suggestions.

GitHub accepts a suggestion only on lines of the pull request's diff, and a multi-line one only within
one hunk; it cannot suggest on a line the pull request did not show. So a fix becomes one suggestion per
edit when every edit fits in a hunk, and otherwise one comment with the whole patch (never a partial
suggestion that would leave the code broken if accepted alone). Without --diff-base every line counts
as shown, which suits a new file.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Edit, Finding, RunSummary, Status
from ._source import source_lines

MARKER = "<!-- lambda-fix -->"
EXPLANATION = ("\n\nThis fix also changes lines this pull request does not show, so it cannot be a suggestion. "
               "Run `lambda-fix` on the file, or apply this patch:")


def render(summary: RunSummary, wrote: bool) -> str:
    pull_request = summary.pull_request
    comments: list[dict[str, Any]] = []
    notes: list[str] = []
    for result in summary.results:
        if result.status is Status.FAILED:
            notes.append(f"- `{result.path}`: {result.error}")
            continue
        lines = source_lines(result, keepends=True)
        for finding in result.findings:
            if finding.applied and wrote:
                continue
            placed = _comments_for(finding, lines, pull_request)
            if placed is None:
                notes.append(f"- `{finding.path}:{finding.line}` **{finding.code}** {finding.message}"
                             + (EXPLANATION + _patch(finding) if finding.fix and finding.fix.diff else ""))
            else:
                comments.extend(placed)
    body = [MARKER, f"lambda-fix found {len(comments) + len(notes)} thing(s) to look at in this pull request."]
    if notes:
        body += ["", "Not on lines this pull request shows:", *notes]
    review = {"body": "\n".join(body), "event": "COMMENT", "comments": comments}
    return json.dumps(review, indent=2) + "\n"


def _comments_for(finding: Finding, lines: list[str], pull_request: Any) -> list[dict[str, Any]] | None:
    """The comments for one finding, or None when none can sit on this pull request's lines."""
    header = f"**{finding.code}** {finding.message}"
    if finding.fix is not None and finding.fix.edits:
        pieces = [_suggestion(edit, lines) for edit in finding.fix.edits]
        if all(_shown(pull_request, finding.path, first, last) for first, last, _ in pieces):
            total = len(pieces)
            comments = []
            for number, (first, last, content) in enumerate(pieces, start=1):
                if number == 1:
                    text = f"{header}\n\n{finding.fix.title}"
                    if total > 1:
                        text += f" (part 1 of {total}: accept every part, or none)"
                else:
                    text = f"**{finding.code}** part {number} of {total}: accept every part, or none"
                comments.append(_comment(finding.path, first, last, f"{text}\n\n```suggestion\n{content}```"))
            return comments
        anchor = _anchor(finding, pull_request)
        if anchor is not None:
            return [_comment(finding.path, anchor, anchor, header + EXPLANATION + _patch(finding))]
        return None
    anchor = _anchor(finding, pull_request)
    return [_comment(finding.path, anchor, anchor, header)] if anchor is not None else None


def _anchor(finding: Finding, pull_request: Any) -> int | None:
    """A line to comment on: the finding's own, else a related one in the same file (the write that
    leaks, which may be what the pull request added), if the pull request shows it."""
    candidates = [finding.line, *(line for path, line, _ in finding.related if path == finding.path)]
    return next((line for line in candidates if _shown(pull_request, finding.path, line, line)), None)


def _suggestion(edit: Edit, lines: list[str]) -> tuple[int, int, str]:
    """(first line, last line, new text) of a suggestion doing edit; an insertion takes a neighbour line."""
    if edit.end_line > edit.start_line:
        return edit.start_line, edit.end_line - 1, edit.content
    at = edit.start_line
    if at > 1:  # insert after the line above
        return at - 1, at - 1, _line(lines, at - 1) + edit.content
    return at, at, edit.content + _line(lines, at)


def _line(lines: list[str], number: int) -> str:
    text = lines[number - 1] if 0 < number <= len(lines) else ""
    return text if text.endswith("\n") else text + "\n"


def _shown(pull_request: Any, path: str, first: int, last: int) -> bool:
    return pull_request is None or pull_request.hunk_of(path, first, last) is not None


def _comment(path: str, first: int, last: int, body: str) -> dict[str, Any]:
    comment: dict[str, Any] = {"path": path, "line": last, "side": "RIGHT", "body": body}
    if first != last:
        comment.update(start_line=first, start_side="RIGHT")
    return comment


def _patch(finding: Finding) -> str:
    return f"\n\n```diff\n{finding.fix.diff}```" if finding.fix else ""
