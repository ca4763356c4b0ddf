"""Results of earlier runs, so an unchanged repository is checked almost for free.

A result is reused only when everything it was computed from is the same:
- the file's bytes (a SHA-256 digest);
- the tool version, the interpreter version, the working directory and every setting that changes
  results (they name the cache file, so other settings never see it);
- every other file the analysis looked at: the project modules it followed, and the places it
  looked for a module and found none (a new file there would change what an import means);
- when the analysis asked "does another file of the run use this?", the same answer: checked only
  when some file of the run changed (the run's files and digests are remembered).

Reading every file to hash it would cost more than Ruff's whole run on a large repository, so,
like git's index, a digest is remembered beside the file's size, modification time and inode, and
trusted while those stay the same. A file modified within two seconds of being read is never
remembered that way ("racily clean", in git's words): its next change could keep the same time.

Concurrent runs are safe: the cache is one JSON file per settings, replaced by an atomic rename
(the last run to finish wins; nothing is ever half-written), and an entry is only ever used after
the checks above. A missing, corrupt or unreadable cache is an empty one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import __version__
from .model import Applicability, Edit, FileResult, Finding, Fix, Status

DIRECTORY_NAME = ".lambda-fix-cache"
_FORMAT = 1  # bumped when the layout of the file changes
# A file modified this recently may change again within the same timestamp tick.
_RACY_NANOSECONDS = 2_000_000_000

_THIS_RUN = "this run"
Stat = tuple[int, int, int]  # size, modification time (ns), inode


def stat_of(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if _regular(st.st_mode) else None


def _regular(mode: int) -> bool:
    return (mode & 0o170000) == 0o100000


def trusted(stat: Stat | None, read_at_ns: int) -> Stat | None:
    """The stat to remember with a digest, or None when the file was modified too recently to trust it."""
    if stat is None or stat[1] > read_at_ns - _RACY_NANOSECONDS:
        return None
    return stat


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Dependency:
    """Another file a result depends on; digest None: there was no readable file at path."""

    path: str
    digest: str | None
    stat: Stat | None = None  # when trusted, so the next run need not read it


@dataclass(frozen=True)
class Record:
    """What a worker learnt about a file besides its result: enough to know when to reuse it."""

    stat: Stat | None  # the file's own, when trusted
    dependencies: tuple[Dependency, ...] = ()
    # What the analysis asked about the other files of the run, with the answers (Project.questions).
    questions: tuple[tuple[Any, ...], ...] = ()


@dataclass
class Cache:
    """One settings' cache file, loaded at the start of a run and saved once at its end."""

    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, list[Any]] = field(default_factory=dict)  # path -> [size, mtime_ns, inode, digest]
    _digests: dict[str, str | None] = field(default_factory=dict)  # this run's, by path
    _updated: dict[str, dict[str, Any]] = field(default_factory=dict)
    _run_fingerprint: str | None = None
    _project: Any = None
    _changed = False  # anything to save: a new result, or a digest learnt the slow way

    @classmethod
    def open(cls, directory: Path, settings: Iterable[Any]) -> "Cache":
        key = hashlib.sha256(repr((_FORMAT, __version__, sys.version, os.getcwd(), *settings)).encode()).hexdigest()
        cache = cls(directory / __version__ / f"{key[:32]}.json")
        try:
            data = json.loads(cache.path.read_bytes())
            if data.get("format") == _FORMAT and isinstance(data.get("entries"), dict):
                cache.entries, cache.stats = data["entries"], data.get("stats", {})
        except (OSError, ValueError, AttributeError):
            pass  # no cache yet, or one this run cannot use: start empty
        return cache

    # ---- reading ------------------------------------------------------------------------------

    def digest(self, path: str) -> str | None:
        """The current digest of path's bytes; None when it is not a readable regular file."""
        if path in self._digests:
            return self._digests[path]
        stat = stat_of(path)
        known = self.stats.get(path)
        if stat is None:
            value = None
        elif known and tuple(known[:3]) == stat:
            value = known[3]
        else:
            now = time.time_ns()
            try:
                value = digest_bytes(Path(path).read_bytes())
            except OSError:
                value = None
            self._remember_stat(path, trusted(stat, now), value)
        self._digests[path] = value
        return value

    def lookup(self, path: str, run_files: tuple[str, ...]) -> tuple[FileResult, str | None, str | None] | None:
        """(result, encoding, digest) from an earlier run when nothing it depends on changed."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        try:
            if self.digest(path) != entry["digest"]:
                return None
            if any(self.digest(dep) != digest for dep, digest in entry["dependencies"]):
                return None
            if entry["run"] is not None and entry["run"] != self.run_fingerprint(run_files):
                # Some file of the run changed: the result holds if its questions get the same answers.
                if not all(self._run_project(run_files).answers(tuple(q)) for q in entry["questions"]):
                    return None
                entry["run"] = _THIS_RUN
                self._changed = True
            result = _result_from_plain(entry["result"], path)
        except (KeyError, TypeError, ValueError):
            return None  # an entry of a shape this version does not write: recompute
        self._updated[path] = entry  # still true: keep it
        return result, entry["encoding"], entry["digest"]

    def _run_project(self, run_files: tuple[str, ...]) -> Any:
        """A project over the run's files, to ask again what cached results asked about them."""
        if self._project is None:
            from .analysis.project import Project  # only when something changed: a cached run skips it
            from .source import SourceError, decode

            def read(path: str) -> str | None:
                try:
                    return decode(Path(path).read_bytes()).text
                except (OSError, SourceError):
                    return None

            self._project = Project(read, files=run_files)
        return self._project

    def run_fingerprint(self, run_files: tuple[str, ...]) -> str:
        """Every file of the run and its digest: what "used anywhere else in the run?" depends on."""
        if self._run_fingerprint is None:
            hasher = hashlib.sha256()
            for path in run_files:  # discovery sorts them
                hasher.update(f"{path}\0{self.digest(path)}\0".encode())
            self._run_fingerprint = hasher.hexdigest()
        return self._run_fingerprint

    # ---- writing ------------------------------------------------------------------------------

    def store(self, result: FileResult, encoding: str | None, digest: str | None, record: Record | None) -> None:
        if digest is None or record is None:
            return  # nothing read, so nothing to key the result by
        self._digests[result.path] = digest
        self._remember_stat(result.path, record.stat, digest)
        for dep in record.dependencies:
            self._remember_stat(dep.path, dep.stat, dep.digest)
        self._changed = True
        self._updated[result.path] = {
            "digest": digest,
            "encoding": encoding,
            "dependencies": [[dep.path, dep.digest] for dep in record.dependencies],
            # Filled in by save(), when every file of the run has its digest from the workers.
            "run": _THIS_RUN if record.questions else None,
            "questions": [list(q) for q in record.questions],
            "result": _result_to_plain(result),
        }

    def _remember_stat(self, path: str, stat: Stat | None, digest: str | None) -> None:
        remembered = [*stat, digest] if stat is not None and digest is not None else None
        if self.stats.get(path) != remembered:
            self._changed = True
            if remembered is None:
                self.stats.pop(path, None)
            else:
                self.stats[path] = remembered

    def save(self, run_files: tuple[str, ...]) -> str | None:
        """Merge this run's results into the file (atomically); a warning when that fails, else None."""
        if not self._changed:
            return None  # every result came from the cache: the file is already right
        for entry in self._updated.values():
            if entry["run"] == _THIS_RUN:
                entry["run"] = self.run_fingerprint(run_files)
        try:
            current = json.loads(self.path.read_bytes())
            entries = current["entries"] if current.get("format") == _FORMAT else {}
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            entries = {}
        # Keep what another run wrote meanwhile, then this run's results; drop files that are gone.
        entries = {p: e for p, e in entries.items() if p in self._updated or os.path.exists(p)}
        entries.update(self._updated)
        needed = set(entries).union(dep for e in entries.values() for dep, _ in e.get("dependencies", ()))
        stats = {p: s for p, s in self.stats.items() if p in needed}
        data = json.dumps({"format": _FORMAT, "version": __version__, "entries": entries, "stats": stats},
                          separators=(",", ":")).encode()
        try:
            _prepare(self.path.parent.parent)
            self.path.parent.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            return f"warning: cannot write the cache in {self.path.parent.parent}: {exc.strerror or exc}"
        return None


