"""What `lambda-fix probe` runs in the project's own interpreter: import the handler's module once, as
one execution environment does, and invoke it with each event in turn, watching what it leaves behind.

    python path/to/probe_child.py REQUEST_JSON OUTPUT

REQUEST_JSON holds {"root", "module", "function", "events", "plan": [[number, index], ...],
"factories": ["boto3.client", ...], "tmpdir", "scratch", "setup": module or null, "timeout_ms",
"known_files": the files of the environment this one follows, "private_tmp": a directory to make
this process's /tmp, or null}. Run
by its path, it imports nothing of lambda-fix (so any interpreter of the project's can run it, Python
3.9 or newer), and root replaces its own directory at the head of `sys.path`, so the user's code
imports as it would in Lambda. A plan entry's number is the invocation's (its request id), its index
the event's. Each result is serialised right after its call returns, as the Lambda runtime does, so a
result that a later invocation mutates shows what the caller received.

OUTPUT gets one JSON document: {"setup_error" | "import_error": "..."}, or {"invocations": [{"number",
"event", "result" | "error", "ms"}], "state": {...}, "files": [...], "clients": [...], "processes": [...],
"logs": [...], "environment": [...], "usage": [...], "work": [...], "private_tmp": whether /tmp was its
own} where each watch below says what it records, and "ended": the number of the invocation that ended the
environment (it ran past "timeout_ms", or exited), when one did: the rest of the plan did not run here.
Phase 0 is the import; invocation number n is phase n + 1.

The parent starts it as the leader of a session of its own. Every process the handler starts stays
below it (adopt_orphans) and is ended when it ends, as at the end of an execution environment; the
parent ends what is left (a process that outlived it) with the same functions.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import importlib.abc
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
import traceback
import types
import weakref
import zlib
from typing import Any, Callable, Iterator

SCALARS = (type(None), bool, int, float, complex, str, bytes)
_THIS_FILE = os.path.realpath(__file__)
_REPR_LIMIT = 120


class LambdaContext:
    """The attributes of the runtime's context object, the same for every invocation but the request id."""

    function_name = "probe-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe-function"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/probe-function"
    log_stream_name = "2026/01/01/[$LATEST]probe"
    identity = None
    client_context = None

    def __init__(self, number: int, timeout_ms: int = 30_000) -> None:
        # The same id for the same invocation warm and cold, so a result that holds it compares equal.
        self.aws_request_id = f"00000000-0000-4000-8000-{number:012d}"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Phase:
    """Which phase is running: 0 the import, n + 1 invocation n. The watches read it."""

    current = 0
    event: Any = None


# --- module-level state ---------------------------------------------------------------------------

class StateWatch:
    """After each phase, a fingerprint of every module-level value of the project's own modules that
    can carry data: scalars, containers, and one level into instances of the project's classes.

    state: {"module.name": {"file", "module", "type", "phases": [[phase, size or None, short repr, digest]]}},
    a row only when the value differs from the phase before.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self.state: dict[str, dict[str, Any]] = {}

    def project_modules(self) -> list[Any]:
        found = []
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path or name == "__main__":
                continue
            if _is_project_code(os.path.realpath(path), self.root):
                found.append(module)
        return found

    def snapshot(self, phase: int) -> None:
        project = self.project_modules()
        project_names = {m.__name__ for m in project}
        for module in project:
            for name, value in list(vars(module).items()):
                if name.startswith("__"):
                    continue
                self._record(module.__name__, name, module.__file__, value, phase)
                if type(value).__module__ in project_names and not isinstance(value, type):
                    for attribute, inner in list(getattr(value, "__dict__", {}).items()):
                        self._record(module.__name__, f"{name}.{attribute}", module.__file__, inner, phase)

    def _record(self, module: str, name: str, path: str, value: Any, phase: int) -> None:
        if not _carries_data(value):
            return
        key = f"{module}.{name}"
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a broken __repr__ is the project's; its size still tells
            text = f"<{type(value).__name__}>"
        size = len(value) if not isinstance(value, SCALARS) and hasattr(value, "__len__") else None
        # A digest of the whole repr tells a change the shortened one hides; stable from one process to
        # the next (str's hash() is not), as a new environment's rows follow the last one's.
        digest = zlib.crc32(text.encode("utf-8", "replace"))
        row = [phase, size, text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT - 3] + "...", digest]
        entry = self.state.setdefault(key, {"file": path, "module": module, "type": type(value).__name__, "phases": []})
        if not entry["phases"] or entry["phases"][-1][1:] != row[1:]:
            entry["phases"].append(row)


def _carries_data(value: Any) -> bool:
    if isinstance(value, SCALARS):
        return True
    # Containers by their protocol (list, dict, set, deque, Counter, bytearray, the project's own),
    # never modules, classes or functions.
    return isinstance(value, (list, dict, set, bytearray, tuple, frozenset)) or (
        type(value).__module__ == "collections" and hasattr(value, "__len__"))


# Set while the probe itself opens files, or while the hook runs: what the watches see then is not the
# handler's doing.
_OWN = threading.local()


class _Own:
    """Memory blocks the probe's own records have taken (sys.getallocatedblocks), less what they freed:
    the memory watch counts what the handler holds, not the records of what it did."""

    blocks = 0


@contextlib.contextmanager
def own() -> Iterator[None]:
    """The probe's own work: the watches look away, and the blocks it allocates are its own."""
    if getattr(_OWN, "busy", False):  # within the probe's own work already: counted there
        yield
        return
    _OWN.busy = True
    before = sys.getallocatedblocks()
    try:
        yield
    finally:
        _Own.blocks += sys.getallocatedblocks() - before
        _OWN.busy = False


