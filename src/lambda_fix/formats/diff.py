"""Unified diffs of every file the fixes change, in path order."""

from __future__ import annotations

import difflib

from ..model import RunSummary, Status
from ._names import ESCAPES


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
                                 fromfile=header_name(before), tofile=header_name(after))
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)




def header_name(name: str) -> str:
    """A file name as git writes it on `---`/`+++` lines, which `git apply` and GNU `patch` read back:
    C-quoted when it holds a quote, a backslash, a control or a non-ASCII character (bytes as octal
    escapes), and followed by a tab when it holds a space (a name ends at a tab)."""
    quoted = name
    if any(c in ESCAPES or ord(c) < 0x20 or ord(c) >= 0x7F for c in name):
        parts = []
        for c in name:
            if c in ESCAPES:
                parts.append(ESCAPES[c])
            elif ord(c) < 0x20 or ord(c) >= 0x7F:
                parts.extend(f"\\{byte:03o}" for byte in c.encode("utf-8", "surrogateescape"))
            else:
                parts.append(c)
        quoted = '"' + "".join(parts) + '"'
    return quoted + ("\t" if " " in name else "")
