"""GitHub Actions workflow commands, so findings and errors show as annotations on the pull request."""

from __future__ import annotations

from ..codes import BY_CODE
from ..model import RunSummary, Status


def render(summary: RunSummary, wrote: bool) -> str:
    lines = [f"::warning title=lambda-fix::{_data(w)}" for w in summary.warnings]
    for result in summary.results:
        if result.status is Status.FAILED:
            lines.append(f"::error file={_property(result.path)},title=lambda-fix::{_data(result.error or '')}")
        for finding in result.findings:
            if finding.applied and wrote:
                continue
            rule = BY_CODE[finding.code].name if finding.code in BY_CODE else ""
            properties = [f"file={_property(finding.path)}", f"line={finding.line}", f"col={finding.column}"]
            if finding.end_line:
                properties += [f"endLine={finding.end_line}", f"endColumn={finding.end_column}"]
            properties.append(f"title={_property(f'{finding.code} {rule}'.strip())}")
            lines.append(f"::warning {','.join(properties)}::{_data(finding.message)}")
    return "".join(line + "\n" for line in lines)


def _data(text: str) -> str:
    """Escape a message as GitHub's workflow commands require. A byte of a file name that is not UTF-8
    (which Python holds as a lone surrogate, and no UTF-8 output can carry) is shown as %XX."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return "".join(f"%{ord(c) - 0xDC00:02X}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in escaped)


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