# --- files under /tmp -----------------------------------------------------------------------------

# Audit events that start another program: the position of its command line among their arguments.
_STARTS_PROGRAM = {"subprocess.Popen": 1, "os.system": 0, "os.posix_spawn": 1, "os.spawn": 2, "os.exec": 1}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class FileWatch:
    """Through an audit hook: every file opened, made or renamed under /tmp or TMPDIR, but the probe's
    own files and the project's (the project is read-only /var/task in Lambda).

    files: [{"path", "created": phase or None, "existed_before": bool, "read": [phases that read what an
    earlier phase left], "present": [phases at whose start it existed], "replaced": [phases that wrote it
    anew], "site": "file:line" of the code that made it, "via": the program that made it, if another
    program did}]. A program the handler starts (`subprocess.run(["ffmpeg", ..., "/tmp/out.mp4"])`)
    writes where the hook cannot see: a path under /tmp on its command line that was not there is
    recorded once it is."""

    def __init__(self, tmpdir: str, scratch: str, project: str, kept: tuple[str, ...] = ()) -> None:
        self.tmpdir = os.path.realpath(tmpdir)
        self.shared = os.path.realpath("/tmp")
        self.ignored = (os.path.realpath(scratch), os.path.realpath(project), *kept)
        self.project = os.path.realpath(project)
        self.files: dict[str, dict[str, Any]] = {}
        # Paths under /tmp named on the command line of a program the handler started, not there then:
        # {path: (phase, site, program)}. The program writes them where the hook cannot see, later.
        self._handed: dict[str, tuple[int, str | None, str]] = {}

    def watches(self, real: str) -> bool:
        if self.tmpdir != self.shared and _within(real, self.tmpdir):
            return real != self.tmpdir
        return _within(real, self.shared) and real != self.shared and not any(_within(real, i) for i in self.ignored)

    def bytes_made(self) -> int:
        """The bytes under /tmp and TMPDIR that the probe did not find there."""
        if self.tmpdir == self.shared:  # a private /tmp: all of it, but what the probe bound into it
            return _bytes_under(self.shared, skip=self.ignored)
        made = [e["path"] for e in self.files.values()
                if not e["existed_before"] and not _within(e["path"], self.tmpdir)]
        tops = [p for p in made if not any(p != q and _within(p, q) for q in made)]
        return _bytes_under(self.tmpdir) + sum(_bytes_under(p) for p in tops)

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, arguments: tuple[Any, ...]) -> None:
        if getattr(_OWN, "busy", False):
            return
        with own():
            if event == "open" and arguments and isinstance(arguments[0], (str, bytes, os.PathLike)):
                path, mode, flags = (list(arguments) + [None, 0])[:3]
                writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & _WRITE_FLAGS)
                replaces = (isinstance(mode, str) and any(c in mode for c in "wx")) or bool((flags or 0) & os.O_TRUNC)
                self._seen(path, writes, replaces)
            elif event == "os.mkdir" and arguments:
                self._seen(arguments[0], True)
            elif event in ("os.rename", "shutil.copyfile", "shutil.move") and len(arguments) > 1:
                self._seen(arguments[1], True, True)
            elif event == "sqlite3.connect" and arguments and isinstance(arguments[0], (str, bytes, os.PathLike)):
                self._seen(arguments[0], True)  # the database file, written by SQLite's own C code
            elif event in _STARTS_PROGRAM and len(arguments) > _STARTS_PROGRAM[event]:
                self._handed_to_program(arguments[_STARTS_PROGRAM[event]])

    def _seen(self, path: Any, writes: bool, replaces: bool = False) -> None:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if not self.watches(real):
            return
        entry = self.files.get(real)
        if entry is None:
            existed = os.path.lexists(real)
            if not writes and not existed:
                return  # a failed read of nothing
            entry = self.files[real] = {"path": real, "created": None if existed else Phase.current,
                                        "existed_before": existed, "read": [], "present": [], "replaced": [],
                                        "site": None if existed else _project_site(self.project)}
        if replaces and Phase.current not in entry["replaced"]:
            entry["replaced"].append(Phase.current)
        # A read counts when it reads what an earlier phase left: not after this phase wrote the file anew
        # (`open(p, "w")`, a rename onto it); appending (`"a"`) keeps what was there.
        if not writes and Phase.current not in entry["read"] and Phase.current not in entry["replaced"]:
            entry["read"].append(Phase.current)

    def _handed_to_program(self, command: Any) -> None:
        if isinstance(command, (str, bytes)):
            try:
                words = shlex.split(os.fsdecode(command))
            except ValueError:
                words = os.fsdecode(command).split()
        elif isinstance(command, (list, tuple)):
            words = [os.fsdecode(w) for w in command if isinstance(w, (str, bytes, os.PathLike))]
        else:
            return
        if not words:
            return
        program = os.path.basename(words[0])
        for word in _words_of(words[1:]):
            for part in word.split("="):  # `--output=/tmp/out.mp4` too
                part = part.lstrip("<>|&;(")  # a shell's redirection: `> /tmp/out.txt`, `2>/tmp/log`
                if not part.startswith(os.sep):
                    continue
                real = os.path.realpath(part)
                if self.watches(real) and real not in self.files and real not in self._handed \
                        and not os.path.lexists(real):
                    self._handed[real] = (Phase.current, _project_site(self.project), program)

    def settle(self) -> None:
        """Record the files programs the handler started have made by now, as made when it started them."""
        for real, (phase, site, program) in list(self._handed.items()):
            if real not in self.files and os.path.lexists(real):
                self.files[real] = {"path": real, "created": phase, "existed_before": False, "read": [],
                                    "present": [], "replaced": [], "site": site, "via": program}
                del self._handed[real]

    def at_start(self, phase: int) -> None:
        self.settle()
        for entry in self.files.values():
            if os.path.lexists(entry["path"]):
                entry["present"].append(phase)


