"""Value types shared by every layer: frozen, typed and picklable."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional


class Applicability(enum.Enum):
    """How far a fix can be trusted, after Ruff's model."""

    SAFE = "safe"  # keeps cold-start behaviour; applied by default
    UNSAFE = "unsafe"  # may change behaviour the analysis cannot see; needs --unsafe-fixes


class Status(enum.Enum):
    CHANGED = "changed"  # the fixed source differs (written, or shown as a diff)
    UNCHANGED = "unchanged"  # read and analysed; nothing to rewrite
    SKIPPED = "skipped"  # never analysed: no Lambda handler can be in it
    FAILED = "failed"  # could not be processed; the file is left byte-for-byte as it was


@dataclass(frozen=True)
class Edit:
    """Replace [start, end) with content; lines and columns 1-based, columns in characters."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    title: str  # the action: "move `cache` into `lambda_handler`"
    applicability: Applicability
    # This fix alone, when asked for (machine-readable formats): edits and a unified diff.
    edits: tuple[Edit, ...] = ()
    diff: str = ""


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 1-based
    column: int  # 1-based, in characters
    code: str  # "LF001"
    message: str
    fix: Fix | None = None
    applied: bool = False  # the fix is in the new source
    end_line: int = 0  # where the flagged code ends (1-based, exclusive column); 0 when not computed
    end_column: int = 0
    related: tuple[tuple[str, int, str], ...] = ()  # (path, line, what is there), e.g. the write that leaks


@dataclass(frozen=True)
class FileResult:
    path: str
    status: Status
    findings: tuple[Finding, ...] = ()
    old_source: str | None = None  # decoded text, present when the file changed
    new_source: str | None = None
    error: str | None = None  # the reason, for FAILED; for SKIPPED, why, when a user should hear it
    # With --diff-base: the findings on lines the pull request did not change, left out of the report,
    # whose fixes new_source still holds (a review must not suggest what belongs to them).
    outside: tuple[Finding, ...] = ()
    # Calls with request data that the analysis could not follow: (path, line, what), in any file the
    # handlers of this one reach.
    unfollowed: tuple[tuple[str, int, str], ...] = ()

    @property
    def remaining(self) -> tuple[Finding, ...]:
        """Findings that are reported but not fixed."""
        return tuple(f for f in self.findings if not f.applied)


@dataclass(frozen=True)
class Wanted:
    """What a run needs from each file besides its findings and status."""

    ends: bool = False  # where each finding ends (the machine-readable formats)
    fix_edits: bool = False  # each fix on its own, as edits and a diff (those formats but `github`)
    # The fixed source, built and verified. A plain `--check` needs to know only that there is a fix.
    new_source: bool = True


# Size, modification time, inode and change time (ns). The change time cannot be set back by a tool
# that keeps modification times (rsync -t, touch -r), so a rewrite in place is always seen.
Stat = tuple[int, int, int, int]


@dataclass(frozen=True)
class Dependency:
    """Another file a result depends on; digest None: there was no readable file at path."""

    path: str
    digest: Optional[str]
    stat: Optional[Stat] = None  # when trusted, so the next run need not read it


@dataclass(frozen=True)
class Record:
    """What a worker learnt about a file besides its result: enough to know when to reuse it."""

    stat: Optional[Stat]  # the file's own, when trusted
    dependencies: tuple[Dependency, ...] = ()
    # What the analysis asked about the other files of the run, with the answers (Project.questions).
    questions: tuple[tuple[Any, ...], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A file's result as a worker (or the cache) hands it to the engine, with what writing it needs."""

    result: FileResult
    encoding: str | None = None
    digest: str | None = None  # of the bytes the result was computed from
    record: Record | None = None  # what the result depends on, when caching


@dataclass(frozen=True)
class RunSummary:
    results: tuple[FileResult, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # about the run, not a file's code (a template that did not parse)
    pull_request: Any = None  # PullRequestLines from --diff-base: what the review may comment on
    # The Python each directory's fixes were written for: (directory, version, why), for --verbose.
    targets: tuple[tuple[str, tuple[int, int], str], ...] = ()

    @property
    def changed(self) -> int:
        return sum(r.status is Status.CHANGED for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status is Status.FAILED for r in self.results)

    @property
    def remaining(self) -> int:
        return sum(len(r.remaining) for r in self.results)
