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
import hashlib
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import cache as result_cache
from . import templates
from .config import Config
from .discovery import discover
from .model import FileResult, Outcome, RunSummary, Status, Wanted
from .source import STDIN, Decoded, encode
# Below this many files a process pool costs more than it saves.
_POOL_THRESHOLD = 32


class Mode(enum.Enum):
    WRITE = "write"  # rewrite files in place
    DIFF = "diff"  # compute the new sources, write nothing
    CHECK = "check"  # write nothing; new sources are built only when each fix's own edits are wanted


def run(paths: Iterable[str], config: Config, mode: Mode,
        progress: Callable[[int, int], None] | None = None, details: bool = False,
        fix_edits: bool = True) -> RunSummary:
    """Process every Python file under paths. Never raises for a problem with a file.

    details: also compute each finding's end position and, with fix_edits, each fix on its own
    (edits and a diff), which the machine-readable formats need (`github` needs only the ends).
    """
    paths = list(paths)
    found = discover(paths, config.exclude)
    named = templates.find(paths)  # handlers that deployment templates name
    if named.entries:
        config = dataclasses.replace(config, handlers=config.handlers + named.entries)
    failures = [FileResult(path, Status.FAILED, error=reason) for path, reason in found.errors]
    # Each fix's own edits come from rewriting too: a check without them builds no new source.
    wanted = Wanted(ends=details, fix_edits=details and fix_edits,
                    new_source=mode is not Mode.CHECK or (details and fix_edits))
    cache = _open_cache(config, wanted) if config.cache else None
    reused = {}
    if cache is not None:
        for path in found.files:
            hit = cache.lookup(path, found.files, need_new_source=wanted.new_source)
            if hit is not None:
                reused[path] = Outcome(*hit)
    todo = tuple(path for path in found.files if path not in reused)
    outcomes = list(reused.values())
    for outcome in _map(todo, found.files, config, progress, wanted, cache is not None):
        outcomes.append(outcome)
        if cache is not None:
            cache.store(outcome.result, outcome.encoding, outcome.digest, outcome.record)
    warnings = named.warnings
    if cache is not None:
        problem = cache.save(found.files)
        warnings += (problem,) if problem else ()
    results = [_write(o) if mode is Mode.WRITE else o.result for o in outcomes]
    return RunSummary(tuple(sorted([*failures, *results], key=lambda r: r.path)), warnings)


def _open_cache(config: Config, wanted: Wanted) -> result_cache.Cache:
    """The cache for these settings: in cache_dir, else beside the settings file, else here."""
    if config.cache_dir:
        directory = Path(config.cache_dir)
    elif config.source:
        directory = Path(config.source).parent / result_cache.DIRECTORY_NAME
    else:
        directory = Path(result_cache.DIRECTORY_NAME)
    # Everything that changes a result; not jobs, and not exclude (the run's file list covers it).
    # Not wanted.new_source: results without it are told apart in the cache itself.
    settings = (config.select, config.ignore, config.handlers, config.allow_state, config.unsafe_fixes,
                wanted.ends, wanted.fix_edits)
    return result_cache.Cache.open(directory, settings)


def limit_to_pull_request(summary: RunSummary, pull_request: Any) -> RunSummary:
    """Keep the findings on lines the pull request changed (and every error); remember its hunks."""
    results = []
    for result in summary.results:
        kept = tuple(f for f in result.findings
                     if pull_request.touches(f.path, f.line, max(f.line, f.end_line or f.line))
                     or any(pull_request.touches(p, line, line) for p, line, _ in f.related))
        results.append(dataclasses.replace(result, findings=kept))
    return dataclasses.replace(summary, results=tuple(results), pull_request=pull_request)


def check_source(source: str, config: Config = Config(), path: str = STDIN, details: bool = False) -> FileResult:
    """Analyse and fix one module given as text (stdin, editors, the Python API); writes nothing."""
    from . import worker

    return worker.check_text(source, config, path, details)


# ---- the pool ---------------------------------------------------------------------------------

def _map(files: tuple[str, ...], run_files: tuple[str, ...], config: Config,
         progress: Callable[[int, int], None] | None, wanted: Wanted, records: bool) -> Iterator[Outcome]:
    """Process files (some of run_files: the rest came from the cache), in a pool when there are many."""
    if not files:
        return
    # Imported here: a run answered from the cache needs neither the analysis nor a pool.
    from concurrent.futures import ProcessPoolExecutor

    from . import worker

    jobs = config.jobs or os.cpu_count() or 1
    if jobs == 1 or len(files) < _POOL_THRESHOLD:
        worker.init(run_files, config, wanted, records=records)
        for done, path in enumerate(files, start=1):
            yield worker.process_file(path)
            if progress:
                progress(done, len(files))
        return
    chunk = max(1, min(64, len(files) // (jobs * 8)))
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker.init,
                               initargs=(run_files, config, wanted, True, records))
    try:
        for done, outcome in enumerate(pool.map(worker.process_file, files, chunksize=chunk), start=1):
            yield outcome
            if progress:
                progress(done, len(files))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an interrupt, start nothing new


# ---- writing -----------------------------------------------------------------------------------


def _write(outcome: Outcome) -> FileResult:
    result = outcome.result
    if result.status is not Status.CHANGED or result.new_source is None or outcome.encoding is None:
        return result
    path = Path(result.path)
    try:
        current = path.read_bytes()
    except OSError as exc:
        return replace(result, status=Status.FAILED, error=f"cannot read before writing: {exc.strerror or exc}")
    if hashlib.sha256(current).hexdigest() != outcome.digest:
        return replace(result, status=Status.FAILED,
                       error="the file changed on disk while lambda-fix ran; it was not written (run again)")
    try:
        data = encode(result.new_source, Decoded(result.new_source, outcome.encoding))
        write_atomically(path, data)
    except (OSError, UnicodeEncodeError) as exc:
        return replace(result, status=Status.FAILED, error=f"cannot write: {getattr(exc, 'strerror', None) or exc}")
    return result


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside path, then rename over it: readers see old or new, never half."""
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".lambda-fix")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
