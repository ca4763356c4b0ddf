"""What the analysis hands the engine about one problem: where it is, what it is, and its fix plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Applicability


@dataclass(frozen=True)
class Diagnosis:
    code: str  # "LF003"
    line: int  # 1-based
    column: int  # 0-based, in UTF-8 bytes as ast counts; the engine turns it into characters
    message: str
    fix_title: str | None = None
    applicability: Applicability | None = None
    plan: Any = None  # the codemod's plan; None when the problem is reported only
    related: tuple[tuple[str, int, str], ...] = ()  # (path, line, what is there), e.g. the write that leaks

    @classmethod
    def reported(cls, code: str, line: int, column: int, message: str, reason: str,
                 verb: str = "fixed", **extra: Any) -> "Diagnosis":
        """A problem reported with the reason no rewrite is made."""
        return cls(code, line, column, f"{message}; not {verb}: {reason}", **extra)
