"""The source lines a format quotes or counts in: one way to get them for every format."""

from __future__ import annotations

from ..model import FileResult


def source_lines(result: FileResult, keepends: bool = False) -> list[str]:
    """The file's text as it was analysed: the result holds it when the file changed, else it is read."""
    text = result.old_source
    if text is None:
        try:
            with open(result.path, encoding="utf-8", errors="replace") as stream:
                text = stream.read()
        except OSError:
            text = ""
    return text.splitlines(keepends=keepends)
