"""`lambda-fix server`: a language server over stdio (pygls). The editor's buffer is checked, not the
file on disk, a moment after the typing stops, as a run over the project would check it
(engine.check_buffer: its settings, the templates above it, the other open buffers before the disk).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from . import __version__
from .config import ConfigError, Settings
from .model import Applicability, FileResult, Finding, Status

DEBOUNCE = 0.1  # seconds without an edit before a changed buffer is checked
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.lambda-fix"
PROBE = "lambda-fix.probe"  # the command that runs the probe on a handler, when the user asks
_SOURCE = "lambda-fix"
_DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"  # in a source checkout


@dataclass
class Checked:
    """The last check of a buffer, at the version it was made for. The diagnostics come from a check
    without the fixes (most of the cost is building and verifying them); the fixes are computed when
    code actions are first asked for at that version, and kept."""

    version: int | None
    text: str
    result: FileResult
    with_fixes: bool = False  # result holds each fix's edits and the fixed source


class LambdaFixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(_SOURCE, __version__)
        self.flags: dict[str, Any] = {}
        self.settings = Settings()
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}

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

    def schedule(self, uri: str, delay: float = DEBOUNCE) -> None:
        """Check uri once the edits have paused for delay seconds (at once for 0)."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        loop = asyncio.get_running_loop()
        self.pending[uri] = loop.call_later(delay, lambda: loop.create_task(self.check(uri)))

    async def check(self, uri: str) -> None:
        self.pending.pop(uri, None)
        document = self.workspace.get_text_document(uri)
        if not document.path or not document.path.endswith((".py", ".pyi")):
            return
        version, text = document.version, document.source
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, _check, document.path, text, self.settings, self.overlay(uri),
                                            False)
        if self.workspace.get_text_document(uri).version != version:
            return  # edited again meanwhile: that version's check follows
        self.checked[uri] = Checked(version, text, result)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics(result, text)))

    def overlay(self, uri: str) -> dict[str, str]:
        """The other open buffers, by path: what the check of uri reads instead of their files."""
        return {d.path: d.source for d in self.workspace.text_documents.values() if d.path and d.uri != uri}

    def forget(self, uri: str) -> None:
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _check(path: str, text: str, settings: Settings, overlay: dict[str, str], fixes: bool = True) -> FileResult:
    from .engine import check_buffer

    try:
        return check_buffer(path, text, settings, overlay, fixes=fixes)
    except ConfigError as exc:
        return FileResult(path, Status.FAILED, error=str(exc))


server = LambdaFixServer()


@server.feature(lsp.INITIALIZE)
def _initialize(ls: LambdaFixServer, params: lsp.InitializeParams) -> None:
    ls.configure(params.initialization_options)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: LambdaFixServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: LambdaFixServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)
    # The handlers of other open modules may reach this one: their findings may change too.
    for uri in list(ls.checked):
        if uri != params.text_document.uri:
            ls.schedule(uri)


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
    if any(change.uri.endswith(("/pyproject.toml", "/template.yaml", "/template.yml")) for change in params.changes):
        ls.settings = Settings(flags=ls.flags)
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
    ls.forget(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
    code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll, FIX_ALL]))
async def _code_actions(ls: LambdaFixServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    checked = ls.checked.get(uri)
    if checked is None or ls.workspace.get_text_document(uri).version != checked.version:
        return []  # not checked at this version yet: an edit made now would land in the wrong place
    if not checked.with_fixes and any(f.fix is not None for f in checked.result.findings):
        path = ls.workspace.get_text_document(uri).path
        fixed = await asyncio.get_running_loop().run_in_executor(None, _check, path, checked.text, ls.settings,
                                                                 ls.overlay(uri), True)
        if ls.workspace.get_text_document(uri).version != checked.version:
            return []
        checked.result, checked.with_fixes = fixed, True
    wanted = params.context.only
    unsafe = bool(ls.flags.get("unsafe_fixes"))
    actions: list[lsp.CodeAction] = []
    if not wanted or any(kind in (lsp.CodeActionKind.QuickFix,) for kind in wanted):
        for diagnostic in params.context.diagnostics:
            finding = _finding_of(checked, diagnostic)
            if finding is not None:
                actions += _quick_fixes(uri, checked, finding, diagnostic, unsafe, ls.settings)
    if not wanted or any(str(kind) in (lsp.CodeActionKind.SourceFixAll.value, FIX_ALL, lsp.CodeActionKind.Source.value)
                         for kind in wanted):
        fixed = _fix_all(uri, checked, unsafe)
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


def _quick_fixes(uri: str, checked: Checked, finding: Finding, diagnostic: lsp.Diagnostic,
                 unsafe: bool, settings: Settings) -> list[lsp.CodeAction]:
    actions = []
    fix = finding.fix
    if fix is not None and fix.edits and (fix.applicability is Applicability.SAFE or unsafe):
        lines = checked.text.splitlines()
        edits = [lsp.TextEdit(range=lsp.Range(_position(lines, e.start_line, e.start_column),
                                              _position(lines, e.end_line, e.end_column)), new_text=e.content)
                 for e in fix.edits]
        title = f"lambda-fix: {fix.title}" + ("" if fix.applicability is Applicability.SAFE
                                              else " (unsafe: it may change behaviour the analysis cannot see)")
        actions.append(lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                      is_preferred=fix.applicability is Applicability.SAFE,
                                      edit=_edit(uri, checked.version, edits)))
    suppressed = _suppression(checked, finding, settings)
    if suppressed is not None:
        actions.append(lsp.CodeAction(title=f"lambda-fix: ignore {finding.code} on this line",
                                      kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                      edit=_edit(uri, checked.version, [suppressed])))
    return actions


def _suppression(checked: Checked, finding: Finding, settings: Settings) -> lsp.TextEdit | None:
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
    again = _check(finding.path, candidate, settings, {}, fixes=False)
    if any(f.code == finding.code and f.line == finding.line for f in again.findings):
        return None
    end = lsp.Position(index, _utf16(body, len(body)))
    return lsp.TextEdit(range=lsp.Range(end, end), new_text=comment)


def _fix_all(uri: str, checked: Checked, unsafe: bool) -> lsp.CodeAction | None:
    new = checked.result.new_source
    if checked.result.status is not Status.CHANGED or new is None or new == checked.text:
        return None
    if unsafe is False and any(f.fix is not None and f.applied and f.fix.applicability is Applicability.UNSAFE
                               for f in checked.result.findings):
        return None  # the new source holds an unsafe fix the user did not allow
    return lsp.CodeAction(title="lambda-fix: fix all", kind=FIX_ALL,
                          edit=_edit(uri, checked.version, line_edits(checked.text, new)))


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


def _edit(uri: str, version: int | None, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits)])


def main() -> None:
    server.start_io()
