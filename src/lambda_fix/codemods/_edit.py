"""Small libcst edits the codemods share: bodies, `global` statements, imports."""

from __future__ import annotations

from typing import Sequence

import libcst as cst
import libcst.matchers as m


def as_block(body: cst.BaseSuite) -> cst.IndentedBlock:
    """`def f(): return x` becomes an indented block so statements can be added."""
    if isinstance(body, cst.IndentedBlock):
        return body
    assert isinstance(body, cst.SimpleStatementSuite)
    return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[s]) for s in body.body])


def is_docstring(stmt: cst.BaseStatement) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))


def split_preamble(statements: Sequence[cst.BaseStatement]) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
    """(docstring and `global`/`nonlocal` lines, the rest): code is inserted between the two."""
    index = 0
    if statements and is_docstring(statements[0]):
        index = 1
    while index < len(statements) and m.matches(
            statements[index], m.SimpleStatementLine(body=[m.AtLeastN(m.Global() | m.Nonlocal(), n=1)])):
        index += 1
    return list(statements[:index]), list(statements[index:])


def without_global(statements: Sequence[cst.BaseStatement], name: str) -> list[cst.BaseStatement]:
    """Drop name from top-level `global` statements of a function body; drop emptied statements."""
    result: list[cst.BaseStatement] = []
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            small: list[cst.BaseSmallStatement] = []
            for part in stmt.body:
                if isinstance(part, cst.Global) and any(n.name.value == name for n in part.names):
                    kept = [n for n in part.names if n.name.value != name]
                    if not kept:
                        continue
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    part = part.with_changes(names=kept)
                small.append(part)
            if not small:
                continue
            small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            stmt = stmt.with_changes(body=small)
        result.append(stmt)
    return result


def statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def add_module_statements(module: cst.Module, lines: Sequence[str]) -> cst.Module:
    """Add import statements to the module's leading import block, where isort would put them.

    Plain `import x` lines sort before `from x import y` lines, alphabetically; nothing goes
    above the docstring or a `from __future__` import. Statements already present are skipped.
    """
    existing = {module.code_for_node(s).strip() for s in module.body}
    body = list(module.body)
    for line in lines:
        if line in existing:
            continue
        new = statement(line)
        start, end = _import_block(body)
        index = end
        for position in range(start, end):
            if _import_key(body[position]) > _import_key(new):
                index = position
                break
        if index == start < end:
            # Comments above the first import describe the block: keep them on top.
            first = body[index]
            body[index] = first.with_changes(leading_lines=[])
            new = new.with_changes(leading_lines=first.leading_lines)
        body.insert(index, new)
        after = index + 1
        if start == end and after < len(body) and not _blank_prefix(body[after]):
            # A new import block is set off from the code after it, as isort and black do.
            body[after] = body[after].with_changes(leading_lines=[cst.EmptyLine(), *body[after].leading_lines])
    return module.with_changes(body=body)


def _blank_prefix(stmt: cst.BaseStatement) -> bool:
    lines = getattr(stmt, "leading_lines", ())
    return bool(lines) and lines[0].comment is None


def _import_block(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    """[start, end) of the leading imports, after the docstring and `from __future__` lines."""
    start = 1 if body and is_docstring(body[0]) else 0
    while start < len(body) and m.matches(body[start], m.SimpleStatementLine(
            body=[m.ImportFrom(module=m.Name("__future__"))])):
        start += 1
    end = start
    while end < len(body) and m.matches(body[end], m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()])):
        end += 1
    return start, end


def _import_key(stmt: cst.BaseStatement) -> tuple[bool, str]:
    small = stmt.body[0]  # type: ignore[attr-defined]
    if isinstance(small, cst.ImportFrom):
        module = cst.Module(body=[]).code_for_node(small.module) if small.module else ""
        return True, "." * len(small.relative) + module
    return False, cst.Module(body=[]).code_for_node(small.names[0].name)
