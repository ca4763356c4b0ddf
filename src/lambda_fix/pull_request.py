"""What a pull request changed, from git: the lines it added or changed, and the hunks GitHub shows.

GitHub accepts a review comment only on lines of the pull request's diff (the changed lines and the
three lines of context around them), and a multi-line comment only within one hunk.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_HUNK = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
# git's C-style quoting of a path in a diff's header (quote.c): these, and any other byte as \ooo.
_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13,
            ord('"'): 34, ord("\\"): 92}
# Whatever the user's settings: paths from the top of the repository with the prefixes the parser reads,
# and the lines as committed (a textconv driver or an external diff would show other lines).
_DIFF = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "--src-prefix=a/",
         "--dst-prefix=b/"]


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
    root = Path(os.fsdecode(_git(["rev-parse", "--show-toplevel"], directory).strip()))
    head = _git(["rev-parse", "HEAD"], directory).decode().strip()
    merge_base = _git(["merge-base", base, "HEAD"], directory).decode().strip()
    changed = _new_side(_git([*_DIFF, "-U0", merge_base, "--"], directory), root)
    shown = _new_side(_git([*_DIFF, "-U3", merge_base, "--"], directory), root)
    return PullRequestLines(
        {path: frozenset(line for start, end in ranges for line in range(start, end + 1))
         for path, ranges in changed.items()},
        {path: tuple(ranges) for path, ranges in shown.items()},
        head,
    )


def _new_side(diff: bytes, root: Path) -> dict[str, list[tuple[int, int]]]:
    """Each file's new-side line ranges of the diff's hunks (the ranges with lines in them).

    Read as bytes, since neither a file's name nor its lines need be UTF-8; a name is taken only from
    a `+++` line of a file's header, which git quotes when the name holds a byte it would not write
    as it is (a newline included), so every header is one line."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    path: str | None = None
    in_header = False
    for line in diff.split(b"\n"):
        if line.startswith(b"diff --git "):
            path, in_header = None, True
        elif in_header and line.startswith(b"+++ "):
            name = _header_path(line[4:])
            path = None if name is None else _key(str(root / os.fsdecode(name)))
        elif line.startswith(b"@@ "):
            in_header = False
            match = _HUNK.match(line)
            if path is not None and match is not None:
                start, count = int(match.group(1)), int(match.group(2) or b"1")
                if count:
                    ranges.setdefault(path, []).append((start, start + count - 1))
    return ranges


def _header_path(written: bytes) -> bytes | None:
    """The path of a `+++ ` line, None for a deleted file's /dev/null."""
    if written.startswith(b'"'):
        written = _unquoted(written)
    elif b" " in written:
        written = written.removesuffix(b"\t")  # git ends the line with a tab when the name has a space
    return written[2:] if written.startswith(b"b/") else None


def _unquoted(quoted: bytes) -> bytes:
    """The bytes of a C-quoted path, from its opening quote to its closing one."""
    out, at = bytearray(), 1
    while at < len(quoted) and quoted[at] != ord('"'):
        if quoted[at] == ord("\\") and quoted[at + 1:at + 2].isdigit():
            out.append(int(quoted[at + 1:at + 4], 8) & 0xFF)
            at += 4
        elif quoted[at] == ord("\\") and at + 1 < len(quoted):
            out.append(_ESCAPES.get(quoted[at + 1], quoted[at + 1]))
            at += 2
        else:
            out.append(quoted[at])
            at += 1
    return bytes(out)


def _git(arguments: list[str], directory: str) -> bytes:
    try:
        completed = subprocess.run(["git", *arguments], cwd=directory, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if completed.returncode != 0:
        raise GitError(completed.stderr.decode(errors="replace").strip() or f"git {' '.join(arguments)} failed")
    return completed.stdout


def _key(path: str) -> str:
    return str(Path(path).resolve())
