"""`lambda-fix server`, driven by a real LSP client over stdio (pytest-lsp): diagnostics from the
buffer, quick fixes whose edits give what `lambda-fix FILE` writes, suppression, fix-all, a file that
does not parse, and settings from the client."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from lambda_fix import Config, check_source
from lambda_fix.server import line_edits

LEAKY = '''import boto3

seen = []


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    seen.append(event["id"])
    s3.put_object(Bucket="audit", Key=str(event["id"]), Body=b"seen")
    return {"count": len(seen)}
'''
CLEAN = '''def lambda_handler(event, context):
    return {"id": event["id"]}
'''


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lambda_fix", "server"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(workspace=lsp.WorkspaceClientCapabilities(
            workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=True))),
        initialization_options={"unsafeFixes": False}))
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, path: Path, text: str, version: int = 1) -> list[lsp.Diagnostic]:
    path.write_text(text)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=path.as_uri(), language_id="python", version=version, text=text)))
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    return list(client.diagnostics[path.as_uri()])


async def _quick_fixes(client: LanguageClient, path: Path, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
    """The quick fixes offered for one diagnostic, asked for as an editor asks at its range."""
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()), range=diagnostic.range,
        context=lsp.CodeActionContext(diagnostics=[diagnostic], only=[lsp.CodeActionKind.QuickFix])))
    return [a for a in actions if isinstance(a, lsp.CodeAction)]


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """The edits applied as an editor does: from the last to the first (UTF-16 columns, ASCII here)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: lsp.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return offsets[position.line] + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def _edits(action: lsp.CodeAction) -> list[lsp.TextEdit]:
    assert action.edit is not None and action.edit.document_changes
    [change] = action.edit.document_changes
    return list(change.edits)  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_a_leaky_handler_gets_diagnostics_from_its_buffer(client: LanguageClient, tmp_path: Path) -> None:
    diagnostics = await _open(client, tmp_path / "app.py", LEAKY)
    assert sorted(d.code for d in diagnostics) == ["LF001", "LF004"]
    client_built = next(d for d in diagnostics if d.code == "LF004")
    assert client_built.source == "lambda-fix" and client_built.message.endswith("(fix: safe)")
    assert client_built.range.start == lsp.Position(6, 9)  # `boto3.client("s3")`, its whole node
    assert client_built.range.end == lsp.Position(6, 27)


@pytest.mark.asyncio
async def test_each_quick_fix_gives_what_the_command_line_writes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    diagnostics = await _open(client, path, LEAKY)
    text = LEAKY
    expected = check_source(LEAKY, Config(), path=str(path)).new_source
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
        range=lsp.Range(lsp.Position(0, 0), lsp.Position(9, 0)),
        context=lsp.CodeActionContext(diagnostics=diagnostics, only=[lsp.CodeActionKind.SourceFixAll])))
    [fix_all] = actions or []
    assert _apply(text, _edits(fix_all)) == expected
    quick = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
        range=diagnostics[0].range, context=lsp.CodeActionContext(diagnostics=diagnostics,
                                                                   only=[lsp.CodeActionKind.QuickFix])))
    preferred = [a for a in quick or [] if a.is_preferred]
    assert {a.diagnostics[0].code for a in preferred} == {"LF001", "LF004"}  # type: ignore[index]
    for action in preferred:
        fixed = _apply(text, _edits(action))
        compile(fixed, "app.py", "exec")
        assert fixed != text


@pytest.mark.asyncio
async def test_the_suppression_offered_silences_the_finding(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    diagnostics = await _open(client, path, LEAKY)
    client_built = next(d for d in diagnostics if d.code == "LF004")
    actions = await _quick_fixes(client, path, client_built)
    [ignore] = [a for a in actions if "ignore" in a.title]
    silenced = _apply(LEAKY, _edits(ignore))
    assert '    s3 = boto3.client("s3")  # lambda-fix: ignore[LF004]\n' in silenced
    assert [f.code for f in check_source(silenced, Config(), path=str(path)).findings] == ["LF001"]


@pytest.mark.asyncio
async def test_an_edit_updates_the_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    await _open(client, path, LEAKY)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=CLEAN)]))
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    assert list(client.diagnostics[path.as_uri()]) == []