def _prepare(directory: Path) -> None:
    """Create the cache directory, marked so that git and backup tools leave it alone."""
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".gitignore").write_text("# Created by lambda-fix automatically.\n*\n")
    (directory / "CACHEDIR.TAG").write_text(
        "Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by lambda-fix.\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n")


# ---- results as JSON ------------------------------------------------------------------------------


def _result_to_plain(result: FileResult) -> dict[str, Any]:
    plain: dict[str, Any] = {"status": result.status.value}  # and only what is there: most files have nothing
    if result.findings:
        plain["findings"] = [_finding_to_plain(f) for f in result.findings]
    for key in ("old_source", "new_source", "error"):
        if getattr(result, key) is not None:
            plain[key] = getattr(result, key)
    return plain


def _finding_to_plain(finding: Finding) -> list[Any]:
    fix = finding.fix
    plain_fix = None if fix is None else [fix.title, fix.applicability.value,
                                          [[e.start_line, e.start_column, e.end_line, e.end_column, e.content]
                                           for e in fix.edits], fix.diff]
    return [finding.line, finding.column, finding.code, finding.message, plain_fix, finding.applied,
            finding.end_line, finding.end_column, [list(r) for r in finding.related]]


def _result_from_plain(plain: dict[str, Any], path: str) -> FileResult:
    return FileResult(path=path, status=Status(plain["status"]), findings=tuple(
        _finding_from_plain(f, path) for f in plain.get("findings", ())), old_source=plain.get("old_source"),
        new_source=plain.get("new_source"), error=plain.get("error"))


def _finding_from_plain(plain: list[Any], path: str) -> Finding:
    line, column, code, message, plain_fix, applied, end_line, end_column, related = plain
    fix = None
    if plain_fix is not None:
        title, applicability, edits, diff = plain_fix
        fix = Fix(title, Applicability(applicability), tuple(Edit(*e) for e in edits), diff)
    return Finding(path=path, line=line, column=column, code=code, message=message, fix=fix, applied=applied,
                   end_line=end_line, end_column=end_column, related=tuple(tuple(r) for r in related))