def _words_of(words: list[str], depth: int = 2) -> list[str]:
    """The words, and those of a script among them (`sh -c "convert in.png /tmp/out.png"`)."""
    found = []
    for word in words:
        found.append(word)
        if depth and any(c.isspace() for c in word):
            try:
                found += _words_of(shlex.split(word), depth - 1)
            except ValueError:
                found += word.split()
    return found


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _project_site(project: str) -> str | None:
    """file:line of the innermost frame of the project's own code (not a library's) on the stack. On a
    library's worker thread (s3transfer's downloads), where the handler's thread is waiting: the
    project's call that handed it the work."""
    site = _site_in(sys._getframe(1), project)
    if site is None and threading.current_thread() is not threading.main_thread():
        main = sys._current_frames().get(threading.main_thread().ident or -1)
        site = _site_in(main, project) if main is not None else None
    return site


def _site_in(frame: Any, project: str) -> str | None:
    while frame is not None:
        name = frame.f_code.co_filename
        path = os.path.realpath(name)
        if not name.startswith("<") and _is_project_code(path, project):  # not `<frozen os>`, `<string>`
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _is_project_code(real: str, project: str) -> bool:
    """Under the project's directory, and not a package vendored or installed there."""
    return _within(real, project) and not any(p in ("site-packages", "dist-packages") for p in real.split(os.sep)) \
        and not any(_within(real, v) for v in _vendored_under(project))


@functools.cache
def _vendored_under(project: str) -> tuple[str, ...]:
    """What `pip install -t` put in the project's directory or one level down (a layer's `python/`,
    a zip's dependencies beside the handler): the top-level packages and modules each `*.dist-info`'s
    RECORD lists. Libraries, not the project's code. (The analysis asks the same in
    Project.vendored, of a whole code root; this file imports nothing of lambda-fix, so cannot call it.)"""
    found: set[str] = set()
    for directory in [project, *(os.path.join(project, n) for n in _listed(project))]:
        for name in _listed(directory):
            if not name.endswith(".dist-info"):
                continue
            try:
                with open(os.path.join(directory, name, "RECORD"), encoding="utf-8") as stream:
                    tops = {line.split(",")[0].split("/")[0] for line in stream}
            except OSError:
                continue
            for top in tops:
                if top and top != ".." and not top.endswith((".dist-info", ".data")):
                    found.add(os.path.realpath(os.path.join(directory, top)))
    return tuple(sorted(found))


def _listed(directory: str) -> list[str]:
    try:
        return [n for n in os.listdir(directory) if not n.startswith(".")]
    except OSError:
        return []


# --- clients --------------------------------------------------------------------------------------

# Methods that build clients on a session, besides the factories the parent names.
_SESSION_METHODS = ("boto3.session.Session.client", "boto3.session.Session.resource")


