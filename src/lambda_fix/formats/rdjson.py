"""reviewdog's diagnostic format (rdjson), with suggestions, for teams that already run reviewdog.

Ranges are end-exclusive and columns count UTF-8 bytes, as that format defines.
"""

from __future__ import annotations

import json
from typing import Any

from ..codes import BY_CODE
from ..model import Applicability, Finding, RunSummary, Status
from ._source import source_lines


def render(summary: RunSummary, wrote: bool) -> str:
    diagnostics = []
    for result in summary.results:
        lines = source_lines(result)
        for finding in result.findings:
            if not (finding.applied and wrote):
                diagnostics.append(_diagnostic(finding, lines))
        if result.status is Status.FAILED:
            diagnostics.append({"message": result.error or "", "location": {"path": result.path},
                                "severity": "ERROR"})
    document = {"source": {"name": "lambda-fix"}, "severity": "WARNING", "diagnostics": diagnostics}
    return json.dumps(document, indent=2) + "\n"


def _diagnostic(finding: Finding, lines: list[str]) -> dict[str, Any]:
    diagnostic: dict[str, Any] = {
        "message": finding.message,
        "location": {"path": finding.path, "range": {
            "start": _position(lines, finding.line, finding.column),
            "end": _position(lines, finding.end_line or finding.line, finding.end_column or finding.column),
        }},
        "severity": "WARNING",
        "code": {"value": finding.code},
    }
    if finding.code in BY_CODE:
        diagnostic["code"]["value"] = f"{finding.code} {BY_CODE[finding.code].name}"
    if finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE:
        # rdjson has no field for a fix's safety: the message says it.
        diagnostic["message"] += (" [unsafe fix: read it before accepting]" if finding.applied else
                                  " [an unsafe fix exists: --unsafe-fixes applies it]")
    if finding.fix is not None and finding.fix.edits and finding.applied:  # only what this run applies
        diagnostic["suggestions"] = [{
            "range": {"start": {"line": e.start_line, "column": 1}, "end": {"line": e.end_line, "column": 1}},
            "text": e.content,
        } for e in finding.fix.edits]
    return diagnostic


def _position(lines: list[str], line: int, column: int) -> dict[str, int]:
    """A character column becomes the byte column reviewdog counts."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return {"line": line, "column": len(text[: column - 1].encode("utf-8")) + 1}
