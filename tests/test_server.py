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
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()), range=client_built.range,
        context=lsp.CodeActionContext(diagnostics=[client_built], only=[lsp.CodeActionKind.QuickFix])))
    [ignore] = [a for a in actions or [] if "ignore" in a.title]
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
