"""What a worker does with one file: read, decode, pre-filter, analyse, rewrite and check the rewrite.

Nothing here writes a file; the engine writes, in the main process. Imported only when some file
must be processed, so a run answered from the cache never loads the analysis or libcst.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Iterable

from . import cache as result_cache
from . import codemods
from .rules import Diagnosis, find_all
from .analysis import module as module_facts
from .analysis.handlers import extra_names, may_contain_handler
from .analysis.project import Project, package_markers, package_of
from .config import Config
from .formats import diff as diff_format
from .model import Applicability, Edit, FileResult, Finding, Fix, Outcome, Status, Wanted
from .source import STDIN, SourceError, decode

_worker_files: tuple[str, ...] = ()
_worker_config: Config = Config()
_worker_wanted = Wanted()
_worker_records = False  # remember what each result depends on, for the cache
_worker_projects: dict[Path, Project] = {}
_worker_boundaries: dict[str, Path] = {}  # by directory: every file in it shares the answer
_worker_cwd = Path.cwd()  # resolved at init: imports resolve no higher
# Every file this worker read for the analysis: its digest, and its stat when trusted.
_worker_reads: dict[str, tuple[str | None, result_cache.Stat | None]] = {}


def init(files: tuple[str, ...], config: Config, wanted: Wanted = Wanted(), in_pool: bool = False,
         records: bool = False) -> None:
    """Set up a worker (or the main process, for a small run) for a run over files."""
    global _worker_files, _worker_config, _worker_wanted, _worker_records, _worker_cwd
    _worker_files, _worker_config, _worker_wanted, _worker_records = files, config, wanted, records
    _worker_cwd = Path.cwd().resolve()
    if in_pool:
        # Only the main process reacts to Ctrl-C and SIGTERM; it stops the pool and writes nothing more.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _worker_projects.clear()
    _worker_boundaries.clear()
    _worker_reads.clear()


def _worker_project(boundary: Path) -> Project:
    """One project per worker and boundary: a helper imported by many handlers is parsed once."""
    if boundary not in _worker_projects:
        _worker_projects[boundary] = Project(_read_text, boundary=boundary, files=_worker_files)
    return _worker_projects[boundary]


def check_text(source: str, config: Config, path: str = STDIN, details: bool = False) -> FileResult:
    """One module given as text, with its fixed source; never raises."""
    try:
        return _process_text(path, source, config, Project(_read_text, files=()), Wanted(details, details))
    except Exception:  # noqa: BLE001 - a bug must not take the caller down
        return FileResult(path, Status.FAILED, error=_internal_error())


def process_file(path: str) -> Outcome:
    """Top-level and picklable; never raises."""
    config = _worker_config
    stat, read_at = result_cache.stat_of(path), time.time_ns()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Outcome(FileResult(path, Status.FAILED, error=f"cannot read: {exc.strerror or exc}"))
    digest = result_cache.digest_bytes(data)
    alone = result_cache.Record(result_cache.trusted(stat, read_at)) if _worker_records else None
    try:
        decoded = decode(data)
    except SourceError as exc:
        return Outcome(FileResult(path, Status.FAILED, error=str(exc)), None, digest, alone)
    if not may_contain_handler(decoded.text, extra_names(config.handlers)):
        return Outcome(FileResult(path, Status.SKIPPED), decoded.encoding, digest, alone)
    refusal = _refusal(data, decoded.text)
    if refusal:
        return Outcome(FileResult(path, Status.FAILED, error=refusal), decoded.encoding, digest, alone)
    project = _worker_project(_boundary(path))
    project.record()
    try:
        result = _process_text(path, decoded.text, config, project, _worker_wanted)
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


def _dependency(path: str) -> result_cache.Dependency:
    if path not in _worker_reads:
        _read_text(path)  # looked for but never read: an `__init__.py`, or a module that is not there
    digest, stat = _worker_reads.get(path, (None, None))
    return result_cache.Dependency(path, digest, stat)


# A module this large is data, not a handler; parsing it would cost more than any run should.
MAX_BYTES = 4 * 1024 * 1024
_GENERATED = re.compile(r"@generated\b")


def _refusal(data: bytes, text: str) -> str | None:
    """Why a file that may hold a handler is not processed: too large, or generated (fix the generator)."""
    if len(data) > MAX_BYTES:
        return f"too large to process ({len(data) // 1024} KiB; the limit is {MAX_BYTES // 1024} KiB)"
    head = "\n".join(text.splitlines()[:10])
    if _GENERATED.search(head):
        return "generated file (@generated): change the generator instead; the file was left unchanged"
    return None


def _boundary(path: str) -> Path:
    """Imports resolve no higher than the working directory (or the file's code root above it).

    Where the file really is decides, so links are followed; that asks the file system about every
    directory up the path, so it is asked once per directory (and again for a file that is a link)."""
    if os.path.islink(path):
        return _boundary_of(Path(path).resolve().parent)
    directory = os.path.dirname(path)  # as given: `..` after a link is the link target's parent
    found = _worker_boundaries.get(directory)
    if found is None:
        found = _worker_boundaries[directory] = _boundary_of(Path(directory).resolve())
    return found


def _boundary_of(directory: Path) -> Path:
    return _worker_cwd if directory.is_relative_to(_worker_cwd) else package_of(directory)[0]


def _read_text(path: str) -> str | None:
    """A module the analysis follows, or a file it searches; remembered with its digest for the cache."""
    stat, read_at = result_cache.stat_of(path), time.time_ns()
    if stat is None:  # not a regular file: a directory named like a module is not one
        _worker_reads[path] = (None, None)
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        _worker_reads[path] = (None, None)
        return None
    _worker_reads[path] = (result_cache.digest_bytes(data), result_cache.trusted(stat, read_at))
    try:
        return decode(data).text
    except SourceError:
        return None


def _for_ast(text: str, path: str) -> tuple[ast.Module, str]:
    """The tree the analysis reads and the text it is of: the source itself or, for syntax newer than
    this interpreter's, its stand-in with the same lines and columns (newer_syntax.py)."""
    try:
        return ast.parse(text, filename=path), text
    except SyntaxError:
        from . import newer_syntax  # imports libcst: only for such files

        readable = newer_syntax.stand_in(text)
        if readable is None:
            raise
        return ast.parse(readable, filename=path), readable


def _process_text(path: str, text: str, config: Config, project: Project, wanted: Wanted) -> FileResult:
    """Without wanted.new_source, a file with a fix is CHANGED without its new source, which is neither
    built nor verified (the costly part of a run)."""
    try:
        tree, readable = _for_ast(text, path)
    except SyntaxError as exc:
        return FileResult(path, Status.FAILED, error=_syntax_error(text, exc))
    except (ValueError, RecursionError, MemoryError) as exc:
        return FileResult(path, Status.FAILED, error=f"cannot parse: {type(exc).__name__}")
    diagnoses = _analyze(path, readable, tree, config, project)
    fixable = [d for d in diagnoses if _applies(d, config)]
    if fixable and not wanted.new_source:
        return FileResult(path, Status.CHANGED, old_source=text,
                          findings=_findings(path, text, readable, tree, diagnoses, fixable, wanted))
    new_text = _rewrite(text, fixable) if fixable else text
    if new_text != text:
        problem = _verify(path, new_text, config, project)
        original_error = _compile_error(text, path) if problem else None
        if original_error:
            # ast accepts some programs the compiler rejects (e.g. a name used before `global`).
            return FileResult(path, Status.FAILED, error=f"syntax error: {original_error}")
        if problem:
            culprit = _culprit(path, text, fixable)
            return FileResult(path, Status.FAILED, findings=_findings(path, text, readable, tree, diagnoses, ()),
                              error=f"internal error in {culprit}: {problem}; the file was left unchanged")
    findings = _findings(path, text, readable, tree, diagnoses, fixable if new_text != text else (), wanted)
    if new_text == text:
        return FileResult(path, Status.UNCHANGED, findings=findings)
    return FileResult(path, Status.CHANGED, findings=findings, old_source=text, new_source=new_text)


def _analyze(path: str, text: str, tree: ast.Module, config: Config, project: Project) -> list[Diagnosis]:
    name = project.module_name(path) if path != STDIN else ""
    module = module_facts.build(path, name, text, tree)
    project.add(module)  # the text given wins over what is on disk
    return find_all(project, module, config.handlers, config.allow_state, config.enabled)


def _applies(diagnosis: Diagnosis, config: Config) -> bool:
    if diagnosis.plan is None or diagnosis.applicability is None:
        return False
    return diagnosis.applicability is Applicability.SAFE or config.unsafe_fixes


def _rewrite(text: str, fixable: list[Diagnosis]) -> str:
    plans: dict[str, list[object]] = {}
    for d in fixable:
        plans.setdefault(d.code, []).append(d.plan)
    return codemods.apply(_parsed(text), plans).code


@functools.lru_cache(maxsize=1)
def _parsed(text: str) -> Any:
    """libcst's tree of text. Trees are immutable, so the full rewrite, each fix alone (for the
    machine-readable formats) and the search for a rule at fault all start from one parse."""
    return _libcst().parse_module(text)


def _libcst() -> Any:
    """libcst, imported when a file is rewritten: the import alone costs more than a cached run."""
    import libcst

    return libcst


def _verify(path: str, new_text: str, config: Config, project: Project) -> str | None:
    """The rewrite parses and compiles, and is a fixed point (a second run would change nothing)."""
    try:
        tree, readable = _for_ast(new_text, path)
        compile(readable, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"the rewrite does not compile ({exc})"
    # The worker's project: only this module changed, and the modules it imports are parsed already.
    again = _analyze(path, readable, tree, config, project)
    if any(_applies(d, config) for d in again):
        return "a second pass would change the rewrite again"
    return None


def _culprit(path: str, text: str, fixable: list[Diagnosis]) -> str:
    """Which rule's rewrite, applied alone, breaks the file (for the report); all of them if none alone."""
    for code in sorted({d.code for d in fixable}):
        alone = _rewrite(text, [d for d in fixable if d.code == code])
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


def _compile_error(text: str, path: str) -> str | None:
    try:
        compile(_for_ast(text, path)[1], path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"line {getattr(exc, 'lineno', '?')}: {getattr(exc, 'msg', exc)}"
    return None


def _findings(path: str, text: str, readable: str, tree: ast.Module, diagnoses: list[Diagnosis],
              applied: Iterable[Diagnosis], wanted: Wanted = Wanted()) -> tuple[Finding, ...]:
    """readable: the text tree is of (ast columns are its UTF-8 offsets; it has text's characters)."""
    applied_ids = {id(d) for d in applied}
    lines = readable.splitlines()
    ends = _end_positions(tree) if wanted.ends else {}
    findings = []
    for d in diagnoses:
        fix = None
        if d.fix_title and d.applicability:
            fix = Fix(d.fix_title, d.applicability)
            if wanted.fix_edits and d.plan is not None:
                alone = _rewrite(text, [d])
                fix = Fix(d.fix_title, d.applicability, _edits(text, alone), diff_format.unified_diff(path, text, alone))
        column = _character_column(lines, d.line, d.column) + 1
        end_line, end_byte = ends.get((d.line, d.column), (d.line, d.column))
        end_column = _character_column(lines, end_line, end_byte) + 1 if wanted.ends else 0
        findings.append(Finding(path=path, line=d.line, column=column, code=d.code, message=d.message, fix=fix,
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
    for node in ast.walk(tree):
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


def _internal_error() -> str:
    last = traceback.format_exc().strip().splitlines()[-1]
    return f"internal error, please report it: {last}"