class ClientWatch:
    """Wraps the client factories as their modules are imported and counts what each phase builds.

    clients: [{"factory", "label", "phase", "site": "file:line", "inside": the library function the
    project called that called the factory, or None, "used_in": [phases]}], and for one built
    from an event's value: "from_event" (its path, `/headers/x-region`), "parameter", "credential" (the
    parameter names a key, secret, token or password), "held_in": [[phase, module state holding it]];
    "used_in" then lists the invocations whose event has another value there that called it."""

    def __init__(self, factories: list[str], project: str) -> None:
        self.project = os.path.realpath(project)
        self.by_module: dict[str, list[str]] = {}
        for name in [*factories, *_SESSION_METHODS]:
            module, attribute = _split_factory(name)
            self.by_module.setdefault(module, []).append(attribute)
        self.built: list[dict[str, Any]] = []
        self._from_events: list[tuple[dict[str, Any], Any, str]] = []  # (record, what was built, the value)
        self._depth = threading.local()
        self._wrapped: set[int] = set()

    def install(self) -> None:
        sys.meta_path.insert(0, _AfterImport(self))

    def patch(self, module: Any) -> None:
        for attribute in self.by_module.get(module.__name__, ()):
            owner_name, _, member = attribute.rpartition(".")
            owner = getattr(module, owner_name, None) if owner_name else module
            target = getattr(owner, member, None)
            if owner is None or target is None or id(target) in self._wrapped:
                continue
            label = f"{module.__name__}.{attribute}"
            if isinstance(target, type):
                target.__init__ = self._counting(target.__init__, label, method=True)
                self._wrapped.add(id(target))
            else:
                wrapper = self._counting(target, label, method=bool(owner_name))
                self._wrapped.add(id(wrapper))
                setattr(owner, member, wrapper)

    def _counting(self, original: Callable[..., Any], label: str, method: bool) -> Callable[..., Any]:
        @functools.wraps(original)
        def counted(*arguments: Any, **keywords: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            try:
                built = original(*arguments, **keywords)
            finally:
                self._depth.n = depth
            if depth == 0:  # boto3.client calls Session.client: count the outermost call only
                given = arguments[1:] if method else arguments
                made = built if built is not None else (arguments[0] if arguments else None)
                self._built(label, given, keywords, made)
            return built
        return counted

    def _built(self, label: str, arguments: tuple[Any, ...], keywords: dict[str, Any], made: Any) -> None:
        service = arguments[0] if arguments and isinstance(arguments[0], str) else keywords.get("service_name")
        record = {"factory": label, "label": f"{label}({service!r})" if isinstance(service, str) else f"{label}()",
                  "phase": Phase.current, "site": _project_site(self.project), "inside": self._called_inside(),
                  "from_event": None, "used_in": []}
        self.built.append(record)
        given = [*((f"argument {i + 1}", v) for i, v in enumerate(arguments)), *keywords.items()]
        found = _from_event(given, Phase.event) if Phase.current > 0 else None
        if found is None:
            return
        where, parameter, value = found
        record.update(from_event=where, parameter=parameter, held_in=[],
                      credential=bool(_CREDENTIAL.search(parameter)))
        self._from_events.append((record, made, value))
        self._watch_use(made, record, where, value)

    def _called_inside(self) -> str | None:
        """When the project's code did not call the factory itself but a library's function that did
        (`requests.get` builds a `requests.Session`): that function, as module.name."""
        frame, callee = sys._getframe(1), None
        while frame is not None:
            path = os.path.realpath(frame.f_code.co_filename)
            if path == _THIS_FILE:
                frame = frame.f_back  # the probe's own wrappers
                continue
            if _is_project_code(path, self.project):
                return f"{callee.f_globals.get('__name__', '?')}.{callee.f_code.co_name}" if callee else None
            callee, frame = frame, frame.f_back
        return None

    @staticmethod
    def _watch_use(made: Any, record: dict[str, Any], where: str, value: str) -> None:
        """A boto3 client (or a resource's) says when it is called: note the invocations that use it
        for an event whose value at `where` is not the one it was built from."""
        client = getattr(getattr(made, "meta", None), "client", made)
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is None or not hasattr(events, "register"):
            return

        def used(**_: Any) -> None:
            if Phase.current > 0 and _at(Phase.event, where) != value and Phase.current not in record["used_in"]:
                record["used_in"].append(Phase.current)
        record["_keep"] = used  # botocore holds handlers weakly
        events.register("before-call", used)

    def at_start(self, modules: list[Any]) -> None:
        """A client built from an event's credentials that module state still holds when an
        invocation with other credentials starts: say where it is held."""
        for record, made, value in self._from_events:
            if record["credential"] and _at(Phase.event, record["from_event"]) != value:
                holder = _held_by(made, modules)
                if holder:
                    record["held_in"].append([Phase.current, holder])


def _split_factory(name: str) -> tuple[str, str]:
    """'boto3.client' -> ('boto3', 'client'); 'boto3.session.Session.client' -> ('boto3.session', 'Session.client')."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        if parts[cut][:1].isupper() and cut < len(parts) - 1:
            return module, ".".join(parts[cut:])
    return ".".join(parts[:-1]), parts[-1]


_CREDENTIAL = re.compile(r"key|secret|token|password|passwd|credential", re.IGNORECASE)


def _from_event(given: list[tuple[str, Any]], event: Any) -> tuple[str, str, str] | None:
    """Where in the event a value given to a factory comes from: (path as JSON pointer-like keys
    `/a/0/b`, the parameter, the value), if any."""
    wanted = {v: name for name, v in given if isinstance(v, str) and len(v) >= 3}
    stack: list[tuple[str, Any]] = [("", event)]
    while stack and wanted:
        where, value = stack.pop()
        if isinstance(value, str) and value in wanted:
            return where or "/", wanted[value], value
        if isinstance(value, dict):
            stack += [(f"{where}/{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}/{i}", v) for i, v in enumerate(value)]
    return None


def _at(event: Any, where: str) -> Any:
    """The value at a path _from_event gave, in another event (None when it has none)."""
    value = event
    for key in [k for k in where.split("/") if k]:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _held_by(target: Any, modules: list[Any]) -> str | None:
    """A name of the project's module state that holds target, up to three containers deep."""
    stack = [(f"{m.__name__}.{name}", value, 0) for m in modules for name, value in vars(m).items()
             if not name.startswith("__")]
    seen: set[int] = set()
    while stack:
        where, value, depth = stack.pop()
        if value is target:
            return where
        if depth >= 3 or id(value) in seen or isinstance(value, (*SCALARS, type)) or callable(value):
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            stack += [(f"{where}[{k!r}]", v, depth + 1) for k, v in list(value.items())]
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack += [(f"{where}[{i}]", v, depth + 1) for i, v in enumerate(list(value))]
        elif hasattr(value, "__dict__") and not isinstance(value, types.ModuleType):
            stack += [(f"{where}.{k}", v, depth + 1) for k, v in list(vars(value).items())]
    return None


class _AfterImport(importlib.abc.MetaPathFinder):
    """Lets the other finders find a module, and patches its factories once it has run."""

    def __init__(self, watch: ClientWatch) -> None:
        self.watch = watch

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.watch.by_module:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader, self.watch)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    """The module's own loader, then the watch's patches; anything else (get_data, resource readers)
    is the real loader's."""

    def __init__(self, loader: Any, watch: ClientWatch) -> None:
        self._loader, self._watch = loader, watch

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        self._watch.patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


# --- processes ------------------------------------------------------------------------------------

_PR_SET_CHILD_SUBREAPER = 36
_STOP_ROUNDS = 100  # a fork loop that outruns this many rounds of stopping is left to the parent


