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
like git's index, a digest is remembered beside the file's size, modification and change times and
inode, and trusted while those stay the same. A file modified within two seconds of being read is never
remembered that way ("racily clean", in git's words): its next change could keep the same time.

Concurrent runs are safe: the cache is one JSON file per settings, replaced by an atomic rename
(the last run to finish wins; nothing is ever half-written), and an entry is only ever used after
the checks above. A missing, corrupt or unreadable cache is an empty one.

Nothing in the cache is trusted because it is there (docs/trust.md): a file counts only when its HMAC,
under a key kept outside the repository (cache_key.py), shows this user wrote it on this machine, and
it holds no source text at all. A result whose fix must be written, shown or posted is computed and
verified afresh, like any other rewrite.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from . import __version__, cache_key, files
from .files import read_regular
from .model import Applicability, FileResult, Finding, Fix, Record, Stat, Status, Wanted
from .source import SourceError, decode

DIRECTORY_NAME = ".lambda-fix-cache"
_FORMAT = 15  # bumped when the layout of the file (or of what it records) changes
# A file modified this recently may change again within the same timestamp tick.
_RACY_NANOSECONDS = 2_000_000_000

_THIS_RUN = "this run"


def stat_of(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns) if _regular(st.st_mode) else None


def _regular(mode: int) -> bool:
    return (mode & 0o170000) == 0o100000


def trusted(stat: Stat | None, read_at_ns: int) -> Stat | None:
    """The stat to remember with a digest, or None when the file was modified too recently to trust it."""
    if stat is None or max(stat[1], stat[3]) > read_at_ns - _RACY_NANOSECONDS:
        return None
    return stat


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Cache:
    """One settings' cache file, loaded at the start of a run and saved once at its end.

    Handlers in one directory import the same modules and look for them in the same places, so the
    lists of dependencies are kept once each in a table, and an entry names its list by index; each
    list is checked once per run, however many entries share it.
    """

    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, list[Any]] = field(default_factory=dict)  # path -> [*Stat, digest]
    dependency_lists: list[list[list[Any]]] = field(default_factory=list)  # [[path, digest or None], ...]
    _loaded_stat: Stat | None = None  # of the file as read: unchanged at save, no other run wrote it
    _list_ids: dict[str, int] | None = None  # a list's JSON -> its index, built on the first store
    _lists_hold: dict[int, bool] = field(default_factory=dict)  # this run's verdict on each list
    _digests: dict[str, str | None] = field(default_factory=dict)  # this run's, by path
    _updated: dict[str, dict[str, Any]] = field(default_factory=dict)
    _run_fingerprint: str | None = None
    # The files of the run it reports on, when not all of them (files named on the command line, read
    # with their project around them): "is that file checked too?" is a question about the run.
    checked: tuple[str, ...] | None = None
    _changed = False  # anything to save: a new result, or a digest learnt the slow way

    @classmethod
    def open(cls, directory: Path, settings: Iterable[Any]) -> "Cache":
        key = hashlib.sha256(repr((_FORMAT, __version__, sys.version, os.getcwd(), *settings)).encode()).hexdigest()
        cache = cls(directory / __version__ / f"{key[:32]}.json")
        loaded = _load(cache.path)
        if loaded is not None:
            cache.entries, cache.stats, cache.dependency_lists, cache._loaded_stat = loaded
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
        elif known and tuple(known[:4]) == stat:
            value = known[4]
        else:
            now = time.time_ns()
            try:
                value = digest_bytes(read_regular(path))
            except OSError:
                value = None
            self._remember_stat(path, trusted(stat, now), value)
        self._digests[path] = value
        return value

    def lookup(self, path: str, run_files: tuple[str, ...], answers: Callable[[tuple[Any, ...]], bool],
               wanted: Wanted = Wanted()) -> tuple[FileResult, str | None, str | None] | None:
        """(result, encoding, digest) from an earlier run when nothing it depends on changed.

        answers: whether a question the analysis asked about the run's other files (Record.questions)
        still gets the answer it got; asked only when some file of the run changed.

        The cache holds no source text: a file with a fix is processed again when the run writes,
        shows or posts fixes (wanted.new_source, wanted.fix_edits); a plain `--check` reuses it."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        try:
            if self.digest(path) != entry["digest"] or not self._list_holds(entry["dependencies"]):
                return None
            if entry["run"] is not None and entry["run"] != self.run_fingerprint(run_files):
                # Some file of the run changed: the result holds if its questions get the same answers.
                if not all(answers(tuple(q)) for q in entry["questions"]):
                    return None
                entry["run"] = _THIS_RUN
                self._changed = True
            result = _result_from_plain(entry["result"], path)
        except (KeyError, TypeError, ValueError, IndexError):
            return None  # an entry of a shape this version does not write: recompute
        if result.status is Status.CHANGED and wanted.new_source:
            return None
        if wanted.fix_edits and any(f.fix is not None for f in result.findings):
            return None
        if result.status is Status.CHANGED:
            # The source before the fix is the file itself (checked against the digest once more).
            try:
                data = read_regular(path)
                if digest_bytes(data) != entry["digest"]:
                    return None
                result = replace(result, old_source=decode(data).text)
            except (OSError, SourceError):
                return None
        self._updated[path] = entry  # still true: keep it
        return result, entry["encoding"], entry["digest"]

    def _list_holds(self, index: int) -> bool:
        if index not in self._lists_hold:
            self._lists_hold[index] = all(self.digest(dep) == digest for dep, digest in self.dependency_lists[index])
        return self._lists_hold[index]

    def run_fingerprint(self, run_files: tuple[str, ...]) -> str:
        """Every file of the run and its digest: what "used anywhere else in the run?" depends on."""
        if self._run_fingerprint is None:
            hasher = hashlib.sha256()
            for path in run_files:  # discovery sorts them
                hasher.update(f"{path}\0{self.digest(path)}\0".encode("utf-8", "surrogateescape"))
            if self.checked is not None:
                hasher.update("\0checked\0".join(("", *self.checked)).encode("utf-8", "surrogateescape"))
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
            "dependencies": self._list_id([[dep.path, dep.digest] for dep in record.dependencies]),
            # Filled in by save(), when every file of the run has its digest from the workers.
            "run": _THIS_RUN if record.questions else None,
            "questions": [list(q) for q in record.questions],
            "result": _result_to_plain(result),
        }

    def _list_id(self, dependencies: list[list[Any]]) -> int:
        """The index of this list in the table, added if new."""
        if self._list_ids is None:
            self._list_ids = {json.dumps(d): i for i, d in enumerate(self.dependency_lists)}
        return _index_in(self.dependency_lists, self._list_ids, dependencies)

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
        # What is on disk now: what this run read, unless another run has written since.
        base, base_lists = self.entries, self.dependency_lists
        if stat_of(str(self.path)) != self._loaded_stat:
            loaded = _load(self.path)
            base, base_lists = (loaded[0], loaded[2]) if loaded is not None else ({}, [])
        # Keep the other files' results (another run's included) unless the file is gone, then this
        # run's; the table keeps only the lists still named, each once.
        lists: list[list[list[Any]]] = []
        ids: dict[str, int] = {}

        def renumber(dependencies: list[list[Any]]) -> int:
            return _index_in(lists, ids, dependencies)

        entries: dict[str, dict[str, Any]] = {}
        for path, entry in base.items():
            if path not in self._updated and os.path.exists(path):
                try:
                    entries[path] = {**entry, "dependencies": renumber(base_lists[entry["dependencies"]])}
                except (KeyError, TypeError, IndexError):
                    continue  # not of this version's shape: dropped
        for path, entry in self._updated.items():
            entries[path] = {**entry, "dependencies": renumber(self.dependency_lists[entry["dependencies"]])}
        needed = set(entries).union(dep for dependencies in lists for dep, _ in dependencies)
        stats = {p: s for p, s in self.stats.items() if p in needed}
        data = json.dumps({"format": _FORMAT, "version": __version__, "entries": entries,
                           "dependency_lists": lists, "stats": stats}, separators=(",", ":")).encode()
        try:
            signed = cache_key.sign(data).encode() + b"\n" + data
        except cache_key.KeyUnavailable as exc:
            return f"warning: {exc}; the cache was not written"
        try:
            _prepare(self.path.parent.parent)
            _no_link(self.path.parent, create=True)
            _replace(self.path, signed)
        except OSError as exc:
            return f"warning: cannot write the cache in {self.path.parent.parent}: {exc.strerror or exc}"
        return None


def _index_in(table: list[list[list[Any]]], ids: dict[str, int], dependencies: list[list[Any]]) -> int:
    """The index of a list of dependencies in table (ids: each list's JSON to its index), added if new."""
    key = json.dumps(dependencies)
    if key not in ids:
        ids[key] = len(table)
        table.append(dependencies)
    return ids[key]


def _load(path: Path) -> tuple[dict[str, Any], dict[str, list[Any]], list[Any], Stat | None] | None:
    """(entries, stats, dependency lists, the file's stat as read), or None: no cache, one this version
    cannot use, or one this user did not write here (its HMAC does not check out)."""
    stat = stat_of(str(path))
    try:
        _no_link(path.parent, create=False)
        if os.path.islink(path):
            return None
        signature, _, data = read_regular(path, _MAX_SIZE).partition(b"\n")
        if not cache_key.verify(data, signature.decode("ascii")):
            return None
        data = json.loads(data)
    except (OSError, ValueError, RecursionError, MemoryError, cache_key.KeyUnavailable):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    entries, stats, lists = data.get("entries"), data.get("stats"), data.get("dependency_lists")
    if not isinstance(entries, dict) or not isinstance(stats, dict) or not isinstance(lists, list):
        return None
    return entries, stats, lists, stat


# Far above the cache of an 11,500-file site-packages (about 10 MB).
_MAX_SIZE = 512 * 1024 * 1024


def _no_link(directory: Path, create: bool) -> None:
    """The version directory is the cache's own: a link there (committed to the repository, say) would
    send reads and writes elsewhere, so it is refused."""
    if os.path.islink(directory):
        raise OSError(errno.ELOOP, "a symbolic link where the cache's directory should be", str(directory))
    if create:
        directory.mkdir(exist_ok=True)


def _replace(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file and a rename; temporary files that killed runs left
    beside it are removed first."""
    files.remove_leftovers(str(path.parent), os.listdir(path.parent))
    files.write_beside(path, data)


_MARKERS = {
    ".gitignore": b"# Created by lambda-fix automatically.\n*\n",
    "CACHEDIR.TAG": b"Signature: 8a477f597d28d172789f06886806bc55\n"
                    b"# This file is a cache directory tag created by lambda-fix.\n"
                    b"# For information about cache directory tags see https://bford.info/cachedir/\n",
}


def _prepare(directory: Path) -> None:
    """Create the cache directory, marked so that git and backup tools leave it alone. A marker that is
    missing, or that a full disk left short of lambda-fix's own text, is written again; any other
    file of that name is someone else's, and is left as it is."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in _MARKERS.items():
        marker = directory / name
        if os.path.islink(marker):
            continue
        try:
            current = read_regular(marker, len(content) + 1)
        except FileNotFoundError:
            current = b""
        except OSError:
            continue
        if current != content and content.startswith(current):
            _replace(marker, content)


# ---- results as JSON ------------------------------------------------------------------------------


def _result_to_plain(result: FileResult) -> dict[str, Any]:
    """Without source text: neither the new source nor any fix's edits (the old source is the file)."""
    plain: dict[str, Any] = {"status": result.status.value}  # and only what is there: most files have nothing
    if result.findings:
        plain["findings"] = [_finding_to_plain(f) for f in result.findings]
    if result.error is not None:
        plain["error"] = result.error
    if result.unfollowed:
        plain["unfollowed"] = [list(u) for u in result.unfollowed]
    return plain


def _finding_to_plain(finding: Finding) -> list[Any]:
    fix = finding.fix
    plain_fix = None if fix is None else [fix.title, fix.applicability.value]
    return [finding.line, finding.column, finding.code, finding.message, plain_fix, finding.applied,
            finding.end_line, finding.end_column, [list(r) for r in finding.related]]


def _result_from_plain(plain: dict[str, Any], path: str) -> FileResult:
    return FileResult(path=path, status=Status(plain["status"]), findings=tuple(
        _finding_from_plain(f, path) for f in plain.get("findings", ())), error=plain.get("error"),
        unfollowed=tuple((str(p), int(line), str(what)) for p, line, what in plain.get("unfollowed", ())))


def _finding_from_plain(plain: list[Any], path: str) -> Finding:
    line, column, code, message, plain_fix, applied, end_line, end_column, related = plain
    fix = None
    if plain_fix is not None:
        title, applicability = plain_fix
        fix = Fix(str(title), Applicability(applicability))
    return Finding(path=path, line=line, column=column, code=code, message=message, fix=fix, applied=applied,
                   end_line=end_line, end_column=end_column, related=tuple(tuple(r) for r in related))
