"""`lambda-fix server`: a language server over stdio (pygls). The editor's buffer is checked, not the
file on disk, a moment after the typing stops, as `lambda-fix FILE` would check it (engine.check_buffer:
its settings, the templates above it, its project's other files, the other open buffers before the
disk). The projects are kept between checks (session.py): an edit parses the buffer again, not its
project. Checks run one at a time on a thread of their own, in order, and a check of a version the
editor has moved on from is not made.

Each finding is a diagnostic with its code, the rule's page, the range of the node, the handler and
the calls that lead there as related locations, and whether its fix is safe. Code actions: the fix
of a finding (safe ones preferred; unsafe ones only when the client's `unsafeFixes` setting allows
them, titled as unsafe), a suppression comment on the finding's line (offered when it does silence the
finding), and `source.fixAll.lambda-fix` (the safe fixes, or all with `unsafeFixes`). Edits carry the
document's version, so a client applies none to a buffer that has changed since. Nothing here runs the
project's code on its own: the probe runs through the `lambda-fix.probe` command, when the user asks.

Settings: the project's pyproject.toml (read again when one is saved), then the client's
initialization options, or its settings when they change (`workspace/didChangeConfiguration`,
under "lambda-fix"): {"unsafeFixes": bool, "select": [...], "ignore": [...]}.
"""

from __future__ import annotations

import asyncio
import difflib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import __version__
from .config import ConfigError, Settings
from .model import Applicability, FileResult, Finding, Fix, Status
from .session import Session

DEBOUNCE = 0.05  # seconds without an edit before a changed buffer is checked
# Seconds without an edit before the other open buffers, whose handlers may reach the one edited, are
# checked again: later than the buffer edited, so that their checks do not delay its own.
OTHERS_DEBOUNCE = 0.5
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.lambda-fix"
PROBE = "lambda-fix.probe"  # the command that runs the probe on a handler, when the user asks
_SOURCE = "lambda-fix"
T = TypeVar("T")
_DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"  # in a source checkout


@dataclass
class Checked:
    """The last check of a buffer, at the version it was made for. The diagnostics come from a check
    without the fixes (most of the cost is building and verifying them); the fixes are computed when
    code actions are first asked for at that version, and kept, as are the checks the code actions
    make (editors ask for them at every move of the cursor)."""

    version: int | None
    text: str
    result: FileResult
    with_fixes: bool = False  # result holds each fix's edits and the fixed source
    suppressions: dict[int, lsp.TextEdit | None] = field(default_factory=dict)  # by the finding's index
    # Other modules checked with their fixes, by path and the text checked.
    elsewhere: dict[tuple[str, str], FileResult] = field(default_factory=dict)


class LambdaFixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(_SOURCE, __version__)
        self.flags: dict[str, Any] = {}
        self.settings = Settings()
        self.checked: dict[str, Checked] = {}
        # Checks waiting for the typing to pause, by URI, and whether each is for another buffer's edit.
        self.pending: dict[str, tuple[asyncio.TimerHandle, bool]] = {}
        self.edits = 0  # buffers' changes so far
        self.session = Session()  # used from the checks' thread only
        self.checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-fix-check")

    async def in_order(self, work: Callable[..., T], *arguments: Any) -> T:
        """work(*arguments) on the checks' thread, after what was asked of it before."""
        return await asyncio.get_running_loop().run_in_executor(self.checks, work, *arguments)

    def current(self, uri: str, version: int | None) -> bool:
        return self.workspace.get_text_document(uri).version == version

    @property
    def applies_edits(self) -> bool:
        """Does the client apply a workspace edit a code action holds, in any file (it declares
        `workspaceEdit`)? The plain form (`changes`) names each file by URI."""
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.workspace_edit)

    @property
    def versioned_edits(self) -> bool:
        """Does the client take edits for a version of a document (it declares `documentChanges`), and
        refuse them once the buffer has changed?"""
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes)

    def configure(self, options: Any) -> None:
        """The client's initialization options, over the projects' settings."""
        options = options if isinstance(options, dict) else {}
        flags: dict[str, Any] = {}
        if isinstance(options.get("unsafeFixes"), bool):
            flags["unsafe_fixes"] = options["unsafeFixes"]
        for key in ("select", "ignore"):
            value = options.get(key)
            if isinstance(value, list) and all(isinstance(code, str) for code in value):
                flags[key] = tuple(code.strip().upper() for code in value)
        self.flags = flags
        self.settings = Settings(flags=flags)

    def schedule(self, uri: str, delay: float = DEBOUNCE, for_another: bool = False) -> None:
        """Check uri once the edits have paused for delay seconds (at once for 0). for_another: because
        another buffer was edited; such a check is dropped when yet another edit comes before the
        checks' thread reaches it (that edit schedules it again), so that it never holds up the check
        of the buffer being typed in."""
        waiting = self.pending.get(uri)
        if waiting is not None and for_another and not waiting[1]:
            return  # its own check is waiting already, and checks for all that changed
        if waiting is not None:
            waiting[0].cancel()
        loop = asyncio.get_running_loop()
        edits = self.edits if for_another else None
        self.pending[uri] = (loop.call_later(delay, lambda: loop.create_task(self.check(uri, edits))), for_another)

    async def check(self, uri: str, edits: int | None = None) -> None:
        self.pending.pop(uri, None)
        document = self.workspace.get_text_document(uri)
        if not document.path or not document.path.endswith((".py", ".pyi")):
            return
        version, text, path = document.version, document.source, document.path

        def check_if_current() -> FileResult | None:
            # Asked when the thread comes to it: a version edited since is not checked (its own follows),
            # nor a check for an edit of another buffer that has been edited again.
            if not self.current(uri, version) or edits not in (None, self.edits):
                return None
            return _check(self.session, path, text, self.settings, False)

        result = await self.in_order(check_if_current)
        if result is None or not self.current(uri, version):
            return
        self.checked[uri] = Checked(version, text, result)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics(result, text)))

    def buffer_changed(self, uri: str, closed: bool = False) -> None:
        """The session reads the buffer's text from now on (the file's once it is closed)."""
        document = self.workspace.get_text_document(uri)
        if document.path:
            self.checks.submit(self.session.edited, document.path, None if closed else document.source)

    def forget(self, uri: str) -> None:
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting[0].cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _check(session: Session, path: str, text: str, settings: Settings, fixes: bool = True,
           trial: bool = False) -> FileResult:
    """On the checks' thread. trial: text is not the buffer's (a suppression tried): the buffer's own
    is what the session reads again afterwards."""
    try:
        return session.check(path, text, settings, fixes, trial=trial)
    except ConfigError as exc:
        return FileResult(path, Status.FAILED, error=str(exc))


server = LambdaFixServer()


@server.feature(lsp.INITIALIZE)
def _initialize(ls: LambdaFixServer, params: lsp.InitializeParams) -> None:
    ls.configure(params.initialization_options)
    folders = [folder.uri for folder in params.workspace_folders or ()] or [params.root_uri or ""]
    ls.session = Session(tuple(path for path in map(to_fs_path, folders) if path))


