"""Unified diffs of every file the fixes change, in path order."""

from __future__ import annotations

import difflib

from ..model import RunSummary, Status


def render(summary: RunSummary, wrote: bool = False) -> str:
    chunks = []
    for result in summary.results:
        if result.status is Status.CHANGED and result.old_source is not None and result.new_source is not None:
            chunks.append(unified_diff(result.path, result.old_source, result.new_source))
    return "".join(chunks)


def unified_diff(path: str, old: str, new: str) -> str:
    # git's a/ b/ prefixes for relative paths (so `git apply` / `patch -p1` take the output).
    before, after = (path, path) if path.startswith("/") or path == "-" else (f"a/{path}", f"b/{path}")
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=before, tofile=after)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
