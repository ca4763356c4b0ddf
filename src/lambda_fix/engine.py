"""A run: the one place that writes files, and the process pool.

Discover files -> take from the cache every result that still holds (cache.py) -> process the rest
in workers (worker.py: read, decode, pre-filter; most files stop there, never parsed; analyse
candidates with `ast`; rewrite with libcst only those with a fix; check each rewrite) -> in the
main process, remember the new results, then write atomically the files that changed (unless they
changed on disk meanwhile).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from . import cache as result_cache
from . import declared_python, target, templates
from .config import Config, Settings
from .discovery import Discovery, discover, exclusion, project_root
from .files import ReplaceRefused, read_regular, remove_leftovers, replace_file
from .model import FileResult, Outcome, RunSummary, Status, Wanted
from .source import STDIN, Decoded, SourceError, decode, encode

if TYPE_CHECKING:  # the analysis is imported when a file is analysed, not for a run the cache answers
    from .analysis.project import Project

# Below this many files a process pool costs more than it saves.
_POOL_THRESHOLD = 32


class Mode(enum.Enum):
    WRITE = "write"  # rewrite files in place
    DIFF = "diff"  # compute the new sources, write nothing
    CHECK = "check"  # write nothing; new sources are built only when each fix's own edits are wanted


def run(paths: Iterable[str], config: Config | Settings, mode: Mode,
        progress: Callable[[int, int], None] | None = None, details: bool = False,
        fix_edits: bool = True) -> RunSummary:
    """Process every Python file under paths. Never raises for a problem with a file.

    config: one Config for every file, or Settings, which gives each file the settings of its own
    project (the nearest pyproject.toml with a [tool.lambda-fix] table); a bad settings file raises
    ConfigError before any file is read.
    details: also compute each finding's end position and, with fix_edits, each fix on its own
    (edits and a diff), which the machine-readable formats need (`github` needs only the ends).
    """
    paths = list(paths)
    found = discover(paths, () if isinstance(config, Settings) else config.exclude)
    # Files named on the command line are analysed with their project around them (_Around).
    around = _around(found, () if isinstance(config, Settings) else config.exclude)
    if isinstance(config, Settings):
        groups = _by_settings(around.checked, config, paths)
    else:
        groups = [(config, around.checked)]
    # Handlers and runtimes that deployment templates name, above and below the paths given.
    named = templates.find([*paths, *around.roots, *around.templates], around.files)
    failures = [FileResult(path, Status.FAILED, error=reason) for path, reason in found.errors]
    # Each fix's own edits come from rewriting too: a check without them builds no new source.
    wanted = Wanted(ends=details, fix_edits=details and fix_edits,
                    new_source=mode is not Mode.CHECK or (details and fix_edits))
    outcomes: list[Outcome] = []
    warnings = named.warnings
    targets: list[tuple[str, tuple[int, int], str]] = []
    for group_config, files in groups:
        if named.entries:
            group_config = dataclasses.replace(group_config, handlers=group_config.handlers + named.entries)
        # Which Python each directory's fixes are written for (target.py).
        group_config = dataclasses.replace(group_config, targets=declared_python.targets_for(
            files, group_config.target_version, named.runtimes))
        targets += group_config.targets
        done, problems = _run_group(files, around, found.named, group_config, wanted, progress)
        outcomes.extend(done)
        warnings += tuple(problems)
    written: dict[str, bytes] = {}  # real path -> what was written there (a link and its target: once)
    if mode is Mode.WRITE:
        for directory, name in found.leftovers:  # what a run killed while writing left behind
            remove_leftovers(directory, [name])
    if around.importers:
        outcomes, notes = _caused_by_the_run(outcomes, around, found.files)
        warnings += tuple(notes)
    results = [_write(o, written) if mode is Mode.WRITE else o.result for o in outcomes]
    return RunSummary(tuple(sorted([*failures, *results], key=lambda r: r.path)), warnings,
                      targets=tuple(sorted(set(targets))))


@dataclasses.dataclass(frozen=True)
class _Around:
    """What a run reads and what it reports on.

    A file named on the command line (pre-commit names the staged files) is analysed with its project
    around it (discovery.project_root): the project's files are read, so a helper named is followed
    from the handlers that call it, and those that import it, directly or through others, are checked
    too, for what the named files cause there (_caused_by_the_run). A project whose files import no
    named file costs a walk and a read of each file, not an analysis."""

    files: tuple[str, ...]  # what the analysis reads: the run's files and the named files' projects
    checked: tuple[str, ...]  # what the run analyses and reports on: its own files and the importers
    importers: tuple[str, ...] = ()  # files not of the run that import a named file, or such a file
    roots: tuple[str, ...] = ()  # the named files' projects
    templates: tuple[str, ...] = ()  # deployment templates the walks passed (Discovery.templates)

    @property
    def only(self) -> tuple[str, ...] | None:
        """checked, when the run reads files it does not report on; else None."""
        return self.checked if self.files != self.checked else None


def _around(found: Discovery, exclude: Iterable[str]) -> _Around:
    """The projects of the files named (none for a file of no project), their files, and which of
    those import a named file."""
    if not found.named:
        return _Around(found.files, found.files, templates=found.templates)
    from .analysis.importers import importers_of
    from .analysis.project import Project

    cwd = os.getcwd()
    roots = tuple(dict.fromkeys(_spelled(root, cwd) for root in map(project_root, found.named) if root))
    if not roots:
        return _Around(found.files, found.files, templates=found.templates)
    projects = discover(roots, exclude)
    templates_passed = tuple(sorted({*found.templates, *projects.templates}))
    own = {os.path.realpath(path) for path in found.files}
    others = [path for path in projects.files if os.path.realpath(path) not in own]
    if not others:
        return _Around(found.files, found.files, roots=roots, templates=templates_passed)
    files = tuple(sorted({*found.files, *others}))
    inside = all(not os.path.isabs(root) for root in roots)
    project = Project(read_source, boundary=Path(cwd) if inside else None, files=files)
    importers = tuple(path for path in importers_of(project, files, found.named) if path not in found.files)
    return _Around(files, tuple(sorted({*found.files, *importers})), importers, roots, templates_passed)


def _spelled(directory: str, cwd: str) -> str:
    """directory relative to the working directory when inside it, so the files found under it are
    spelled as those named are."""
    relative = os.path.relpath(directory, cwd)
    return directory if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def _caused_by_the_run(outcomes: list[Outcome], around: _Around,
                       run_files: tuple[str, ...]) -> tuple[list[Outcome], list[str]]:
    """The results of the importers of named files, cut to what the run's files cause there: the
    findings whose place or chain of calls (Finding.related) is in one of them. An importer is not
    of the run: its other findings are not reported, an error in it is a note, and it is never
    rewritten (its findings are reported, and a run that names it fixes them)."""
    importers = frozenset(around.importers)
    ours = {os.path.realpath(path) for path in run_files}
    kept: list[Outcome] = []
    notes: list[str] = []
    for outcome in outcomes:
        result = outcome.result
        if result.path not in importers:
            kept.append(outcome)
            continue
        if result.status is Status.FAILED:
            notes.append(f"{result.path}: note: imports a file named, but could not be analysed ({result.error}); "
                         "what the named files cause there is not known")
            continue
        caused = tuple(replace(f, applied=False) for f in result.findings
                       if any(os.path.realpath(p) in ours for p, _, _ in f.related))
        if caused:
            kept.append(Outcome(FileResult(result.path, Status.UNCHANGED, findings=caused)))
            fix = f" (`lambda-fix {result.path}` fixes it)" if any(f.fix is not None for f in caused) else ""
            notes.append(f"{result.path}: note: reported for what the files named cause there (it imports one); "
                         f"not named itself, so not rewritten{fix}")
    return kept, notes


def _run_group(files: tuple[str, ...], around: _Around, named: tuple[str, ...], config: Config,
               wanted: Wanted, progress: Callable[[int, int], None] | None) -> tuple[list[Outcome], list[str]]:
    """The files that share one configuration: from the cache where it still holds, else analysed.
    named: the files named on the command line, which are parsed even when a walk would skip them."""
    run_files = around.files
    cache = _open_cache(config, wanted) if config.cache else None
    warnings: list[str] = []
    if isinstance(cache, str):
        warnings.append(cache)
        cache = None
    # An importer of a named file is only reported on, never rewritten: its new source is not built.
    importers = frozenset(around.importers)
    reported = dataclasses.replace(wanted, fix_edits=False, new_source=False)
    reused = {}
    if cache is not None:
        cache.checked = around.only
        answers = _answers(run_files, around.only)
        for path in files:
            hit = cache.lookup(path, run_files, answers, reported if path in importers else wanted)
            if hit is not None and not (hit[0].status is Status.SKIPPED and path in named):
                reused[path] = Outcome(*hit)
    todo = tuple(path for path in files if path not in reused)
    outcomes = list(reused.values())
    parts = ((tuple(p for p in todo if p not in importers), wanted),
             (tuple(p for p in todo if p in importers), reported))
    for part, part_wanted in parts:
        for outcome in _map(part, run_files, named, config, progress, part_wanted, cache is not None, warnings,
                            around.only):
            outcomes.append(outcome)
            if cache is not None:
                cache.store(outcome.result, outcome.encoding, outcome.digest, outcome.record)
    if cache is not None:
        problem = cache.save(run_files)
        warnings += [problem] if problem else []
    return outcomes, warnings


def _answers(run_files: tuple[str, ...], checked: tuple[str, ...] | None = None) -> Callable[[tuple[Any, ...]], bool]:
    """Whether a question a cached result's analysis asked about the other files of the run still
    gets the same answer: asked of a project over the run's files, built on the first question (a
    run where no file changed asks none, and never loads the analysis)."""
    project: list[Any] = []

    def answers(question: tuple[Any, ...]) -> bool:
        if not project:
            from .analysis.project import Project

            project.append(Project(read_source, files=run_files, checked=checked))
        return bool(project[0].answers(question))

    return answers


def read_source(path: str) -> str | None:
    """The decoded text of the file at path; None when it cannot be read or decoded."""
    try:
        return decode(read_regular(path)).text
    except (OSError, SourceError):
        return None


def _by_settings(files: tuple[str, ...], settings: Settings,
                 paths: list[str]) -> list[tuple[Config, tuple[str, ...]]]:
    """Files grouped by the settings each gets, in order, without those its settings exclude (a file
    named on the command line is never excluded). Patterns are relative to their settings file."""
    named = {str(Path(p)) for p in paths}
    groups: dict[int, tuple[Config, list[str]]] = {}
    specs: dict[int, Any] = {}
    for path in files:
        config = settings.for_path(path)
        key = id(config)  # one Config object per settings file
        if config.exclude and path not in named:
            if key not in specs:
                specs[key] = exclusion(config.exclude)
            base = os.path.dirname(os.path.abspath(config.source)) if config.source else os.getcwd()
            relative = os.path.relpath(os.path.abspath(path), base)
            outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
            if not outside and specs[key].match_file(relative.replace(os.sep, "/")):
                continue
        groups.setdefault(key, (config, []))[1].append(path)
    return [(config, tuple(group)) for config, group in groups.values()]


def _open_cache(config: Config, wanted: Wanted) -> result_cache.Cache | str:
    """The cache for these settings: in cache_dir, else beside the settings file, else here; or a
    warning when a place the repository chose leads out of it (a committed link, say)."""
    project = Path(config.source).parent if config.source else Path.cwd()
    if config.cache_dir:
        directory = Path(config.cache_dir)
    else:
        directory = project / result_cache.DIRECTORY_NAME
    if not config.cache_dir or config.cache_dir_from_settings:
        inside = Path(os.path.realpath(directory)).is_relative_to(os.path.realpath(project))
        if not inside:
            return (f"warning: the cache directory {directory} leads outside {project} (a symbolic link?); "
                    "the cache was not used (--cache-dir can put it elsewhere)")
    # Everything that changes a result; not jobs, and not exclude (the run's file list covers it).
    # Not wanted.new_source: results without it are told apart in the cache itself.
    # Of the target, only whether it is Python 2 (nothing fixed) shows in a result the cache keeps.
    python2 = tuple(directory for directory, version, _ in config.targets if target.python2(version))
    settings = (config.select, config.ignore, config.handlers, config.allow_state, config.unsafe_fixes,
                config.max_file_size, wanted.ends, wanted.fix_edits, python2)
    return result_cache.Cache.open(directory, settings)


def limit_to_pull_request(summary: RunSummary, pull_request: Any) -> RunSummary:
    """What the pull request touches: the findings on lines it changed, the errors of files it changed,
    and a file counts as changed only for a fix of such a finding; remember its hunks.

    So the exit status and a review cover the pull request alone: an old finding elsewhere in the
    repository (or a file nobody touched that does not parse) does not fail every pull request."""
    results = []
    for result in summary.results:
        # A path that does not exist is an error whatever the pull request changed (a typo in PATHS
        # must not read as "nothing to fix").
        if (result.status is Status.FAILED and not pull_request.changed_file(result.path)
                and os.path.lexists(result.path)):
            continue
        kept = tuple(f for f in result.findings
                     if pull_request.touches(f.path, f.line, max(f.line, f.end_line or f.line))
                     or any(pull_request.touches(p, line, line) for p, line, _ in f.related))
        outside = tuple(f for f in result.findings if f not in kept)
        status = result.status
        if status is Status.CHANGED and not any(f.applied for f in kept):
            status = Status.UNCHANGED
        results.append(dataclasses.replace(result, findings=kept, outside=outside, status=status))
    return dataclasses.replace(summary, results=tuple(results), pull_request=pull_request)


def unmatched_handlers(entries: Iterable[str], paths: Iterable[str]) -> list[str]:
    """The `--handler` entries (`name`, `module:name`) that no file of the run defines a function or a
    binding of: most likely a typo, which would otherwise leave the handler unanalysed in silence."""
    entries = list(dict.fromkeys(entries))
    if not entries:
        return []
    texts = {path: read_source(path) or "" for path in paths}
    missing = []
    for entry in entries:
        module, _, name = entry.rpartition(":")
        # `pkg.app`, `src/app.py` or an absolute path: the end of the file's path.
        suffix = module if not module or module.endswith(".py") else module.replace(".", "/") + ".py"
        pattern = re.compile(rf"^(?:[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b|{re.escape(name)}[ \t]*=)",
                             re.MULTILINE)
        candidates = [text for path, text in texts.items()
                      if not suffix or os.path.abspath(path) == os.path.abspath(suffix)
                      or path.replace(os.sep, "/").endswith(suffix.lstrip("/"))]
        if not any(pattern.search(text) for text in candidates):
            missing.append(entry)
    return missing


def check_source(source: str, config: Config = Config(), path: str = STDIN, details: bool = False) -> FileResult:
    """Analyse and fix one module given as text (stdin, editors, the Python API); writes nothing."""
    from . import worker

    return worker.check_text(source, config, path, details)


def check_buffer(path: str, source: str, settings: Settings, project: Project, fixes: bool = True,
                 roots: tuple[str, ...] = ()) -> FileResult:
    """One module as an editor holds it (not saved, maybe), checked as a run over its project would
    check it: the settings of its nearest pyproject.toml, the handlers and runtimes the deployment
    templates above it and in its project name, and the other modules read through project (the one an
    editor's session keeps between checks: session.py, which reads open buffers before the disk).
    With each finding's end, and with fixes, each fix's edits and the fixed source (the costly part);
    writes nothing. roots: the project's top directories and the templates under them, read as a run
    over the file reads them (a template in a sibling directory names the handler). A file marked
    @generated, or larger than the max-file-size setting, is skipped or refused as a run does."""
    from . import worker

    config = settings.for_path(path)
    if worker.generated(source):
        return FileResult(path, Status.SKIPPED, error=worker.GENERATED_NOTE)
    refusal = worker.refused(source.encode("utf-8", "surrogatepass"), config.max_file_size)
    if refusal:
        return FileResult(path, Status.FAILED, error=refusal)
    named = templates.find([path, *roots], project.files)
    if named.entries:
        config = dataclasses.replace(config, handlers=config.handlers + named.entries)
    config = dataclasses.replace(config, targets=declared_python.targets_for((path,), config.target_version,
                                                                              named.runtimes))
    wanted = Wanted(ends=True, fix_edits=fixes, new_source=fixes)
    return worker.check_text(source, config, path, wanted=wanted, project=project)


# ---- the pool ---------------------------------------------------------------------------------

def _map(files: tuple[str, ...], run_files: tuple[str, ...], named: tuple[str, ...], config: Config,
         progress: Callable[[int, int], None] | None, wanted: Wanted, records: bool,
         warnings: list[str], checked: tuple[str, ...] | None = None) -> Iterator[Outcome]:
    """Process files (some of run_files: the rest came from the cache), in a pool when there are many.
    checked: the files of run_files the run reports on, when not all (_Around.only).

    A worker that dies takes no other file with it: the files it may have held are processed again
    each in a process of its own, so the one that kills its process is that file's error, and the
    pool goes on with the rest. When the pool cannot start at all, this process does the work."""
    if not files:
        return
    # Imported here: a run answered from the cache needs neither the analysis nor a pool.
    from concurrent.futures.process import BrokenProcessPool

    from . import worker

    # More processes than cores or than files never makes a run faster (a settings file asking for 48
    # on two cores would only cost memory).
    cores = os.cpu_count() or 1
    jobs = min(config.jobs or cores, cores, len(files))
    done = 0

    def count(outcome: Outcome) -> Outcome:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(files))
        return outcome

    pending = files
    setup = (run_files, config, wanted, records, named, checked)
    while jobs > 1 and len(pending) >= _POOL_THRESHOLD:
        chunk = max(1, min(64, len(pending) // (jobs * 8)))
        finished = 0
        try:
            for outcome in _pooled(pending, setup, jobs, chunk):
                finished += 1
                yield count(outcome)
            return
        except BrokenProcessPool as exc:  # a worker died: a signal, the out-of-memory killer, a native crash
            # Results come in order: the file that killed a worker is among those handed out after
            # the last result, at most a chunk for each worker and each call queued ahead.
            suspects = pending[finished:finished + (2 * jobs + 1) * chunk]
            warnings.append(f"a worker process died ({exc or 'killed'}); the {len(suspects)} file(s) it may "
                            "have held were processed each in a process of its own")
            worker.preload()  # each process of its own starts from this one, with what it needs loaded
            for path in suspects:
                yield count(_isolated(path, setup))
            pending = pending[finished + len(suspects):]
        except (OSError, RuntimeError, ImportError) as exc:
            warnings.append(f"the process pool failed ({type(exc).__name__}: {exc or 'a worker died'}); "
                            f"the other {len(pending) - finished} file(s) were processed in one process")
            pending = pending[finished:]
            break
    worker.init(run_files, config, wanted, records=records, named=named, checked=checked)
    for path in pending:
        yield count(worker.process_file(path))


def _pooled(files: tuple[str, ...], setup: tuple[Any, ...], jobs: int, chunk: int) -> Iterator[Outcome]:
    from concurrent.futures import ProcessPoolExecutor

    from . import worker

    run_files, config, wanted, records, named, checked = setup
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker.init,
                               initargs=(run_files, config, wanted, True, records, named, os.getpid(), checked))
    try:
        yield from pool.map(worker.process_file, files, chunksize=chunk)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an interrupt, start nothing new


def _isolated(path: str, setup: tuple[Any, ...]) -> Outcome:
    """One file in a process of its own: its result, or its error when the process dies."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from . import worker

    run_files, config, wanted, records, named, checked = setup
    with ProcessPoolExecutor(max_workers=1, initializer=worker.init,
                             initargs=(run_files, config, wanted, True, records, named, os.getpid(), checked)) as pool:
        try:
            return pool.submit(worker.process_file, path).result()
        except BrokenProcessPool:
            return Outcome(FileResult(path, Status.FAILED, error=(
                "lambda-fix's worker process died on this file (a crash in a native parser, or out of "
                "memory); the file was left unchanged")))


# ---- writing -----------------------------------------------------------------------------------


def _write(outcome: Outcome, written: dict[str, bytes] | None = None) -> FileResult:
    """Write a changed file. A symbolic link is written through: its target gets the new text, and the
    link stays a link. A file with other hard links is not written: a rename would give this name new
    text and leave the old one under the others."""
    result = outcome.result
    if result.status is not Status.CHANGED or result.new_source is None or outcome.encoding is None:
        return result
    written = {} if written is None else written
    path = Path(os.path.realpath(result.path))
    try:
        data = encode(result.new_source, Decoded(result.new_source, outcome.encoding))
    except UnicodeEncodeError as exc:
        return replace(result, status=Status.FAILED, error=f"cannot write: {exc}")
    if written.get(str(path)) == data:
        return result  # the same file by another name (a link and its target), written already
    try:
        links = os.stat(path).st_nlink
    except OSError as exc:
        return replace(result, status=Status.FAILED, error=f"cannot read before writing: {exc.strerror or exc}")
    if links > 1:
        return replace(result, status=Status.FAILED, error=(
            f"the file has {links} hard links, which a rewrite would split (the other names would keep the "
            "old text); it was not written: apply the fix with --diff, or run on a copy without links"))
    try:
        replace_file(path, data, outcome.digest or "")
    except ReplaceRefused as exc:
        return replace(result, status=Status.FAILED, error=str(exc))
    except OSError as exc:
        return replace(result, status=Status.FAILED, error=f"cannot write: {exc.strerror or exc}")
    written[str(path)] = data
    return result