@server.feature(lsp.INITIALIZED)
async def _initialized(ls: LambdaFixServer, params: lsp.InitializedParams) -> None:
    """Ask to hear of changes to the project's files on disk, where the client can watch them."""
    workspace = ls.client_capabilities.workspace
    watching = workspace.did_change_watched_files if workspace else None
    if watching is not None and watching.dynamic_registration:
        watchers = [lsp.FileSystemWatcher(glob_pattern=pattern) for pattern in _WATCHED]
        await ls.client_register_capability_async(lsp.RegistrationParams(registrations=[lsp.Registration(
            id="lambda-fix-watched-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))


# What a check reads besides the buffers: the project's modules, its settings and its templates.
_WATCHED = ("**/*.py", "**/pyproject.toml", "**/template.yaml", "**/template.yml", "**/serverless.yml")


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: LambdaFixServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.buffer_changed(params.text_document.uri)
    ls.schedule(params.text_document.uri, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: LambdaFixServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.edits += 1
    ls.buffer_changed(params.text_document.uri)
    ls.schedule(params.text_document.uri)
    # The handlers of other open modules may reach this one: their findings may change too.
    for uri in list(ls.checked):
        if uri != params.text_document.uri:
            ls.schedule(uri, OTHERS_DEBOUNCE, for_another=True)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: LambdaFixServer, params: lsp.DidSaveTextDocumentParams) -> None:
    if params.text_document.uri.endswith("/pyproject.toml"):
        ls.settings = Settings(flags=ls.flags)  # read again on the next check
        for uri in list(ls.checked):
            ls.schedule(uri, 0)
    else:
        ls.schedule(params.text_document.uri, 0)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def _files_changed(ls: LambdaFixServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    if any(change.uri.endswith(("/pyproject.toml", "/template.yaml", "/template.yml", "/serverless.yml"))
           for change in params.changes):
        ls.settings = Settings(flags=ls.flags)
    paths = [ls.workspace.get_text_document(change.uri).path for change in params.changes]
    created_or_deleted = any(change.type != lsp.FileChangeType.Changed for change in params.changes)
    ls.checks.submit(ls.session.files_changed, [p for p in paths if p], created_or_deleted)
    for uri in list(ls.checked):
        ls.schedule(uri)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def _configuration_changed(ls: LambdaFixServer, params: lsp.DidChangeConfigurationParams) -> None:
    """The client's settings, whole (`{"lambda-fix": {...}}`) or ours alone: taken, and every open
    buffer checked again."""
    settings = params.settings if isinstance(params.settings, dict) else {}
    ls.configure(settings.get("lambda-fix", settings))
    for uri in list(ls.checked):
        ls.schedule(uri, 0)


@server.command(PROBE)
async def _probe(ls: LambdaFixServer, *arguments: Any) -> str:
    """Runs the probe on a handler, when the user asks (never on its own: it runs the project's code).
    Arguments: the module's URI, the handler's name, and a JSON file of events (an array, or one event).
    Returns the probe's report as text."""
    if len(arguments) != 3 or not all(isinstance(a, str) for a in arguments):
        return "lambda-fix.probe takes the module's URI, the handler's name and an events file"
    uri, function, events_file = arguments
    path = ls.workspace.get_text_document(uri).path
    if not path:
        return f"{uri}: not a file"
    return await asyncio.get_running_loop().run_in_executor(None, _run_probe, path, function, events_file)


def _run_probe(path: str, function: str, events_file: str) -> str:
    from . import probe, probe_report

    try:
        try:
            events, names = probe.load_events(events_file, ())
        except probe.ProbeError:
            events, names = probe.load_events(None, (events_file,))  # one event, as SAM's events/*.json
        module = os.path.splitext(os.path.basename(path))[0]
        report = probe.probe(f"{module}:{function}", events, names, root=os.path.dirname(path))
    except probe.ProbeError as exc:
        return f"lambda-fix probe: error: {exc}"
    return probe_report.render_text(report)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: LambdaFixServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.buffer_changed(params.text_document.uri, closed=True)
    ls.forget(params.text_document.uri)
    for uri in list(ls.checked):  # they read the file on disk now, not the buffer
        ls.schedule(uri, OTHERS_DEBOUNCE)


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
    code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll, FIX_ALL]))
async def _code_actions(ls: LambdaFixServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    checked = ls.checked.get(uri)
    if checked is None or not ls.current(uri, checked.version):
        return []  # not checked at this version yet: an edit made now would land in the wrong place
    actions = await ls.in_order(_actions, ls, uri, checked, params)
    return actions if ls.current(uri, checked.version) else []


def _actions(ls: LambdaFixServer, uri: str, checked: Checked, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """On the checks' thread: the fixes are computed here, the first time they are asked for at a version."""
    if not checked.with_fixes and any(f.fix is not None for f in checked.result.findings):
        path = ls.workspace.get_text_document(uri).path
        checked.result, checked.with_fixes = _check(ls.session, path, checked.text, ls.settings, True), True
    wanted = params.context.only
    unsafe = bool(ls.flags.get("unsafe_fixes"))
    actions: list[lsp.CodeAction] = []
    if not wanted or any(kind in (lsp.CodeActionKind.QuickFix,) for kind in wanted):
        for diagnostic in params.context.diagnostics:
            finding = _finding_of(checked, diagnostic)
            if finding is not None:
                actions += _quick_fixes(ls, uri, checked, finding, diagnostic, unsafe)
    if not wanted or any(str(kind) in (lsp.CodeActionKind.SourceFixAll.value, FIX_ALL, lsp.CodeActionKind.Source.value)
                         for kind in wanted):
        fixed = _fix_all(ls, uri, checked, unsafe)
        if fixed is not None:
            actions.append(fixed)
    return actions


# --- diagnostics ----------------------------------------------------------------------------------

def diagnostics(result: FileResult, text: str) -> list[lsp.Diagnostic]:
    lines = text.splitlines()
    if result.status is Status.FAILED:
        return [lsp.Diagnostic(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), source=_SOURCE,
                               severity=lsp.DiagnosticSeverity.Error, message=result.error or "not checked")]
    found = []
    for index, finding in enumerate(result.findings):
        fix = finding.fix
        safety = ("" if fix is None else " (fix: safe)" if fix.applicability is Applicability.SAFE
                  else " (fix: unsafe)")
        page = _DOCS / f"{finding.code}.md"
        found.append(lsp.Diagnostic(
            range=_range(lines, finding), message=finding.message + safety, source=_SOURCE, code=finding.code,
            severity=lsp.DiagnosticSeverity.Warning,
            code_description=lsp.CodeDescription(href=page.as_uri()) if page.is_file() else None,
            related_information=[lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=Path(path).resolve().as_uri(),
                                      range=lsp.Range(lsp.Position(max(line - 1, 0), 0),
                                                      lsp.Position(max(line - 1, 0), 0))),
                message=what) for path, line, what in finding.related] or None,
            data={"index": index, "code": finding.code, "line": finding.line}))
    return found


def _range(lines: list[str], finding: Finding) -> lsp.Range:
    start = _position(lines, finding.line, finding.column)
    if finding.end_line:
        end = _position(lines, finding.end_line, finding.end_column)
    else:
        end = lsp.Position(start.line, _utf16(lines[start.line] if start.line < len(lines) else "",
                                              len(lines[start.line]) if start.line < len(lines) else 0))
    return lsp.Range(start, end)


def _position(lines: list[str], line: int, column: int) -> lsp.Position:
    """1-based line, 1-based column in characters -> LSP's 0-based line and UTF-16 column."""
    index = max(line - 1, 0)
    text = lines[index] if index < len(lines) else ""
    return lsp.Position(index, _utf16(text, max(column - 1, 0)))


def _utf16(text: str, characters: int) -> int:
    return len(text[:characters].encode("utf-16-le")) // 2


# --- code actions ---------------------------------------------------------------------------------

def _finding_of(checked: Checked, diagnostic: lsp.Diagnostic) -> Finding | None:
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    index = data.get("index")
    if diagnostic.source != _SOURCE or not isinstance(index, int) or not 0 <= index < len(checked.result.findings):
        return None
    finding = checked.result.findings[index]
    return finding if finding.code == data.get("code") and finding.line == data.get("line") else None


def _quick_fixes(ls: LambdaFixServer, uri: str, checked: Checked, finding: Finding, diagnostic: lsp.Diagnostic,
                 unsafe: bool) -> list[lsp.CodeAction]:
    actions = []
    fix = finding.fix
    if fix is not None and fix.edits and (fix.applicability is Applicability.SAFE or unsafe):
        actions.append(_fix_action(ls, fix, uri, checked.version, checked.text, diagnostic))
    elif fix is None:
        actions += _fixes_elsewhere(ls, checked, finding, diagnostic, unsafe)
    index = checked.result.findings.index(finding)
    if index not in checked.suppressions:
        checked.suppressions[index] = _suppression(ls.session, checked, finding, ls.settings)
    suppressed = checked.suppressions[index]
    if suppressed is not None:
        actions.append(lsp.CodeAction(title=f"lambda-fix: ignore {finding.code} on this line",
                                      kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                      edit=_edit(ls, uri, checked.version, [suppressed])))
    return actions


def _fix_action(ls: LambdaFixServer, fix: Fix, uri: str, version: int | None, text: str,
                diagnostic: lsp.Diagnostic, where: str = "") -> lsp.CodeAction:
    lines = text.splitlines()
    edits = [lsp.TextEdit(range=lsp.Range(_position(lines, e.start_line, e.start_column),
                                          _position(lines, e.end_line, e.end_column)), new_text=e.content)
             for e in fix.edits]
    title = f"lambda-fix: {fix.title}{where}" + ("" if fix.applicability is Applicability.SAFE
                                                 else " (unsafe: it may change behaviour the analysis cannot see)")
    return lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                          is_preferred=fix.applicability is Applicability.SAFE, edit=_edit(ls, uri, version, edits))