def adopt_orphans() -> None:
    """On Linux, make this process the one the orphans below it are given to (a daemon's double fork
    and setsid, a program whose parent exited), so every process the handler started stays below it,
    by parent links, until it ends them. Elsewhere, its session is what holds them."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass


def processes_under(leader: int, known: dict[int, int] | None = None) -> dict[int, int]:
    """{pid: start time} of the running processes below leader by parent links, in its session (what
    a process whose parent exited before it was adopted keeps), or in known ({pid: start time}, those
    that have not been replaced by another process with their pid), and those below them; never
    leader itself. Empty where there is no /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    table = {}
    was, _OWN.busy = getattr(_OWN, "busy", False), True  # the probe's own reading: not the handler's
    try:
        for name in names:
            if name.isdigit():
                row = _stat(int(name))
                if row is not None:
                    table[int(name)] = row
    finally:
        _OWN.busy = was
    below: dict[int, list[int]] = {}
    for pid, (parent, _, _, _) in table.items():
        below.setdefault(parent, []).append(pid)
    found = {pid for pid, (_, session, _, _) in table.items() if session == leader}
    found |= {pid for pid, start in (known or {}).items() if pid in table and table[pid][2] == start}
    stack = [leader, *found]
    while stack:
        for pid in below.get(stack.pop(), ()):
            if pid not in found:
                found.add(pid)
                stack.append(pid)
    # A zombie has ended: it runs nothing and cannot be signalled.
    return {pid: table[pid][2] for pid in found if pid != leader and table[pid][3] not in ("Z", "X", "x")}


def end_processes(leader: int, known: dict[int, int] | None = None) -> None:
    """Kill every process under leader (processes_under). Each is stopped first, and the stopping goes
    on until no new one shows: a stopped process starts no other, so a fork loop runs out."""
    stopped: dict[int, int] = {}
    for _ in range(_STOP_ROUNDS):
        new = {pid: start for pid, start in processes_under(leader, {**(known or {}), **stopped}).items()
               if stopped.get(pid) != start}
        if not new:
            break
        for pid, start in new.items():
            signal_process(pid, start, signal.SIGSTOP)
        stopped.update(new)
    for pid, start in stopped.items():
        signal_process(pid, start, signal.SIGKILL)


def signal_process(pid: int, start: int, number: int) -> None:
    """Signal pid if it is still the process that started at start, not another given its number since."""
    row = _stat(pid)
    if row is None or row[2] != start:
        return
    try:
        os.kill(pid, number)
    except OSError:
        pass


def _stat(pid: int) -> tuple[int, int, int, str] | None:
    """(parent pid, session, start time, state) from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            text = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # after the command's name, which may hold anything
    try:
        return int(fields[1]), int(fields[3]), int(fields[19]), fields[0]
    except (IndexError, ValueError):
        return None


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            words = [os.fsdecode(w) for w in stream.read().split(b"\0") if w]
        if not words:
            with open(f"/proc/{pid}/comm", "rb") as stream:
                words = [f"[{os.fsdecode(stream.read().strip())}]"]
    except OSError:
        return "?"
    text = shlex.join(words)
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT - 3] + "..."


class ProcessWatch:
    """The processes the handler left running when a phase ended. Lambda freezes them with the
    environment, and they run again in the next invocation, with what the last one left them.

    processes: [{"pid", "command", "started": the phase after which it was first running,
    "running_after": [phases]}]."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, int], dict[str, Any]] = {}

    def after(self, phase: int) -> None:
        for pid, start in processes_under(os.getpid()).items():
            entry = self._seen.get((pid, start))
            if entry is None:
                entry = self._seen[(pid, start)] = {"pid": pid, "command": _command(pid), "started": phase,
                                                    "running_after": []}
            entry["running_after"].append(phase)

    @property
    def processes(self) -> list[dict[str, Any]]:
        return list(self._seen.values())


# --- what else an invocation leaves in the process -----------------------------------------------

_LINES_KEPT = 400  # lines of output kept per phase
_LINE_LIMIT = 240


class OutputWatch:
    """The lines each phase writes to stdout and stderr (print, logging's stream handlers). As the
    Lambda runtime does, the root logger has a handler before the handler's module is imported (so
    `logging.basicConfig` does nothing there either); it writes `[LEVEL]<tab>request id<tab>message`.

    logs: [[phase, [line, ...], count]]: count lines in all, the first _LINES_KEPT of them kept."""

    def __init__(self) -> None:
        self.lines: dict[int, list[str]] = {}
        self.counts: dict[int, int] = {}
        self._partial: dict[int, str] = {}

    def install(self) -> None:
        import logging

        sys.stdout = _Captured(sys.stdout, self)
        sys.stderr = _Captured(sys.stderr, self)
        runtime = logging.StreamHandler(sys.stdout)
        runtime.setFormatter(logging.Formatter("[%(levelname)s]\t%(aws_request_id)s\t%(message)s"))
        runtime.addFilter(_with_request_id)
        logging.getLogger().addHandler(runtime)

    def written(self, text: str) -> None:
        phase = Phase.current
        if phase < 0:
            return
        *whole, rest = (self._partial.pop(phase, "") + text).split("\n")
        if rest:
            self._partial[phase] = rest
        for line in whole:
            self._add(phase, line)

    def _add(self, phase: int, line: str) -> None:
        self.counts[phase] = self.counts.get(phase, 0) + 1
        kept = self.lines.setdefault(phase, [])
        if len(kept) < _LINES_KEPT:
            kept.append(line if len(line) <= _LINE_LIMIT else line[:_LINE_LIMIT - 3] + "...")

    @property
    def logs(self) -> list[list[Any]]:
        for phase, rest in self._partial.items():
            self._add(phase, rest)  # a last line with no newline
        self._partial.clear()
        return [[phase, self.lines.get(phase, []), count] for phase, count in sorted(self.counts.items())]


