"""Findings as the formats see them, built in one place from a file's diagnoses: positions in
characters, where each ends, related places spelled like the finding's path, and each fix on its own
(its edits and its diff) when the format wants them."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Callable, Iterable

from .analysis.walk import every_node
from .codes import BY_CODE
from .formats import diff as diff_format
from .model import Edit, Finding, Fix, Wanted
from .rules import Diagnosis
from .source import STDIN


def build_findings(path: str, text: str, readable: str, tree: ast.Module, diagnoses: list[Diagnosis],
                   applied: Iterable[Diagnosis], wanted: Wanted, rewrite: Callable[[str, list[Diagnosis]], str]
                   ) -> tuple[Finding, ...]:
    """The findings of diagnoses about text; applied: those whose fix is in the new source.

    readable: the text tree is of (ast columns are its UTF-8 offsets; it has text's characters).
    rewrite(text, diagnoses): the fixed source, for each fix on its own when wanted.fix_edits."""
    applied_ids = {id(d) for d in applied}
    lines = readable.splitlines()
    ends = _end_positions(tree) if wanted.ends else {}
    findings = []
    for d in diagnoses:
        fix = None
        if d.fix_title and d.applicability:
            fix = Fix(d.fix_title, d.applicability)
            if wanted.fix_edits and d.plan is not None:
                alone = rewrite(text, [d])
                fix = Fix(d.fix_title, d.applicability, _edits(text, alone),
                          diff_format.unified_diff(path, text, alone))
        column = _character_column(lines, d.line, d.column) + 1
        end_line, end_byte = ends.get((d.line, d.column), (d.line, d.column))
        end_column = _character_column(lines, end_line, end_byte) + 1 if wanted.ends else 0
        message = d.message if fix is not None else d.message + _how_to_suppress(d.code)
        findings.append(Finding(path=path, line=d.line, column=column, code=d.code, message=message, fix=fix,
                                applied=id(d) in applied_ids, end_line=end_line if wanted.ends else 0,
                                end_column=end_column, related=_related(path, d.related)))
    return tuple(findings)


def _related(path: str, related: tuple[tuple[str, int, str], ...]) -> tuple[tuple[str, int, str], ...]:
    """Related places, their paths spelled like the finding's: the same, or relative when it is."""
    here = Path(path).resolve() if path != STDIN else None

    def spelled(other: str) -> str:
        resolved = Path(other).resolve()
        if here is not None and resolved == here:
            return path
        if not Path(path).is_absolute() and resolved.is_relative_to(Path.cwd().resolve()):
            return str(resolved.relative_to(Path.cwd().resolve()))
        return other

    return tuple((spelled(p), line, note) for p, line, note in related)


def _end_positions(tree: ast.Module) -> dict[tuple[int, int], tuple[int, int]]:
    """Where the largest node starting at each position ends; a def or class, at the end of its first line."""
    ends: dict[tuple[int, int], tuple[int, int]] = {}
    for node in every_node(tree):  # the analysis has walked the module already
        start = (getattr(node, "lineno", None), getattr(node, "col_offset", None))
        if start[0] is None or getattr(node, "end_lineno", None) is None:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            end = (node.lineno, 10**6)  # clipped to the line by _character_column
        else:
            end = (node.end_lineno, node.end_col_offset)
        if start not in ends or end > ends[start]:
            ends[start] = end  # type: ignore[index]
    return ends  # type: ignore[return-value]


def _edits(old: str, new: str) -> tuple[Edit, ...]:
    """Line-level replacements that turn old into new."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    return tuple(Edit(i1 + 1, 1, i2 + 1, 1, "".join(new_lines[j1:j2]))
                 for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _character_column(lines: list[str], line: int, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; people count characters."""
    if not 0 < line <= len(lines):
        return 0 if byte_offset > 10**5 else byte_offset
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _how_to_suppress(code: str) -> str:
    """For a finding with no fix to apply, which a check would otherwise fail on for good: how to mark
    it deliberate."""
    where = BY_CODE[code].suppression if code in BY_CODE else "on its line"
    return f" (if it is deliberate, put `# lambda-fix: ignore[{code}]` {where})"
