"""`lambda-fix probe`: run a handler warm (one process, event after event, as one execution environment
does) and cold (a fresh interpreter per invocation), and show where their results differ, with what
the warm process kept between invocations (probe_report.py and probe_left.py say it).

It executes the project's code: it is opt-in, and nothing else in lambda-fix (`--check`, the hooks,
the bot) runs it. Each cold invocation gets a /tmp of its own, as a new execution environment does:
a mount namespace where the platform allows one (probe_child.private_tmp). Elsewhere each interpreter
gets its own empty TMPDIR (what `tempfile` uses), and what a run makes under the shared literal
`/tmp` is removed before the next run starts; a program the handler started may still be writing there.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis.clients import CLIENT_FACTORIES
from .probe_child import end_processes, processes_under
from .probe_compare import ValuePath, decoded, differing_paths, masked

_CHILD = Path(__file__).with_name("probe_child.py")
DEFAULT_TIMEOUT = 30.0  # seconds per invocation; Lambda's own default is 3, most functions set more
_IMPORT_ALLOWANCE = 60  # seconds for the setup module and the handler's import
_NOTING = 0.25  # seconds between two looks at the processes below a running child
# Not copied for --after: what the handler does not import from the project's directory.
_NOT_COPIED = shutil.ignore_patterns(".git", ".hg", ".venv", "venv", "node_modules", ".tox", ".nox",
                                     "__pycache__", ".aws-sam", "cdk.out", ".mypy_cache", ".pytest_cache",
                                     ".ruff_cache", ".lambda-fix-cache")


class ProbeError(Exception):
    """The probe could not run: a bad target or event file, or a handler that cannot be imported."""


class RewriteFails(ProbeError):
    """With --after: the rewrite cannot be imported or run where the original can (exit 1: it changed
    behaviour)."""


@dataclass(frozen=True)
class Invocation:
    number: int  # 0-based, in the order of the warm run
    event: int  # index into the events
    result: Any = None
    error: str | None = None  # "Type: message" when the handler raised
    ms: float = 0.0

    @property
    def outcome(self) -> Any:
        return {"error": self.error} if self.error is not None else {"result": self.result}


@dataclass(frozen=True)
class ProbeReport:
    target: str
    root: str  # absolute: where the project was imported from
    event_names: tuple[str, ...]
    warm: tuple[Invocation, ...]
    cold: tuple[Invocation, ...]
    differing: tuple[int, ...] = field(default=())  # invocation numbers whose warm and cold outcomes differ
    ended: tuple[int, ...] = ()  # invocations that ended their warm environment (timed out, or exited)
    # Invocation number -> where its outcome differs from one cold run to the next (probe_compare.py)
    not_compared: dict[int, tuple[ValuePath, ...]] = field(default_factory=dict)
    # What the warm process's watches recorded (probe_child.py documents each).
    state: dict[str, Any] = field(default_factory=dict)
    files: tuple[dict[str, Any], ...] = ()
    clients: tuple[dict[str, Any], ...] = ()
    # What the warm run left running after a phase (probe_child.ProcessWatch), each with "environment":
    # 0 for the first, n for the one after the nth that ended.
    processes: tuple[dict[str, Any], ...] = ()
    # lambda-fix's findings on the project: (path relative to root, line, code, message); None: not looked for
    findings: tuple[tuple[str, int, str, str], ...] | None = None
    # Calls with request data lambda-fix's analysis could not follow: (path relative to root, line, what)
    unfollowed: tuple[tuple[str, int, str], ...] = ()
    # What else the warm run left in its process (probe_child.py documents each): the lines each phase
    # wrote, {phase: (kept lines, count)}, and each cold run's, {invocation number: (lines, count)};
    # environment variables an invocation left changed; /tmp bytes, memory and objects after each
    # phase; threads and tasks still running after one.
    logs: dict[int, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    cold_logs: dict[int, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    environment: tuple[tuple[Any, ...], ...] = ()
    usage: tuple[tuple[int, int, int, int], ...] = ()
    work: tuple[dict[str, Any], ...] = ()
    private_tmp: bool = False  # every run had a /tmp of its own (probe_child.private_tmp)
    events: tuple[Any, ...] = ()  # what was invoked: probe_left.carried_lines looks for their values
    after: bool = False  # this is the probe of lambda-fix's rewrite (--after)
    rewritten: tuple[str, ...] = ()  # then: the files the rewrite changed
    not_copied: tuple[tuple[str, str], ...] = ()  # and what its copy left out: (path relative to root, why)

    @property
    def agrees(self) -> bool:
        return not self.differing


def load_events(events_file: str | None, event_files: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    """The events in order, and a name for each (`events.json[2]`, `events/get.json`)."""
    events: list[Any] = []
    names: list[str] = []
    if events_file is not None:
        document = _read_json(events_file)
        if not isinstance(document, list):
            raise ProbeError(f"{events_file}: --events takes a JSON array of events")
        events += document
        names += [f"{events_file}[{i}]" for i in range(len(document))]
    for path in event_files:
        events.append(_read_json(path))
        names.append(path)
    if not events:
        raise ProbeError("no events: give --events FILE (a JSON array) or --event FILE (one event)")
    return events, names


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProbeError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProbeError(f"{path}: not JSON: {exc}") from exc


def probe(target: str, events: list[Any], names: list[str], repeat: int = 1, root: str = ".",
          python: str = sys.executable, setup: str | None = None, findings: bool = True,
          timeout: float = DEFAULT_TIMEOUT, cold_root: str | None = None, private_tmp: bool = True,
          environment: dict[str, str] | None = None) -> ProbeReport:
    """target: `module:function` (a dotted module, imported from root). setup: a module each
    interpreter imports first (where a test's mocks start). findings: also run lambda-fix's check on
    root, to say which finding covers what the probe saw. timeout: the function's, in seconds: an
    invocation that runs longer times out and ends its environment, as in Lambda. cold_root: where the
    cold runs import the project from instead (the original, when root is its rewrite). private_tmp:
    give each execution environment a /tmp of its own where the platform allows it (the warm run's
    environments one between them, as Lambda keeps /tmp for the next). environment: variables the
    function is given (a template's `Environment`)."""
    # SAM's and the console's `Handler: app.lambda_handler` is taken too.
    module, _, function = target.partition(":") if ":" in target else target.rpartition(".")
    if not module or not function:
        raise ProbeError(f"{target!r}: give the handler as MODULE:FUNCTION (app:lambda_handler)")
    python = _interpreter(python)
    root = os.path.abspath(root)
    plan = [(number, number % len(events)) for number in range(len(events) * repeat)]
    with tempfile.TemporaryDirectory(prefix="lambda-fix-probe-") as scratch:
        request = {"root": root, "module": module, "function": function, "events": events, "setup": setup,
                   "factories": sorted(CLIENT_FACTORIES), "scratch": scratch, "timeout_ms": int(timeout * 1000),
                   "environment": dict(environment or {})}
        private = {"private_tmp": True} if private_tmp else {}
        warm = _warm_run(python, {**request, **private}, plan, Path(scratch))
        cold_request = {**request, **private, "root": os.path.abspath(cold_root) if cold_root else root}
        cold, cold_logs = [], {}
        for step in plan:
            document = _run(python, cold_request, [step], Path(scratch, f"cold{step[0]}"))
            cold += document["invocations"]
            cold_logs[step[0]] = _logs_of(document).get(step[0] + 1, ((), 0))
        differing, not_compared = _compared(python, cold_request, plan, warm["invocations"], cold, Path(scratch))
    for name, entry in warm["state"].items():
        entry["line"] = _definition_line(entry["file"], name[len(entry["module"]) + 1:].split(".")[0])
    found, unfollowed = static_findings(root) if findings else (None, ())
    return ProbeReport(target, root, tuple(names), tuple(warm["invocations"]), tuple(cold), differing,
                       ended=warm["ended"], not_compared=not_compared, state=warm["state"],
                       files=tuple(warm["files"]), clients=tuple(warm["clients"]),
                       processes=tuple(warm["processes"]), findings=found, unfollowed=unfollowed,
                       logs=warm["logs"], cold_logs=cold_logs,
                       environment=tuple(tuple(change) for change in warm["environment"]),
                       usage=tuple(tuple(row) for row in warm["usage"]), work=tuple(warm["work"]),  # type: ignore[misc]
                       private_tmp=warm["private_tmp"], events=tuple(events))


def _logs_of(document: dict[str, Any]) -> dict[int, tuple[tuple[str, ...], int]]:
    return {phase: (tuple(lines), count) for phase, lines, count in document.get("logs", ())}


def _interpreter(python: str) -> str:
    """The interpreter as an absolute path: each run starts in the project's directory (or its copy, for
    --after), where a relative path such as `.venv/bin/python` would name another file. Not resolved
    further: a virtual environment's python is a link that must stay one to find its packages."""
    found = shutil.which(python)
    if found is None:
        raise ProbeError(f"{python}: no such interpreter")
    return os.path.abspath(found)


def _warm_run(python: str, request: dict[str, Any], plan: list[tuple[int, int]], scratch: Path) -> dict[str, Any]:
    """The warm run: one execution environment, and after an invocation that ends it (a timeout, an
    exit) a new one for the rest, as Lambda starts: the module imported again, /tmp as it was left.
    The environments' records merged; what they made under /tmp is removed once all have run."""
    documents: list[dict[str, Any]] = []
    remaining: list[tuple[int, int]] = plan
    try:
        while remaining:
            known = documents[-1]["files"] if documents else []
            document = _run(python, {**request, "known_files": known}, remaining, scratch / f"warm{len(documents)}",
                            remove_made=False, private=scratch / "warm-tmp")
            documents.append(document)
            remaining = remaining[len(document["invocations"]):] if document.get("ended") is not None else []
    finally:
        for document in documents:
            _remove_made(document)
    state: dict[str, Any] = {}
    for document in documents:
        for name, entry in document["state"].items():
            if name in state:
                state[name]["phases"] = state[name]["phases"] + entry["phases"]  # from a new import: phase 0 again
            else:
                state[name] = entry
    logs: dict[int, tuple[tuple[str, ...], int]] = {}
    for document in documents:
        for phase, (lines, count) in _logs_of(document).items():
            before = logs.get(phase, ((), 0))  # phase 0: each environment's import
            logs[phase] = (before[0] + lines, before[1] + count)
    return {"invocations": [i for d in documents for i in d["invocations"]], "state": state, "logs": logs,
            "environment": [c for d in documents for c in d.get("environment", ())],
            "usage": [u for d in documents for u in d.get("usage", ())],
            "work": [w for d in documents for w in d.get("work", ())],
            "private_tmp": bool(documents) and all(d.get("private_tmp") for d in documents),
            "files": documents[-1]["files"] if documents else [],
            "clients": [c for d in documents for c in d["clients"]],
            "processes": [{**p, "environment": n} for n, d in enumerate(documents) for p in d.get("processes", ())],
            "ended": tuple(d["ended"] for d in documents if d.get("ended") is not None)}


def _compared(python: str, request: dict[str, Any], plan: list[tuple[int, int]], warm: list[Invocation],
              cold: list[Invocation], scratch: Path) -> tuple[tuple[int, ...], dict[int, tuple[ValuePath, ...]]]:
    """The invocations whose warm outcome differs from the cold one, and for each invocation that
    differs, the values it does not compare: an invocation that differs is run cold once more (as
    request says), and what differs between its two cold runs (a timestamp, a uuid4) differs whatever
    the state."""
    differing, not_compared = [], {}
    for w, c in zip(warm, cold):
        if w.outcome == c.outcome:
            continue
        again = _run(python, request, [plan[w.number]], scratch / f"again{w.number}")["invocations"][0]
        changing = differing_paths(decoded(c.outcome), decoded(again.outcome))
        if changing:
            not_compared[w.number] = tuple(changing)
            if masked(decoded(w.outcome), changing) == masked(decoded(c.outcome), changing):
                continue
        differing.append(w.number)
    return tuple(differing), not_compared


def probe_rewrite(target: str, events: list[Any], names: list[str], repeat: int = 1, root: str = ".",
                  python: str = sys.executable, setup: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT, environment: dict[str, str] | None = None) -> ProbeReport:
    """The probe of lambda-fix's rewrite of root, made in a temporary copy (root is not touched): the
    rewrite's warm results against the original's cold ones, which is what a correct rewrite keeps.
    The copy holds no symbolic link (probe_copy.py), as the rewrite writes through links."""
    from .config import Settings
    from .engine import Mode, run
    from .model import Status
    from .probe_copy import CopyError, copy_project

    root = os.path.abspath(root)
    project = project_around(root)
    with tempfile.TemporaryDirectory(prefix="lambda-fix-after-") as place:
        whole = os.path.join(place, os.path.basename(project) or "project")
        try:
            not_copied = copy_project(project, whole, ignore=_NOT_COPIED)
        except (CopyError, OSError) as exc:
            raise ProbeError(f"{project}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)) from None
        # As `lambda-fix .` run where the deployment template is: it names the handlers.
        summary = run([whole], Settings(), Mode.WRITE)
        rewritten = tuple(os.path.relpath(r.path, whole) for r in summary.results if r.status is Status.CHANGED)
        copy = os.path.normpath(os.path.join(whole, os.path.relpath(root, project)))
        try:
            report = probe(target, events, names, repeat, copy, python, setup, timeout=timeout, cold_root=root,
                           environment=environment)
        except ProbeError as exc:
            # The original's own error (a missing dependency, a bad setup module) when it fails too.
            probe(target, events, names, repeat, root, python, setup, findings=False, timeout=timeout,
                  environment=environment)
            raise RewriteFails(f"lambda-fix's rewrite ({', '.join(rewritten) or 'no file changed'}) fails where "
                               f"the original runs: {str(exc).replace(copy, root)}") from None
    return dataclasses.replace(_relocated(report, copy, root, rewritten), not_copied=tuple(not_copied))


def project_around(root: str) -> str:
    """The directory a lambda-fix run over root's project starts from: the nearest one at or above root
    that holds a deployment template (SAM's `CodeUri: src/` puts the template above the code, and the
    probe runs from the code), not beyond a repository's top; root itself when there is none."""
    from .templates import SAM_NAMES, SERVERLESS_NAMES

    for directory in (Path(root), *Path(root).parents):
        if any((directory / name).is_file() for name in (*SAM_NAMES, *SERVERLESS_NAMES)):
            return str(directory)
        if (directory / ".git").exists() or directory == Path.home():
            break
    return root


def _relocated(report: ProbeReport, copy: str, root: str, rewritten: tuple[str, ...]) -> ProbeReport:
    """The copy's report, its paths spelled as the project's."""
    def moved(record: dict[str, Any], key: str) -> dict[str, Any]:
        value = record.get(key)
        if isinstance(value, str) and value.startswith(copy + os.sep):
            return {**record, key: root + value[len(copy):]}
        return record
    return dataclasses.replace(
        report, root=root, state={k: moved(v, "file") for k, v in report.state.items()},
        files=tuple(moved(f, "site") for f in report.files), clients=tuple(moved(c, "site") for c in report.clients),
        after=True, rewritten=rewritten)


def static_findings(root: str) -> tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, int, str], ...]]:
    """lambda-fix's findings on the project around root (project_around: as `lambda-fix .` there finds
    them), paths relative to root, fixable or not, to name the rule that covers what the
    probe saw, and the calls with request data its analysis could not follow, shown beside what the
    probe saw. The probe's own subject is behaviour: a project lambda-fix cannot read still probes."""
    return relative_findings(project_findings(project_around(root)), root)


