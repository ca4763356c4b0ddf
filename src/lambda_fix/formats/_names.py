"""File names as a report may show them: a name can hold any byte but NUL and `/`, and a newline in
one would start a line of its own, which a CI runner reads as a command (`::add-mask::`,
`::error ...::`) and a person as another finding."""

from __future__ import annotations

import unicodedata

# C's escapes, as git writes them in quoted names (diff headers use them too).
ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
            '"': '\\"', "\\": "\\\\"}


def shown(name: str) -> str:
    """name as it is, or C-quoted as git quotes names (`"a\\nb.py"`) when it holds a control or
    format character, a line or paragraph separator, a quote or a backslash."""
    if not any(_unsafe(c) or c in '"\\' for c in name):
        return name
    return '"' + "".join(ESCAPES.get(c) or (_code(c) if _unsafe(c) else c) for c in name) + '"'


def _unsafe(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _code(character: str) -> str:
    point = ord(character)
    if 0xDC80 <= point <= 0xDCFF:  # a byte of a name that is not UTF-8, as Python decodes it
        return f"\\x{point - 0xDC00:02x}"
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def code_span(text: str) -> str:
    """text as a Markdown code span that no backtick in it can end early."""
    fence = "`" * (longest_backtick_run(text) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def longest_backtick_run(text: str) -> int:
    """The most backticks in a row in text: a Markdown fence or code span around it needs more."""
    longest = run = 0
    for character in text:
        run = run + 1 if character == "`" else 0
        longest = max(longest, run)
    return longest


def one_line(text: str | None) -> str:
    """A message, a reason or a warning that names a file holds the name raw: every line break or
    control character in it is escaped, so a report line is one line."""
    return "".join(c if c.isprintable() or c == " " else shown(c)[1:-1] for c in text or "")