def _fixes_elsewhere(ls: LambdaFixServer, checked: Checked, finding: Finding, diagnostic: lsp.Diagnostic,
                     unsafe: bool) -> list[lsp.CodeAction]:
    """A finding whose fix is made in another module (a client built in a helper the handler calls):
    that module is checked as `lambda-fix OTHER` would, and the fix of the same finding there, at the
    place this one names, is offered as an edit of that file, when the client applies workspace edits.
    Else the action is shown disabled, saying which file it changes, where the client can show that."""
    here = ls.session.real(finding.path)
    places: dict[str, set[int]] = {}
    for path, line, _ in finding.related:
        if ls.session.real(path) != here:
            places.setdefault(path, set()).add(line)
    text_document = ls.client_capabilities.text_document
    can_disable = bool(text_document and text_document.code_action and text_document.code_action.disabled_support)
    actions = []
    for path, lines in places.items():
        text = ls.session.read(path)
        if text is None or not path.endswith((".py", ".pyi")):
            continue
        # The editor's document of that file, by where it really is (its URI may be spelled otherwise):
        # its version is read with its text, so a client that checks versions refuses the edit if the
        # buffer changes before it is applied.
        real = ls.session.real(path)
        open_document = next((d for d in list(ls.workspace.text_documents.values())
                              if d.path and ls.session.real(d.path) == real), None)
        if open_document is not None and open_document.source != text:
            continue  # edited since the session last heard: its own check follows, and asks again
        uri = open_document.uri if open_document else Path(os.path.abspath(path)).as_uri()
        version = open_document.version if open_document else None
        there = checked.elsewhere.get((path, text))
        if there is None:
            there = checked.elsewhere[path, text] = _check(ls.session, path, text, ls.settings, True)
        for other in there.findings:
            fix = other.fix
            if (other.code != finding.code or other.line not in lines or fix is None or not fix.edits
                    or not (fix.applicability is Applicability.SAFE or unsafe)):
                continue
            where = f" (in {os.path.relpath(path, os.path.dirname(finding.path))})"
            if ls.applies_edits:
                actions.append(_fix_action(ls, fix, uri, version, text, diagnostic, where))
            elif can_disable:
                actions.append(lsp.CodeAction(
                    title=f"lambda-fix: {fix.title}{where}", kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic], disabled=lsp.CodeActionDisabled(
                        reason=f"the fix changes {path}: open it and apply the fix there")))
    return actions