def _with_request_id(record: Any) -> bool:
    record.aws_request_id = (f"00000000-0000-4000-8000-{Phase.current - 1:012d}" if Phase.current > 0 else "")
    return True


class _Captured:
    """A stream that tells the watch what is written to it, then writes it on."""

    def __init__(self, stream: Any, watch: OutputWatch) -> None:
        self._stream, self._watch = stream, watch

    def write(self, text: Any) -> int:
        if getattr(_OWN, "busy", False):
            return self._stream.write(text)  # the probe's own
        with own():  # what the stream keeps until it flushes is the runtime's, not the handler's
            if isinstance(text, str):
                self._watch.written(text)
            return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class EnvironmentWatch:
    """The environment variables an invocation leaves changed when it returns: the next invocation,
    and a library that reads the variable on first use, sees them.

    environment: [[phase, name, value before, value after (None: removed), "file:line" that set it]]"""

    def __init__(self, project: str) -> None:
        self.project = project
        self.changes: list[list[Any]] = []
        self._before: dict[str, str] = {}
        self._sites: dict[str, str | None] = {}

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, arguments: tuple[Any, ...]) -> None:
        if event in ("os.putenv", "os.unsetenv") and arguments and Phase.current > 0:
            with own():
                try:
                    name = os.fsdecode(arguments[0])
                except (TypeError, ValueError):
                    return
                self._sites[name] = _project_site(self.project)

    def start(self) -> None:
        self._before, self._sites = dict(os.environ), {}

    def after(self, phase: int) -> None:
        now = dict(os.environ)
        for name in sorted(set(self._before) | set(now)):
            if self._before.get(name) != now.get(name):
                self.changes.append([phase, name, _short(self._before.get(name)), _short(now.get(name)),
                                     self._sites.get(name)])


def _short(text: str | None) -> str | None:
    return text if text is None or len(text) <= 60 else text[:57] + "..."


class UsageWatch:
    """After each phase: the bytes under /tmp the probe did not put there (made by the import or an
    invocation), the process's resident memory, and the memory blocks Python has allocated less those
    of the probe's own records (own()): unlike resident memory, that count does not wait for the
    allocator to ask the system for more.

    usage: [[phase, bytes under /tmp, resident bytes, blocks]]"""

    def __init__(self, files: "FileWatch") -> None:
        self.files = files
        self.rows: list[list[int]] = []

    def after(self, phase: int) -> None:
        """Called once the probe's own work after a phase is done (the handler's garbage was collected
        before it began): what is collected now is the probe's."""
        with own():
            gc.collect()
        blocks = sys.getallocatedblocks() - _Own.blocks
        with own():
            self.rows.append([phase, self.files.bytes_made(), _resident(), blocks])


def _resident() -> int:
    try:
        with open("/proc/self/statm", "rb") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _bytes_under(path: str, skip: tuple[str, ...] = ()) -> int:
    """The sizes of the files at or under path, links not followed."""
    try:
        status = os.lstat(path)
    except OSError:
        return 0
    if not os.path.isdir(path) or os.path.islink(path):
        return status.st_size
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for entry in entries:
        if entry.path in skip:
            continue
        try:
            total += _bytes_under(entry.path, skip) if entry.is_dir(follow_symlinks=False) \
                else entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


class WorkWatch:
    """Threads an invocation started that are still running when a phase ends (idle workers of an
    executor are not: they run nothing), and asyncio tasks of the thread's event loop still pending.
    Lambda freezes them with the environment: they run on in the next invocation, or never.

    work: [{"kind": "thread" | "task", "name", "started": phase, "site": "file:line", "alive_after": [phases]}]"""

    def __init__(self, project: str) -> None:
        self.project = project
        self._records: list[dict[str, Any]] = []
        # Each thread or task to its record, held weakly: the watch keeps nothing alive (the memory
        # watch would count it), and a record is never given to another object that takes its place.
        self._seen: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
        self._at_import: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def imported(self) -> None:
        """Note the tasks pending once the module is imported: not an invocation's."""
        self._at_import.update(_pending_tasks())

    def install(self) -> None:
        original = threading.Thread.start
        project = self.project

        def start(thread: threading.Thread) -> None:
            if not getattr(thread, "_lambda_fix_probe", False):
                thread._lambda_fix_started = (Phase.current, _project_site(project))  # type: ignore[attr-defined]
            original(thread)
        threading.Thread.start = start  # type: ignore[method-assign]

    def after(self, phase: int) -> None:
        frames = sys._current_frames()
        for thread in threading.enumerate():
            started = getattr(thread, "_lambda_fix_started", None)
            if started is None or started[0] < 1 or not thread.is_alive() \
                    or _idle_worker(frames.get(thread.ident or -1)):
                continue
            self._note(thread, "thread", thread.name, started[0], started[1], phase)
        for task in _pending_tasks():
            if task in self._at_import:
                continue  # started by the import: once per environment, on purpose
            coroutine = task.get_coro()
            name = getattr(coroutine, "__qualname__", None) or task.get_name()
            self._note(task, "task", name, phase, _coroutine_site(coroutine, self.project), phase)

    def _note(self, thing: Any, kind: str, name: str, started: int, site: str | None, phase: int) -> None:
        entry = self._seen.get(thing)
        if entry is None:
            entry = {"kind": kind, "name": name, "started": started, "site": site, "alive_after": []}
            self._seen[thing] = entry
            self._records.append(entry)
        entry["alive_after"].append(phase)

    @property
    def work(self) -> list[dict[str, Any]]:
        return list(self._records)


