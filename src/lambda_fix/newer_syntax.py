"""Code written for a newer Python than the one running lambda-fix, made readable to its `ast`.

The analysis runs on the standard `ast` of the running interpreter, which rejects syntax added
after it: type parameters and `type` statements (3.12, PEP 695) and f-strings that reuse their
quote or hold a backslash (3.12, PEP 701). libcst parses them all, so for such a file this module
writes a stand-in the running `ast` accepts, with every line where it was and every column where
it was outside the changed spans, so findings point at the real code:
- `def f[T](x: T)` / `class C[T]:` -> the brackets become spaces (`def f   (x: T)`);
- `type Alias[T] = list[T]` -> `0;   Alias    = list[T]`;
- a string literal inside an f-string's `{...}` that uses the outer quote or a backslash ->
  a blank literal of the same length in the other quote (`f"{d["k"]}"` -> `f"{d[' ']}"`);
- a t-string (3.14, PEP 750) -> the same f-string (`t"{x}"` -> `f"{x}"`);
- `except A, B:` without brackets (3.14, PEP 758) -> `except A| B:`;
- `except*` (3.11, for lambda-fix running on 3.9 or 3.10) -> `except `. A `match` statement has
  no such stand-in: on 3.9 a file with one is reported, not analysed.

Only the analysis sees the stand-in. The rewrite is made by libcst on the real source, and the
result is checked through the same stand-in. A file this cannot handle (say, a multi-line
expression inside a one-line f-string) is still reported as newer syntax, and left unchanged.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def stand_in(source: str) -> str | None:
    """A source the running `ast` parses, lines and columns kept; None when there is none."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except Exception:  # noqa: BLE001 - libcst cannot parse it either: a real syntax error
        return None
    collector = _Spans(wrapper.resolve(PositionProvider))
    wrapper.module.visit(collector)  # the positions are of the wrapper's copy of the tree
    # Where each line starts, with libcst's line breaks (str.splitlines also breaks at form feeds).
    starts = [0, *(match.end() for match in _LINE_BREAK.finditer(source))]
    text = list(source)
    for (start_line, start_column), (end_line, end_column), replacement in collector.edits:
        start, end = starts[start_line - 1] + start_column, starts[end_line - 1] + end_column
        original = source[start:end]
        blanked = replacement(original)
        if blanked is None:
            return None
        text[start:end] = list(blanked)  # same length: later offsets stay right
    result = "".join(text)
    try:
        ast.parse(result)
    except (SyntaxError, ValueError):
        return None
    return result


def _blank_brackets(original: str) -> str | None:
    """`[T: int]` -> spaces; a line break inside is kept, continued by a backslash just before it."""
    out: list[str] = []
    for char in original:
        if char == "\n" and out and out[-1] == "\r":
            out.append(char)  # the second half of a CRLF
        elif char in "\r\n":
            if not out or out[-1] in "\r\n":
                return None  # an empty line inside: no character left to carry the backslash
            out[-1] = "\\"
            out.append(char)
        else:
            out.append(" ")
    return "".join(out)


def _as_fstring(original: str) -> str | None:
    """`t"..."` -> `f"..."`, `rt'...'` -> `rf'...'`: the prefix's t becomes an f."""
    quote = min((i for i in (original.find('"'), original.find("'")) if i >= 0), default=-1)
    if quote < 0:
        return None
    prefix = original[:quote].replace("t", "f").replace("T", "F")
    return prefix + original[quote:]


def _bare_tuple(node: Any) -> bool:
    return type(node).__name__ == "Tuple" and not node.lpar and len(node.elements) > 1


def _blank_literal(quote: str) -> Any:
    def blank(original: str) -> str | None:
        if "\n" in original or "\r" in original or len(original) < 2:
            return None
        return quote + " " * (len(original) - 2) + quote
    return blank


class _Spans(cst.CSTVisitor):
    """Collects (start, end, replacement) for the spans to rewrite, from libcst positions."""

    def __init__(self, positions: Any) -> None:
        super().__init__()
        self.positions = positions
        self.edits: list[tuple[tuple[int, int], tuple[int, int], Any]] = []
        self._quotes: list[str] = []  # the quote of each f-string the visit is inside
        self._pushed: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        name = type(node).__name__
        if name in ("FunctionDef", "ClassDef") and getattr(node, "type_parameters", None) is not None:
            self._span(node.type_parameters, _blank_brackets)
        elif name == "TypeAlias":
            self._type_alias(node)
            return False
        elif name == "TemplatedString" and not self._quotes:
            # A t-string (3.14, PEP 750) is spelled like an f-string: read it as one.
            self._span(node, _as_fstring)
            self._quotes.append(node.quote[-1])
            self._pushed.add(id(node))
        elif name in ("ExceptHandler", "ExceptStarHandler"):
            if name == "ExceptStarHandler":
                # `except*` (3.11, PEP 654), for a lambda-fix running on 3.9 or 3.10: read as `except `.
                start = self.positions[node].start
                star = start.column + len("except") + len(getattr(node.whitespace_after_except, "value", ""))
                self.edits.append(((start.line, star), (start.line, star + 1),
                                   lambda original: " " if original == "*" else None))
            if _bare_tuple(node.type):
                # `except A, B:` (3.14, PEP 758) -> `except A| B:`: still both names, in their places.
                for element in node.type.elements[:-1]:
                    self._span(element.comma, lambda original: "|" + original[1:])
        elif name in ("FormattedString", "TemplatedString") and self._quotes:
            # An f-string inside an f-string's {...}: blanked whole (names in it are not seen).
            self._span(node, _blank_literal(self._other_quote()))
            return False
        elif name == "FormattedString":
            self._quotes.append(node.quote[-1])
            self._pushed.add(id(node))
        elif name == "SimpleString" and self._quotes:
            quote = node.value.lstrip("rRbBuU")[:1]
            if quote == self._quotes[-1] or "\\" in node.value:
                self._span(node, _blank_literal(self._other_quote()))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        node = original_node
        if id(node) in self._pushed:
            self._pushed.discard(id(node))
            self._quotes.pop()

    def _other_quote(self) -> str:
        return "'" if self._quotes[-1] == '"' else '"'

    def _type_alias(self, node: Any) -> None:
        """`type Alias[T] = ...` -> `0;   Alias    = ...`: the name keeps its column."""
        start, name_start = self.positions[node].start, self.positions[node.name].start

        def keyword(original: str) -> str | None:
            return None if "\n" in original or "\r" in original else "0;" + " " * (len(original) - 2)
        self.edits.append(((start.line, start.column), (name_start.line, name_start.column), keyword))
        if node.type_parameters is not None:
            self._span(node.type_parameters, _blank_brackets)

    def _span(self, node: Any, replacement: Any) -> None:
        position = self.positions[node]
        self.edits.append(((position.start.line, position.start.column),
                           (position.end.line, position.end.column), replacement))
