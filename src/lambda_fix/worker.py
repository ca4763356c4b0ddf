"""What a worker does with one file: read, decode, pre-filter, analyse, rewrite and check the rewrite.

Nothing here writes a file; the engine writes, in the main process. Imported only when some file
must be processed, so a run answered from the cache never loads the analysis or libcst.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import os
import re
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import cache as result_cache
from . import codemods, files, lifetime, native_parse, target
from .python2 import python2_only, python2_syntax
from .analysis import module as module_facts
from .analysis.clients import may_name_a_factory
from .analysis.handlers import extra_names, may_contain_handler
from .analysis.project import Project, package_markers, package_of
from .config import Config
from .findings import build_findings
from .model import Applicability, Dependency, FileResult, Outcome, Record, Stat, Status, Wanted
from .rules import Diagnosis, find_all
from .source import STDIN, SourceError, decode


@dataclass
class _Run:
    """What a worker process (or the main process, for a small run) knows about the run it serves.
    One per process, replaced by init(); nothing else here is kept between files."""

    files: tuple[str, ...] = ()
    config: Config = field(default_factory=Config)
    wanted: Wanted = field(default_factory=Wanted)
    records: bool = False  # remember what each result depends on, for the cache
    cwd: Path = field(default_factory=Path.cwd)  # resolved at init: imports resolve no higher
    projects: dict[Path, Project] = field(default_factory=dict)  # by import boundary
    boundaries: dict[str, Path] = field(default_factory=dict)  # by directory: every file in it shares the answer
    # Every file this worker read for the analysis: its digest, and its stat when trusted.
    reads: dict[str, tuple[str | None, Stat | None]] = field(default_factory=dict)
    named: frozenset[str] = frozenset()  # named on the command line: parsed even without a handler
    checked: tuple[str, ...] | None = None  # the files of the run it reports on, when not all of them

    def project(self, boundary: Path) -> Project:
        """One project per boundary: a helper imported by many handlers is parsed once."""
        if boundary not in self.projects:
            self.projects[boundary] = Project(_read_text, boundary=boundary, files=self.files, checked=self.checked)
        return self.projects[boundary]


_run = _Run()


def init(files: tuple[str, ...], config: Config, wanted: Wanted = Wanted(), in_pool: bool = False,
         records: bool = False, named: tuple[str, ...] = (), parent: int | None = None,
         checked: tuple[str, ...] | None = None) -> None:
    """Set up a worker (or the main process, for a small run) for a run over files; named: those
    named on the command line, always parsed; parent: the pid of the process that started the pool;
    checked: the files the run reports on, when it reads more (a named file's project)."""
    global _run
    _run = _Run(files, config, wanted, records, Path.cwd().resolve(), named=frozenset(named), checked=checked)
    if in_pool:
        # Only the main process reacts to Ctrl-C and SIGTERM; it stops the pool and writes nothing more.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if parent is not None:
            lifetime.end_with(parent)


def check_text(source: str, config: Config, path: str = STDIN, details: bool = False,
               wanted: Wanted | None = None, project: Project | None = None) -> FileResult:
    """One module given as text, with its fixed source; never raises. wanted: what to compute besides
    the findings (by default: as details says). project: the project to read the other modules from
    (an editor's session keeps one between checks); by default a new one, reading the disk."""
    try:
        return _process_text(path, source, config, project or Project(_read_text, files=()),
                             wanted or Wanted(details, details))
    except Exception:  # noqa: BLE001 - a bug must not take the caller down
        return FileResult(path, Status.FAILED, error=_internal_error())


def process_file(path: str) -> Outcome:
    """Top-level and picklable; never raises."""
    config = _run.config
    stat, read_at = result_cache.stat_of(path), time.time_ns()
    try:
        data = files.read_regular(path)
    except (files.NotRegularFile, files.TooLarge) as exc:
        return Outcome(FileResult(path, Status.FAILED, error=exc.strerror))
    except OSError as exc:
        return Outcome(FileResult(path, Status.FAILED, error=f"cannot read: {exc.strerror or exc}"))
    digest = result_cache.digest_bytes(data)
    alone = Record(result_cache.trusted(stat, read_at)) if _run.records else None
    try:
        decoded = decode(data)
    except SourceError as exc:
        return Outcome(FileResult(path, Status.FAILED, error=str(exc)), None, digest, alone)
    # A module without a handler is read only as a helper that handlers of other modules call into
    # (LF004 builds its clients once there); what stops that is no error of the run.
    handler_like = may_contain_handler(decoded.text, extra_names(config.handlers))
    helper = path not in _run.named and not handler_like
    if not handler_like and path in _run.named:
        # Parsed (and its errors reported) because it is named; a walk would skip what stops it, so
        # its result is not cached for one.
        alone = None
    if helper and not may_name_a_factory(decoded.text):
        return Outcome(FileResult(path, Status.SKIPPED), decoded.encoding, digest, alone)
    if generated(decoded.text):
        # Fixed in its generator, not here; an error would fail every pre-commit run and every review.
        note = None if helper else GENERATED_NOTE
        return Outcome(FileResult(path, Status.SKIPPED, error=note), decoded.encoding, digest, alone)
    refusal = refused(data, config.max_file_size)
    if refusal:
        # A helper module is skipped, not an error, but said: it was not checked for the clients it builds.
        status, reason = ((Status.SKIPPED, f"{refusal}; it holds no handler: skipped") if helper
                          else (Status.FAILED, refusal))
        return Outcome(FileResult(path, status, error=reason), decoded.encoding, digest, alone)
    project = _run.project(_boundary(path))
    project.record()
    try:
        result = _process_text(path, decoded.text, config, project, _run.wanted)
        if helper and result.status is Status.FAILED and not result.findings:
            result = FileResult(path, Status.SKIPPED)  # a syntax error in a helper is not this run's to report
    except Exception:  # noqa: BLE001 - report, never crash the run
        result = FileResult(path, Status.FAILED, error=_internal_error())
    finally:
        project.forget(path)
    record = None
    if alone is not None:
        looked_at = project.looked_at().union(package_markers(Path(path))) - {project.resolved(path)}
        record = dataclasses.replace(alone, dependencies=tuple(_dependency(p) for p in sorted(looked_at)),
                                     questions=tuple(dict.fromkeys(project.questions)))
    return Outcome(result, decoded.encoding, digest, record)


def _dependency(path: str) -> Dependency:
    if path not in _run.reads:
        _read_text(path)  # looked for but never read: an `__init__.py`, or a module that is not there
    digest, stat = _run.reads.get(path, (None, None))
    return Dependency(path, digest, stat)


_GENERATED = re.compile(r"@generated\b")


GENERATED_NOTE = "generated file (@generated): skipped; fix the generator instead"


def refused(data: bytes, limit_kib: int) -> str | None:
    """Why a file that may hold a handler is not processed: larger than the `max-file-size` setting (a
    rewrite costs about 0.1 s and 1 MB of memory per KiB of source: see docs/performance.md)."""
    if len(data) > limit_kib * 1024:
        return (f"too large to process ({len(data) // 1024} KiB; the limit is {limit_kib} KiB, "
                "the max-file-size setting or --max-file-size)")
    return None


def generated(text: str) -> bool:
    """Marked `@generated` in its first ten lines (the convention of Phabricator, Buck and others)."""
    return _GENERATED.search("\n".join(text.splitlines()[:10])) is not None


def _boundary(path: str) -> Path:
    """Imports resolve no higher than the working directory (or the file's code root above it).

    Where the file really is decides, so links are followed; that asks the file system about every
    directory up the path, so it is asked once per directory (and again for a file that is a link)."""
    if os.path.islink(path):
        return _boundary_of(Path(path).resolve().parent)
    directory = os.path.dirname(path)  # as given: `..` after a link is the link target's parent
    found = _run.boundaries.get(directory)
    if found is None:
        found = _run.boundaries[directory] = _boundary_of(Path(directory).resolve())
    return found


def _boundary_of(directory: Path) -> Path:
    return _run.cwd if directory.is_relative_to(_run.cwd) else package_of(directory)[0]


def _read_text(path: str) -> str | None:
    """A module the analysis follows, or a file it searches; remembered with its digest for the cache."""
    stat, read_at = result_cache.stat_of(path), time.time_ns()
    if stat is None:  # not a regular file: a directory named like a module is not one
        _run.reads[path] = (None, None)
        return None
    try:
        data = files.read_regular(path)
    except OSError:
        _run.reads[path] = (None, None)
        return None
    _run.reads[path] = (result_cache.digest_bytes(data), result_cache.trusted(stat, read_at))
    try:
        return decode(data).text
    except SourceError:
        return None


class TooDeep(Exception):
    """The file nests deeper than Python's parser allows: no Python runs it, and it is never handed to
    libcst's native parser, which would crash."""


_PYTHON2_METHODS = re.compile(r"\.(?:iter|view)(?:items|keys|values)\(\s*\)")
_PYTHON2 = ("Python 2 code ({}): skipped; lambda-fix fixes Python 3 code, and Lambda runs this file only "
            "on the python2.7 runtime")
# CPython's messages for its nesting limits (200 brackets, 100 indents, 20 blocks, the parser's stack).
_NESTING_LIMITS = ("too many nested parentheses", "too many levels of indentation",
                   "too many statically nested blocks", "too complex", "parser stack overflow")


def _for_ast(text: str, path: str) -> tuple[ast.Module, str]:
    """The tree the analysis reads and the text it is of: the source itself or, for syntax newer than
    this interpreter's, its stand-in with the same lines and columns (newer_syntax.py).
    SyntaxError, or TooDeep for a file past Python's nesting limits."""
    try:
        return ast.parse(text, filename=path), text
    except SyntaxError as exc:
        if any(limit in str(exc.msg) for limit in _NESTING_LIMITS):
            raise TooDeep(f"line {exc.lineno} nests deeper than Python's parser allows ({exc.msg}); "
                          "no Python version runs it") from exc
        if not native_parse.survives(text):
            raise TooDeep("nests too deeply or is too complex for libcst's parser (it crashes on it, or takes "
                          f"more than {native_parse.TIME_LIMIT:.0f} s)") from exc
        from . import newer_syntax  # imports libcst: only for such files

        readable = newer_syntax.stand_in(text)
        if readable is None:
            raise
        return ast.parse(readable, filename=path), readable
    except (RecursionError, MemoryError) as exc:
        raise TooDeep("nests deeper than Python's parser allows (too complex to parse); "
                      "no Python version runs it") from exc


def _process_text(path: str, text: str, config: Config, project: Project, wanted: Wanted) -> FileResult:
    """_process, with the calls its analysis could not follow."""
    blind: list[tuple[str, int, str]] = []
    result = _process(path, text, config, project, wanted, blind)
    return dataclasses.replace(result, unfollowed=tuple(sorted(set(blind)))) if blind else result


def _process(path: str, text: str, config: Config, project: Project, wanted: Wanted,
             blind: list[tuple[str, int, str]]) -> FileResult:
    """Without wanted.new_source, a file with a fix is CHANGED without its new source, which is neither
    built nor verified (the costly part of a run)."""
    try:
        # A module a handler imported is parsed already, from this very text: its tree is reused.
        known = project.parsed(path, text) if path != STDIN else None
        tree, readable = (known.tree, text) if known is not None else _for_ast(text, path)
    except TooDeep as exc:
        return FileResult(path, Status.FAILED, error=str(exc))
    except SyntaxError as exc:
        python2 = python2_syntax(exc)
        if python2:
            return FileResult(path, Status.SKIPPED, error=_PYTHON2.format(python2))
        return FileResult(path, Status.FAILED, error=_syntax_error(text, exc))
    except ValueError as exc:
        return FileResult(path, Status.FAILED, error=f"cannot parse: {exc}")
    python2 = python2_only(tree) if readable == text and _PYTHON2_METHODS.search(text) else None
    if python2:
        return FileResult(path, Status.SKIPPED, error=_PYTHON2.format(python2))
    version, why = target_of(path, config)
    rewrite = functools.partial(_rewrite, version=version)
    try:
        diagnoses = _analyze(path, readable, tree, config, project, blind)
        if target.python2(version):
            diagnoses = [_not_for_python2(d, version, why) for d in diagnoses]
    except RecursionError:
        return FileResult(path, Status.FAILED, error="nested too deeply to analyse (Python's recursion limit); "
                                                     "the file was left unchanged")
    fixable = [d for d in diagnoses if _applies(d, config)]
    # The tree of the text itself, unless the analysis read a stand-in for syntax newer than this Python.
    if fixable and not native_parse.safe_in_process(text, tree if readable == text else None):
        return FileResult(path, Status.FAILED, error=(
            "nests too deeply or is too complex for libcst's parser, which rewrites files (it crashes on it, "
            f"or takes more than {native_parse.TIME_LIMIT:.0f} s): the file was left unchanged"))
    if fixable:
        # ast accepts some programs the compiler rejects (`async with` at module level, a name used
        # before its `global`): such a file is an error in every mode, not only when a rewrite is built.
        original_error = _compile_error(text, path, tree)
        if original_error:
            return FileResult(path, Status.FAILED, error=f"syntax error: {original_error}")
    if fixable and not wanted.new_source:
        return FileResult(path, Status.CHANGED, old_source=text,
                          findings=build_findings(path, text, readable, tree, diagnoses, fixable, wanted, rewrite))
    new_text = rewrite(text, fixable) if fixable else text
    if new_text != text:
        problem = _verify(path, new_text, config, project)
        if problem:
            culprit = _culprit(path, text, fixable, rewrite)
            found = build_findings(path, text, readable, tree, diagnoses, (), Wanted(), rewrite)
            return FileResult(path, Status.FAILED, findings=found,
                              error=f"internal error in {culprit}: {problem}; the file was left unchanged")
    findings = build_findings(path, text, readable, tree, diagnoses, fixable if new_text != text else (), wanted,
                              rewrite)
    if new_text == text:
        return FileResult(path, Status.UNCHANGED, findings=findings)
    return FileResult(path, Status.CHANGED, findings=findings, old_source=text, new_source=new_text)


def _analyze(path: str, text: str, tree: ast.Module, config: Config, project: Project,
             unfollowed: list[tuple[str, int, str]] | None = None) -> list[Diagnosis]:
    known = project.parsed(path, text) if path != STDIN else None
    if known is not None and known.tree is tree:
        module = known  # facts built when a handler imported it
    else:
        module = module_facts.build(path, project.module_name(path) if path != STDIN else "", text, tree)
        project.add(module)  # the text given wins over what is on disk
    return find_all(project, module, config.handlers, config.allow_state, config.enabled, unfollowed)


def _applies(diagnosis: Diagnosis, config: Config) -> bool:
    if diagnosis.plan is None or diagnosis.applicability is None:
        return False
    return diagnosis.applicability is Applicability.SAFE or config.unsafe_fixes


def _rewrite(text: str, fixable: list[Diagnosis], version: target.Version = target.DEFAULT) -> str:
    """text with the fixes, written for Python version."""
    plans: dict[str, list[object]] = {}
    for d in fixable:
        plans.setdefault(d.code, []).append(d.plan)
    return codemods.apply(_parsed(text), plans, version).code


def target_of(path: str, config: Config) -> tuple[target.Version, str]:
    """The Python the fixes of path are written for, and why (target.py)."""
    if config.target_version is not None:
        return config.target_version, "the target-version setting"
    found = _targets(config.targets).get(os.path.dirname(os.path.abspath(path)))
    return found if found is not None else (target.DEFAULT, target.DEFAULT_REASON)


@functools.lru_cache(maxsize=8)
def _targets(table: tuple[tuple[str, target.Version, str], ...]) -> dict[str, tuple[target.Version, str]]:
    return {directory: (version, why) for directory, version, why in table}


def _not_for_python2(diagnosis: Diagnosis, version: target.Version, why: str) -> Diagnosis:
    if diagnosis.plan is None:
        return diagnosis
    return dataclasses.replace(diagnosis, plan=None, fix_title=None, applicability=None, message=(
        f"{diagnosis.message}; not fixed: the function runs Python {target.spelled(version)} ({why}), and "
        "lambda-fix writes fixes for Python 3"))


@functools.lru_cache(maxsize=1)
def _parsed(text: str) -> Any:
    """libcst's tree of text. Trees are immutable, so the full rewrite, each fix alone (for the
    machine-readable formats) and the search for a rule at fault all start from one parse."""
    return _libcst().parse_module(text)


# A module with a fix: rewriting it once loads every module, and fills every table built on first use,
# that a rewrite needs (0.4 s, which each process forked afterwards would otherwise pay again).
_WARM_UP = "seen = []\n\n\ndef lambda_handler(event, context):\n    seen.append(event)\n    return len(seen)\n"


def preload() -> None:
    """Load what rewriting a file needs, so that the processes forked from this one start ready."""
    check_text(_WARM_UP, Config(), path="warm_up.py")


def _libcst() -> Any:
    """libcst, imported when a file is rewritten: the import alone costs more than a cached run."""
    import libcst

    return libcst


def _verify(path: str, new_text: str, config: Config, project: Project) -> str | None:
    """The rewrite parses and compiles, and is a fixed point (a second run would change nothing)."""
    try:
        tree, readable = _for_ast(new_text, path)
        compile(tree, path, "exec", dont_inherit=True)  # the tree: the text is parsed once
    except (SyntaxError, ValueError, TooDeep, RecursionError, MemoryError) as exc:
        return f"the rewrite does not compile ({exc})"
    # The worker's project: only this module changed, and the modules it imports are parsed already.
    again = _analyze(path, readable, tree, config, project)
    if any(_applies(d, config) for d in again):
        return "a second pass would change the rewrite again"
    return None


def _culprit(path: str, text: str, fixable: list[Diagnosis], rewrite: Callable[..., str]) -> str:
    """Which rule's rewrite, applied alone, breaks the file (for the report); all of them if none alone."""
    for code in sorted({d.code for d in fixable}):
        alone = rewrite(text, [d for d in fixable if d.code == code])
        if _compile_error(alone, path):
            return code
    return "+".join(sorted({d.code for d in fixable}))


def _syntax_error(text: str, exc: SyntaxError) -> str:
    """Name newer syntax as what it is: valid code this interpreter cannot analyse."""
    try:
        _libcst().parse_module(text)
    except Exception:  # noqa: BLE001 - libcst agrees the code is broken
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    version = ".".join(map(str, sys.version_info[:2]))
    return (f"line {exc.lineno} uses syntax newer than Python {version}, which runs lambda-fix; "
            "run lambda-fix with the Python version the function targets")


def _compile_error(text: str, path: str, tree: ast.Module | None = None) -> str | None:
    """What the compiler, past the parser, rejects in text (`return` outside a function, a name used
    before its `global`); tree: text's tree when it is at hand, so the text is not parsed again (the
    compiler reads the tree as it would read the text)."""
    try:
        compile(tree if tree is not None else _for_ast(text, path)[0], path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TooDeep, RecursionError, MemoryError) as exc:
        return f"line {getattr(exc, 'lineno', '?')}: {getattr(exc, 'msg', exc)}"
    return None


def _internal_error() -> str:
    last = traceback.format_exc().strip().splitlines()[-1]
    return f"internal error, please report it: {last}"