@pytest.mark.asyncio
async def test_a_file_that_does_not_parse_gets_one_error(client: LanguageClient, tmp_path: Path) -> None:
    diagnostics = await _open(client, tmp_path / "app.py", "def lambda_handler(event, context):\n    return (\n")
    [error] = diagnostics
    assert error.severity == lsp.DiagnosticSeverity.Error and error.source == "lambda-fix"


@pytest.mark.asyncio
async def test_closing_clears_the_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    await _open(client, path, LEAKY)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=path.as_uri())))
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    assert list(client.diagnostics[path.as_uri()]) == []


@pytest.mark.parametrize(("old", "new"), [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb", "a\nb\nc\n"),
    ("a\n", "x\na\n"),
    ("a\nb\nc", "a\nc"),
])
def test_line_edits_turn_the_old_text_into_the_new(old: str, new: str) -> None:
    assert _apply(old, line_edits(old, new)) == new


@pytest.mark.asyncio
async def test_settings_sent_later_are_taken(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    await _open(client, path, LEAKY)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"lambda-fix": {"ignore": ["LF004"]}}))
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    assert [d.code for d in client.diagnostics[path.as_uri()]] == ["LF001"]


@pytest.mark.asyncio
async def test_the_probe_runs_only_when_asked(client: LanguageClient, tmp_path: Path) -> None:
    """Opening the module ran nothing of it; the command runs the handler warm and cold."""
    path = tmp_path / "app.py"
    marker = tmp_path / "ran"
    await _open(client, path, f"seen = []\nopen({str(marker)!r}, 'a').close()\n\n\n"
                              "def lambda_handler(event, context):\n    seen.append(event['id'])\n"
                              "    return {'seen': len(seen)}\n")
    assert not marker.exists()
    (tmp_path / "events.json").write_text('[{"id": 1}, {"id": 2}]')
    report = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lambda-fix.probe", arguments=[path.as_uri(), "lambda_handler", str(tmp_path / "events.json")]))
    assert "invocation 2 (" in report and "warm differs from cold" in report


# ---- a project of several modules -----------------------------------------------------------------

HANDLER = '''import helpers


def lambda_handler(event, context):
    items = helpers.collect(event)
    client = helpers.make_client()
    return {"n": len(items), "client": type(client).__name__}
'''
HELPERS = '''import boto3

SEEN = []


def collect(event):
    SEEN.append(event.get("id"))
    return SEEN


def make_client():
    return boto3.client("s3")
'''


def _project(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    (tmp_path / "app.py").write_text(HANDLER)
    (tmp_path / "helpers.py").write_text(HELPERS)
    return tmp_path / "app.py", tmp_path / "helpers.py"


async def _diagnostics_of(client: LanguageClient, path: Path, codes: list[str] | None = None) -> list[lsp.Diagnostic]:
    """The diagnostics published for path, once they are there (and have these codes, when given)."""
    uri = path.as_uri()
    for _ in range(100):
        if uri in client.diagnostics and (codes is None or sorted(d.code for d in client.diagnostics[uri]) == codes):
            return list(client.diagnostics[uri])
        await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
    raise AssertionError(f"{path.name}: {[d.code for d in client.diagnostics.get(uri, [])]}, not {codes}")


def _open_only(client: LanguageClient, path: Path, version: int = 1) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=path.as_uri(), language_id="python", version=version, text=path.read_text())))


def _command_line(path: Path) -> str:
    """What `lambda-fix PATH` writes there, run in a copy of the project."""
    import shutil
    import subprocess

    copy = path.parent.parent / f"{path.parent.name}-copy"
    shutil.copytree(path.parent, copy)
    subprocess.run([sys.executable, "-m", "lambda_fix", path.name], cwd=copy, check=False, capture_output=True)
    return (copy / path.name).read_text()


