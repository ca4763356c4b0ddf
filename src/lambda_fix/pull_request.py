"""What a pull request changed, from git: the lines it added or changed, and the hunks GitHub shows.

GitHub accepts a review comment only on lines of the pull request's diff (the changed lines and the
three lines of context around them), and a multi-line comment only within one hunk.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


class GitError(Exception):
    """git could not say what the pull request changed; the message is git's."""


@dataclass(frozen=True)
class PullRequestLines:
    changed: dict[str, frozenset[int]] = field(default_factory=dict)  # absolute path -> changed lines
    hunks: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # -> (first, last) shown
    head: str = ""  # the commit the lines are of (HEAD): where GitHub places the review's comments

    def changed_file(self, path: str) -> bool:
        return _key(path) in self.changed or _key(path) in self.hunks

    def touches(self, path: str, first: int, last: int) -> bool:
        lines = self.changed.get(_key(path), frozenset())
        return any(line in lines for line in range(first, last + 1))

    def hunk_of(self, path: str, first: int, last: int) -> tuple[int, int] | None:
        """The hunk that holds all of first..last, or None."""
        for start, end in self.hunks.get(_key(path), ()):
            if start <= first and last <= end:
                return start, end
        return None


def lines_changed_since(base: str, directory: str = ".") -> PullRequestLines:
    """Lines changed between the merge base of base and HEAD, and the working tree."""
    root = Path(_git(["rev-parse", "--show-toplevel"], directory).strip())
    head = _git(["rev-parse", "HEAD"], directory).strip()
    merge_base = _git(["merge-base", base, "HEAD"], directory).strip()
    changed = _new_side(_git(["diff", "--no-color", "--no-ext-diff", "-U0", merge_base, "--"], directory), root,
                        context=False)
    shown = _new_side(_git(["diff", "--no-color", "--no-ext-diff", "-U3", merge_base, "--"], directory), root,
                      context=True)
    return PullRequestLines(
        {path: frozenset(line for start, end in ranges for line in range(start, end + 1))
         for path, ranges in changed.items()},
        {path: tuple(ranges) for path, ranges in shown.items()},
        head,
    )


def _new_side(diff: str, root: Path, context: bool) -> dict[str, list[tuple[int, int]]]:
    ranges: dict[str, list[tuple[int, int]]] = {}
    for chunk in re.split(r"^diff --git ", diff, flags=re.MULTILINE)[1:]:
        target = re.search(r"^\+\+\+ b/(.+)$", chunk, re.MULTILINE)
        if target is None:
            continue  # a deleted file
        path = _key(str(root / target.group(1)))
        for match in _HUNK.finditer(chunk):
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if count:
                ranges.setdefault(path, []).append((start, start + count - 1))
    return ranges


def _git(arguments: list[str], directory: str) -> str:
    try:
        completed = subprocess.run(["git", *arguments], cwd=directory, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if completed.returncode != 0:
        raise GitError(completed.stderr.strip() or f"git {' '.join(arguments)} failed")
    return completed.stdout


def _key(path: str) -> str:
    return str(Path(path).resolve())
