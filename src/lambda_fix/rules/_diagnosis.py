"""What a decision hands the engine about one problem: where it is, what it is, and its fix plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..model import Applicability


@dataclass(frozen=True, order=True)
class Span:
    """Where a node is: 1-based lines, 0-based columns in characters (as libcst's positions count).

    Plans point at the expressions they replace by span, never by their text: two calls written alike
    are two nodes (the decisions convert ast's UTF-8 byte columns with `ModuleInfo.span`)."""

    line: int
    column: int
    end_line: int
    end_column: int


class Plan:
    """The base of every rule's plan: a frozen dataclass that says what its fix does, pointing at nodes
    by Span or by function name. Its codemod (codemods/<rule module>.py) takes a list of them."""

    __slots__ = ()

    def functions(self) -> tuple[str, ...]:
        """The functions the fix finds by name ("name", "Class.name") to edit, add to or insert above."""
        raise NotImplementedError


@dataclass(frozen=True)
class Diagnosis:
    code: str  # "LF003"
    line: int  # 1-based
    column: int  # 0-based, in UTF-8 bytes as ast counts; the engine turns it into characters
    message: str
    fix_title: Optional[str] = None
    applicability: Optional[Applicability] = None
    plan: Optional[Plan] = None  # the rule's plan (its codemod's input); None when reported only
    related: tuple[tuple[str, int, str], ...] = ()  # (path, line, what is there), e.g. the write that leaks

    @classmethod
    def reported(cls, code: str, line: int, column: int, message: str, reason: str,
                 verb: str = "fixed", **extra: Any) -> "Diagnosis":
        """A problem reported with the reason no rewrite is made."""
        return cls(code, line, column, f"{message}; not {verb}: {reason}", **extra)