Found = tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, int, str], ...]]


def relative_findings(found: Found, root: str) -> Found:
    """project_findings' paths made relative to root."""
    return (tuple((os.path.relpath(path, root), line, code, message) for path, line, code, message in found[0]),
            tuple(sorted({(os.path.relpath(path, root), line, what) for path, line, what in found[1]})))


def project_findings(project: str) -> Found:
    """The findings of a check run over project, and the calls it could not follow; absolute paths."""
    from .config import ConfigError, Settings
    from .engine import Mode, run

    try:
        summary = run([project], Settings(), Mode.CHECK)
    except ConfigError:
        return (), ()
    return (tuple((f.path, f.line, f.code, f.message) for result in summary.results for f in result.findings),
            tuple((path, line, what) for result in summary.results for path, line, what in result.unfollowed))


def _definition_line(path: str, variable: str) -> int | None:
    """The line of the first module-level statement that binds variable."""
    try:
        with open(path, "rb") as stream:
            tree = ast.parse(stream.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets = [statement.target]
        for target in targets:
            if any(isinstance(n, ast.Name) and n.id == variable for n in ast.walk(target)):
                return statement.lineno
    return None


def _run(python: str, request: dict[str, Any], plan: list[tuple[int, int]], scratch: Path,
         remove_made: bool = True, private: Path | None = None) -> dict[str, Any]:
    """One execution environment: a fresh interpreter, with a /tmp of its own when the request asks for
    one and the platform allows it (private, or an empty directory in scratch), else an empty TMPDIR of
    its own, and what it made under the machine's /tmp removed when it ends (unless remove_made is
    false), as a new environment would not have it."""
    tmpdir = scratch / "tmp"
    tmpdir.mkdir(parents=True)
    if request.get("private_tmp"):
        private = private or scratch / "private-tmp"
        private.mkdir(exist_ok=True)
        request = {**request, "private_tmp": str(private)}
    request_path, output = scratch / "request.json", scratch / "output.json"
    request_path.write_text(json.dumps({**request, "plan": plan, "tmpdir": str(tmpdir)}), encoding="utf-8")
    environment = {**os.environ, **request.get("environment", {}), "TMPDIR": str(tmpdir),
                   "AWS_LAMBDA_FUNCTION_NAME": "probe-function"}
    command = [python, str(_CHILD), str(request_path), str(output)]
    # The child times each invocation out itself; this bounds a process whose watchdog cannot run (a
    # handler in C code that holds the interpreter) and an import that never ends.
    limit = request["timeout_ms"] / 1000 * len(plan) + _IMPORT_ALLOWANCE
    errors = scratch / "stderr"
    # Its own session holds what the handler starts. Its output goes to files, never to a pipe read to
    # its end: a program the handler left running would hold that open, and the probe would wait for it.
    with open(errors, "wb") as stream:
        child = subprocess.Popen(command, cwd=request["root"], env=environment, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=stream, start_new_session=True)
    known: dict[int, int] = {}
    try:
        finished = _waited(child, limit, known)
    finally:
        _end(child, known)
        document = json.loads(output.read_text(encoding="utf-8")) if output.exists() else None
        if remove_made:
            _remove_made(document)
    if not finished:
        raise ProbeError(f"the handler's process did not finish within {limit:.0f} s (the timeouts of its "
                         f"{len(plan)} invocation(s) and {_IMPORT_ALLOWANCE} s for the import)")
    if document is None:
        last = _last_line(errors) or "no output"
        raise ProbeError(f"the handler's process ended without a result (exit {child.returncode}): {last}")
    if "private_tmp_error" in document:
        raise ProbeError(document["private_tmp_error"])
    if "setup_error" in document:
        raise ProbeError(f"the setup module {request['setup']} raised: {document['setup_error'].splitlines()[-1]}")
    if "import_error" in document:
        last = document["import_error"].splitlines()[-1]
        raise ProbeError(f"cannot import {request['module']}:{request['function']}: {last}")
    document["invocations"] = [Invocation(r["number"], r["event"], r.get("result"), r.get("error"), r.get("ms", 0.0))
                               for r in document["invocations"]]
    return document


def _waited(child: subprocess.Popen[bytes], limit: float, known: dict[int, int]) -> bool:
    """Whether child exited within limit seconds. The processes below it are noted in known as it runs,
    to be found once it has exited even if they left its session (probe_child.processes_under)."""
    deadline = time.monotonic() + limit
    try:
        handle: int | None = os.pidfd_open(child.pid)  # readable once it exits: no need to poll for that
    except (AttributeError, OSError):
        handle = None
    pause = 0.005
    try:
        while True:
            left = deadline - time.monotonic()
            if handle is not None:
                select.select([handle], [], [], max(0, min(left, _NOTING)))
            else:
                time.sleep(max(0, min(left, pause)))
                pause = min(pause * 2, _NOTING)
            if _exited(child):
                return True
            if time.monotonic() >= deadline:
                return False
            known.update(processes_under(child.pid, known))
    finally:
        if handle is not None:
            os.close(handle)


def _exited(child: subprocess.Popen[bytes]) -> bool:
    """Whether child has exited, without reaping it: until it is reaped its pid, which names its session
    and its process group, is given to no other process, so _end signals none but the handler's."""
    if not hasattr(os, "waitid"):
        return child.poll() is not None
    try:
        return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _end(child: subprocess.Popen[bytes], known: dict[int, int]) -> None:
    """End child and every process it started, then reap it."""
    if not _exited(child):
        os.kill(child.pid, signal.SIGSTOP)  # it starts nothing more while the others are ended
    end_processes(child.pid, known)
    try:
        os.killpg(child.pid, signal.SIGKILL)  # itself, and what is left of its group where there is no /proc
    except OSError:
        pass
    child.wait()


def _last_line(path: Path) -> str:
    with open(path, "rb") as stream:
        stream.seek(max(0, os.fstat(stream.fileno()).st_size - 4096))
        text = stream.read().decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else ""


def _remove_made(document: dict[str, Any] | None) -> None:
    """Remove what the run made under /tmp (deepest first), never what was there before it. A run with
    a /tmp of its own made nothing in the machine's."""
    if not document or document.get("private_tmp"):
        return
    made = sorted((f["path"] for f in document.get("files", ()) if not f["existed_before"]),
                  key=lambda p: p.count(os.sep), reverse=True)
    for path in made:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            continue  # left: the probe's report still names it
