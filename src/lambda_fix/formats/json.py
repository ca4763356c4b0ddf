"""One JSON document with every finding, its fix as edits and as a diff, and the errors.

The field names are stable; docs/output-formats.md describes them.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..codes import BY_CODE
from ..model import Finding, RunSummary, Status
from .text import counts


def render(summary: RunSummary, wrote: bool) -> str:
    document = {
        "tool": "lambda-fix",
        "version": __version__,
        "summary": counts(summary, wrote),
        "findings": [_finding(f) for r in summary.results for f in r.findings],
        "errors": [{"path": r.path, "message": r.error} for r in summary.results if r.status is Status.FAILED],
        "warnings": list(summary.warnings),
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _finding(finding: Finding) -> dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = {
            "title": finding.fix.title,
            "applicability": finding.fix.applicability.value,
            "applied": finding.applied,
            "edits": [{"start": {"line": e.start_line, "column": e.start_column},
                       "end": {"line": e.end_line, "column": e.end_column},
                       "content": e.content} for e in finding.fix.edits],
            "diff": finding.fix.diff,
        }
    return {
        "path": finding.path,
        "code": finding.code,
        "rule": BY_CODE[finding.code].name if finding.code in BY_CODE else None,
        "message": finding.message,
        "start": {"line": finding.line, "column": finding.column},
        "end": {"line": finding.end_line or finding.line, "column": finding.end_column or finding.column},
        "related": [{"path": path, "line": line, "message": note} for path, line, note in finding.related],
        "fix": fix,
    }