@pytest.mark.asyncio
async def test_a_helper_module_shows_what_the_handlers_that_reach_it_cause(client: LanguageClient,
                                                                             tmp_path: Path) -> None:
    """As `lambda-fix helpers.py` does: the client its function builds for a handler in another module."""
    _, helpers = _project(tmp_path)
    _open_only(client, helpers)
    [built] = await _diagnostics_of(client, helpers, ["LF004"])
    assert built.range.start.line == 11 and "lambda_handler" in built.message
    actions = await _quick_fixes(client, helpers, built)
    [fix] = [a for a in actions if a.is_preferred]
    assert _apply(HELPERS, _edits(fix)) == _command_line(helpers)


@pytest.mark.asyncio
async def test_a_fix_made_in_another_module_edits_that_file(client: LanguageClient, tmp_path: Path) -> None:
    """The handler's finding on a client its helper builds: the fix is the helper's, offered as an edit
    of helpers.py (not open: no version) that gives what `lambda-fix helpers.py` writes."""
    app, helpers = _project(tmp_path)
    _open_only(client, app)
    diagnostics = await _diagnostics_of(client, app, ["LF002", "LF004"])
    built = next(d for d in diagnostics if d.code == "LF004")
    actions = await _quick_fixes(client, app, built)
    [fix] = [a for a in actions if a.is_preferred]
    assert fix.title.endswith("(in helpers.py)")
    [change] = fix.edit.document_changes  # type: ignore[union-attr]
    assert change.text_document.uri == helpers.as_uri() and change.text_document.version is None
    assert _apply(HELPERS, list(change.edits)) == _command_line(helpers)


@pytest.mark.asyncio
@pytest.mark.parametrize("folder", ["orders", "my orders é"])  # a URI with escapes: %20, %C3%A9
async def test_an_edit_of_a_helper_changes_what_its_handler_is_found_to_do(client: LanguageClient, tmp_path: Path,
                                                                          folder: str) -> None:
    (tmp_path / folder).mkdir()
    app, helpers = _project(tmp_path / folder)
    _open_only(client, app)
    await _diagnostics_of(client, app, ["LF002", "LF004"])
    _open_only(client, helpers)
    await _diagnostics_of(client, helpers, ["LF004"])
    keeps_nothing = HELPERS.replace('SEEN.append(event.get("id"))\n    return SEEN', 'return [event.get("id")]')
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=helpers.as_uri(), version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=keeps_nothing)]))
    assert [d.code for d in await _diagnostics_of(client, app, ["LF004"])] == ["LF004"]
    # Closed unsaved, the file on disk counts again.
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=helpers.as_uri())))
    await _diagnostics_of(client, app, ["LF002", "LF004"])


@pytest.mark.asyncio
async def test_a_helper_changed_on_disk_is_read_again(client: LanguageClient, tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    _open_only(client, app)
    await _diagnostics_of(client, app, ["LF002", "LF004"])
    helpers.write_text(HELPERS.replace("SEEN.append(", "print("))
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        changes=[lsp.FileEvent(uri=helpers.as_uri(), type=lsp.FileChangeType.Changed)]))
    await _diagnostics_of(client, app, ["LF004"])


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lambda_fix", "server"]))
async def plain_client(lsp_client: LanguageClient):
    """A client that applies no edit to another file, and shows actions it cannot take, with why."""
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(
        text_document=lsp.TextDocumentClientCapabilities(code_action=lsp.CodeActionClientCapabilities(
            disabled_support=True)))))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_client_that_edits_no_other_file_is_told_which_file_the_fix_changes(plain_client: LanguageClient,
                                                                                    tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    _open_only(plain_client, app)
    diagnostics = await _diagnostics_of(plain_client, app, ["LF002", "LF004"])
    built = next(d for d in diagnostics if d.code == "LF004")
    actions = await _quick_fixes(plain_client, app, built)
    [elsewhere] = [a for a in actions if "helpers.py" in a.title]
    assert elsewhere.edit is None and elsewhere.disabled is not None and str(helpers) in elsewhere.disabled.reason