def _suppression(session: Session, checked: Checked, finding: Finding, settings: Settings) -> lsp.TextEdit | None:
    """`# lambda-fix: ignore[CODE]` at the end of the finding's line, when that silences it (a rule
    may read its suppression on another line: then nothing is offered)."""
    lines = checked.text.splitlines(keepends=True)
    index = finding.line - 1
    if not 0 <= index < len(lines):
        return None
    body = lines[index].rstrip("\r\n")
    ending = lines[index][len(body):]
    comment = f"  # lambda-fix: ignore[{finding.code}]"
    candidate = "".join([*lines[:index], body + comment + ending, *lines[index + 1:]])
    again = _check(session, finding.path, candidate, settings, fixes=False, trial=True)
    if any(f.code == finding.code and f.line == finding.line for f in again.findings):
        return None
    end = lsp.Position(index, _utf16(body, len(body)))
    return lsp.TextEdit(range=lsp.Range(end, end), new_text=comment)


def _fix_all(ls: LambdaFixServer, uri: str, checked: Checked, unsafe: bool) -> lsp.CodeAction | None:
    new = checked.result.new_source
    if checked.result.status is not Status.CHANGED or new is None or new == checked.text:
        return None
    if unsafe is False and any(f.fix is not None and f.applied and f.fix.applicability is Applicability.UNSAFE
                               for f in checked.result.findings):
        return None  # the new source holds an unsafe fix the user did not allow
    return lsp.CodeAction(title="lambda-fix: fix all", kind=FIX_ALL,
                          edit=_edit(ls, uri, checked.version, line_edits(checked.text, new)))


def line_edits(old: str, new: str) -> list[lsp.TextEdit]:
    """The smallest edits by whole lines that turn old into new."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    edits = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(lsp.TextEdit(range=lsp.Range(_line_start(before, i1), _line_start(before, i2)),
                                      new_text="".join(after[j1:j2])))
    return edits


def _line_start(lines: list[str], index: int) -> lsp.Position:
    """Where line index starts; past a last line without a newline, where that line ends."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return lsp.Position(index, 0)
    return lsp.Position(len(lines) - 1, _utf16(lines[-1], len(lines[-1])))


def _edit(ls: LambdaFixServer, uri: str, version: int | None, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    """For the version of the document the edits were made for, where the client takes that (a file
    not open has none: null); else in the plain form."""
    if not ls.versioned_edits:
        return lsp.WorkspaceEdit(changes={uri: edits})
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits)])


def main() -> None:
    server.start_io()