def _idle_worker(frame: Any) -> bool:
    """A thread of an executor waiting for work: no frame of a work item's `run` on its stack."""
    if frame is None:
        return False
    pooled = False
    while frame is not None:
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if path.endswith("concurrent/futures/thread.py"):
            if frame.f_code.co_name == "run":
                return False
            pooled = pooled or frame.f_code.co_name == "_worker"
        frame = frame.f_back
    return pooled


def _pending_tasks() -> list[Any]:
    """The tasks not done of the event loop set for this thread (the one `get_event_loop()` returns
    and `run_until_complete` leaves behind; `asyncio.run` cancels what is left)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return []
    try:
        loop = asyncio.get_event_loop_policy()._local._loop  # without making one
    except AttributeError:
        return []
    if loop is None or loop.is_closed():
        return []
    try:
        return [task for task in asyncio.all_tasks(loop) if not task.done()]
    except RuntimeError:
        return []


def _coroutine_site(coroutine: Any, project: str) -> str | None:
    code = getattr(coroutine, "cr_code", None) or getattr(coroutine, "gi_code", None)
    if code is None:
        return None
    path = os.path.realpath(code.co_filename)
    return f"{path}:{code.co_firstlineno}" if _is_project_code(path, project) else None


# --- a private /tmp ------------------------------------------------------------------------------

_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000
_MNT_DETACH = 2


def private_tmp(directory: str, needed: list[str]) -> tuple[str, ...] | None:
    """Make directory this process's /tmp, as a new execution environment has a /tmp of its own that
    no other writes to (TMPDIR alone does not cover code that writes the literal `/tmp`, nor the
    programs it starts): a mount namespace of its own (in a user namespace of its own unless it runs as
    root), directory bound onto /tmp, and the entries of the machine's /tmp that needed paths are in
    (the project, the probe's scratch, the interpreter) bound back at their places. Returns those
    entries, or None where the platform does not allow it (not Linux; namespaces refused, as a
    container's default seccomp profile does) or the project is /tmp itself: the process then shares
    the machine's /tmp. Raises PrivateTmpError when the namespaces were made but /tmp could not be.
    Call it before any thread starts (the kernel refuses a new namespace to a process with threads)."""
    if not sys.platform.startswith("linux") or os.path.realpath("/tmp") != "/tmp":
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None
    reals = [os.path.realpath(p) for p in needed if p]
    if "/tmp" in reals:
        return None  # the project (or the interpreter) is /tmp itself: it cannot be bound back into one
    tops = sorted({os.path.join("/tmp", os.path.relpath(p, "/tmp").split(os.sep)[0])
                   for p in reals if _within(p, "/tmp")})
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWNS | (0 if uid == 0 else _CLONE_NEWUSER)) != 0:
        return None
    # From here on the process is in namespaces of its own and cannot go back: a failure is the
    # probe's error (PrivateTmpError), never a silent fall back to a half-made /tmp.
    try:
        if uid != 0:  # the same ids inside, so the project's files keep their owner
            if os.path.exists("/proc/self/setgroups"):
                _write_text("/proc/self/setgroups", "deny")
            _write_text("/proc/self/uid_map", f"{uid} {uid} 1")
            _write_text("/proc/self/gid_map", f"{gid} {gid} 1")

        def mount(source: str | None, target: str, flags: int) -> None:
            if libc.mount(source.encode() if source else None, target.encode(), None, flags, None) != 0:
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error), target)

        mount(None, "/", _MS_REC | _MS_PRIVATE)  # nothing mounted here reaches the machine's namespace
        machine_tmp = os.open("/tmp", os.O_PATH | os.O_DIRECTORY)
        try:
            mount(directory, "/tmp", _MS_BIND)
            try:
                for top in tops:
                    name = os.path.basename(top)
                    if os.path.isdir(f"/proc/self/fd/{machine_tmp}/{name}"):
                        os.makedirs(top, exist_ok=True)
                    else:
                        open(top, "ab").close()
                    mount(f"/proc/self/fd/{machine_tmp}/{name}", top, _MS_BIND | _MS_REC)
            except OSError:
                libc.umount2(b"/tmp", _MNT_DETACH)
                raise
        finally:
            os.close(machine_tmp)
    except OSError as exc:
        raise PrivateTmpError(f"cannot give the handler a /tmp of its own: {exc}") from None
    return tuple(tops)


class PrivateTmpError(Exception):
    """The process entered namespaces of its own, then could not make its /tmp."""


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as stream:
        stream.write(text)


# --- the run --------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    request_path, output = argv
    with open(request_path, encoding="utf-8") as stream:
        request = json.load(stream)
    global _LEADER
    _LEADER = os.getpid()
    if request.get("private_tmp"):
        needed = [request["root"], request["scratch"], os.path.dirname(output), sys.prefix, sys.base_prefix,
                  sys.exec_prefix, os.path.dirname(_THIS_FILE), os.getcwd(), *sys.path[1:]]
        try:
            kept = private_tmp(request["private_tmp"], needed)
        except PrivateTmpError as exc:
            _write(output, {"private_tmp_error": str(exc)})
            return 0
        if kept is not None:
            request.update(tmpdir="/tmp", kept=list(kept), private=True)
            os.environ["TMPDIR"] = "/tmp"
    adopt_orphans()
    try:
        return _probe(request, output)
    finally:
        if os.getpid() == _LEADER:  # a forked copy would stop itself and what the handler still runs
            end_processes(_LEADER)  # as the end of an execution environment ends what it started


def _probe(request: dict[str, Any], output: str) -> int:
    sys.path[0] = request["root"]  # not lambda-fix's package directory, whose modules would shadow the project's
    events = request["events"]
    root = request["root"]
    state, clients = StateWatch(root), ClientWatch(request["factories"], root)
    files = FileWatch(request["tmpdir"], request["scratch"], root, tuple(request.get("kept", ())))
    output_watch, environment, work = OutputWatch(), EnvironmentWatch(root), WorkWatch(root)
    output_watch.install()
    environment.install()
    work.install()
    # A new environment after a timeout or an exit: Lambda keeps /tmp, so what the last one made is known.
    files.files.update({entry["path"]: entry for entry in request.get("known_files", ())})
    files.install()
    clients.install()
    try:
        if request.get("setup"):
            importlib.import_module(request["setup"])
    except BaseException:  # noqa: BLE001 - whatever stops the setup is the report
        _write(output, {"setup_error": traceback.format_exc(limit=-3).strip()})
        return 0
    try:
        module = importlib.import_module(request["module"])
        handler = getattr(module, request["function"])
    except BaseException:  # noqa: BLE001 - whatever stops the import is the report
        _write(output, {"import_error": traceback.format_exc(limit=-3).strip()})
        return 0
    state.snapshot(0)
    processes = ProcessWatch()
    processes.after(0)
    invocations: list[dict[str, object]] = []
    usage = UsageWatch(files)
    usage.after(0)
    work.imported()

    def report(ended: int | None = None) -> None:
        for record in clients.built:
            record.pop("_keep", None)
        files.settle()
        document = {"invocations": invocations, "state": state.state, "files": list(files.files.values()),
                    "clients": clients.built, "processes": processes.processes, "logs": output_watch.logs,
                    "environment": environment.changes, "usage": usage.rows, "work": work.work,
                    "private_tmp": bool(request.get("private"))}
        _write(output, {**document, "ended": ended} if ended is not None else document)

    timeout_ms = int(request.get("timeout_ms", 30_000))
    for number, index in request["plan"]:
        with own():
            Phase.current, Phase.event = number + 1, events[index]
            files.at_start(Phase.current)
            clients.at_start(state.project_modules())
            record: dict[str, object] = {"number": number, "event": index}
            context = LambdaContext(number, timeout_ms)
            # A new event each time, as the runtime decodes one per invocation: a handler that changes
            # its event must not find the change when the same event comes again.
            event = json.loads(json.dumps(events[index]))
            # As Lambda does, an invocation that runs past the timeout ends the execution environment: the
            # watchdog reports what was seen so far and ends the process (the handler's thread cannot be
            # stopped).
            started = time.perf_counter()
            watchdog = threading.Timer(timeout_ms / 1000, _timed_out,
                                       (record, invocations, started, timeout_ms, report))
            watchdog.daemon = True
            watchdog._lambda_fix_probe = True  # type: ignore[attr-defined]
            environment.start()
            watchdog.start()
            gc.collect()  # the garbage of the probe's own work, before the handler makes its own
        exited, status = False, 0
        try:
            result = handler(event, context)
            elapsed = time.perf_counter() - started
            with own():
                record["result"] = json.loads(json.dumps(result, sort_keys=True, default=repr))
            # What the handler keeps, not what it returned, is what the memory watch counts: freed
            # outside own(), as the handler allocated it.
            del result
        except Exception as exc:  # noqa: BLE001 - an invocation that raises is a result too
            elapsed = time.perf_counter() - started
            record["error"] = f"{type(exc).__name__}: {exc}"
            status = 1
        except SystemExit as exc:  # the runtime's process ends, and with it the environment
            elapsed = time.perf_counter() - started
            record["error"] = f"Runtime.ExitError: the handler exited (sys.exit({exc.code!r}))"
            exited = True
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        gc.collect()  # what the handler left for the collector, before the probe's own work makes more
        if os.getpid() != _LEADER:
            # A copy of this process the handler forked has come back out of it: it ends as a forked child
            # that runs off the end of its code, and runs no further invocation.
            os._exit(status)
        with own():
            with _FINISHING:  # the invocation is over, unless the watchdog said so first (it then ends the process)
                watchdog.cancel()
                record["ms"] = round(elapsed * 1000, 3)
                invocations.append(record)
            if exited:
                report(ended=number)
                return 0
            watchdog.join()
            del context, event
            processes.after(number + 1)
            environment.after(number + 1)
            work.after(number + 1)
            Phase.current = -1  # between invocations: what the watches see now is the probe's own
            state.snapshot(number + 1)
        usage.after(number + 1)
    report()
    return 0


_FINISHING = threading.Lock()


def _timed_out(record: dict[str, object], invocations: list[dict[str, object]], started: float, timeout_ms: int,
               report: Callable[..., None]) -> None:
    with _FINISHING:
        if "ms" in record:
            return  # it returned in time after all
        record["error"] = f"Task timed out after {timeout_ms / 1000:.2f} seconds"
        record["ms"] = round((time.perf_counter() - started) * 1000, 3)
        invocations.append(record)
        try:
            report(ended=record["number"])
            end_processes(_LEADER)
        finally:
            os._exit(0)


_LEADER = 0  # the pid of the process that runs the probe, not of a copy the handler forked


def _write(path: str, document: dict[str, object]) -> None:
    if os.getpid() != _LEADER:
        return  # a forked copy of the probe does not speak for it
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, default=repr)


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # Not the interpreter's own exit, which waits for the threads the handler left running: an
    # execution environment is frozen once its handler returns, and nothing waits for them.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
