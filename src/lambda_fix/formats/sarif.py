"""SARIF 2.1.0: rules with their documentation, results with regions and fixes, stable fingerprints."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from pathlib import PurePath
from typing import Any

from .. import __version__
from ..codes import RULES
from ..model import Finding, RunSummary, Status
from ..rule_docs import render as rule_page
from ..rule_docs import sections
from ._source import source_lines

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(summary: RunSummary, wrote: bool) -> str:
    rule_index = {rule.code: i for i, rule in enumerate(RULES)}
    results = []
    for result in summary.results:
        lines = source_lines(result)
        seen: dict[str, int] = {}
        for finding in result.findings:
            if finding.applied and wrote:
                continue
            results.append(_result(finding, rule_index, lines, seen))
    notifications = [{"level": "error", "message": {"text": f"{r.path}: {r.error}"},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}}}]}
                     for r in summary.results if r.status is Status.FAILED]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "lambda-fix",
            "version": __version__,
            # No informationUri (optional in SARIF): the project has no published address to give.
            "rules": [_rule(rule) for rule in RULES],
        }},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": False, "toolExecutionNotifications": notifications}]
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _rule(rule: Any) -> dict[str, Any]:
    parts = sections(rule)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": parts.get("What it does", rule.summary)},
        "help": {"text": parts.get("Why is this bad?", ""), "markdown": rule_page(rule)},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["aws-lambda", "warm-start"]},
    }


def _result(finding: Finding, rule_index: dict[str, int], lines: list[str], seen: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line:
        region.update(endLine=finding.end_line, endColumn=finding.end_column)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": "warning",
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(finding.path)}, "region": region}}],
        "partialFingerprints": {"lambdaFix/v1": _fingerprint(finding, lines, seen)},
    }
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    if finding.related:
        result["relatedLocations"] = [
            {"id": number, "message": {"text": note},
             "physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": {"startLine": line}}}
            for number, (path, line, note) in enumerate(finding.related, start=1)]
    if finding.fix is not None:
        # What a consumer needs to know before offering it; only a fix this run applies is offered.
        result["properties"] = {"fixApplicability": finding.fix.applicability.value, "fixApplied": finding.applied}
    if finding.fix is not None and finding.fix.edits and finding.applied:
        result["fixes"] = [{
            "description": {"text": finding.fix.title},
            "artifactChanges": [{
                "artifactLocation": {"uri": _uri(finding.path)},
                "replacements": [{
                    "deletedRegion": {"startLine": e.start_line, "startColumn": e.start_column,
                                      "endLine": e.end_line, "endColumn": e.end_column},
                    "insertedContent": {"text": e.content},
                } for e in finding.fix.edits],
            }],
        }]
    return result


def _fingerprint(finding: Finding, lines: list[str], seen: dict[str, int]) -> str:
    """Stable across unrelated edits: the rule, the file and the flagged line's text, not its number."""
    text = lines[finding.line - 1].strip() if 0 < finding.line <= len(lines) else ""
    key = f"{finding.code}\0{finding.path}\0{text}"
    seen[key] = seen.get(key, 0) + 1  # the same line text twice in a file gets two fingerprints
    return hashlib.sha256(f"{key}\0{seen[key]}".encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _uri(path: str) -> str:
    """A URI reference (RFC 3986), as SARIF requires: relative paths percent-encoded (a space is `%20`),
    absolute ones as `file://` URIs."""
    pure = PurePath(path)
    # A name that is not UTF-8 is percent-encoded byte for byte (os.fsencode gives its bytes back).
    quoted = urllib.parse.quote(os.fsencode(pure.as_posix()), safe="/")
    return "file://" + quoted if pure.is_absolute() else quoted
