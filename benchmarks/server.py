"""`lambda-fix server` as an editor sees it: the time from an edit of a large handler module to its
diagnostics, and the server's memory over a long session of edits.

    python benchmarks/server.py [--lines 1000] [--edits 200] [--modules 0]

Starts the server over stdio with pygls' own client, opens a generated handler module of about
--lines lines (helpers that write module state, a client built per call), then changes one line at a
time. With --modules N, the handler also calls into N helper modules of about --lines lines each (a
project: what the server parses again per edit shows there). Prints the median and the slowest time
from an edit to the diagnostics, the server's pause after the last edit (server.DEBOUNCE) included,
and the server's resident memory after each tenth of the edits. Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from lambda_fix.server import DEBOUNCE


def module(lines: int, imported: int = 0) -> str:
    helpers = max(1, (lines - 20) // 8)
    imports = "".join(f"import shared_{number}\n" for number in range(imported))
    parts = [f"import json\n\nimport boto3\n{imports}\nseen = []\n\n"]
    for number in range(helpers):
        parts.append(f"\ndef helper_{number}(event):\n    value = event.get('k{number}', {number})\n"
                     f"    if value > {number}:\n        seen.append(value)\n    return {{'v': value}}\n\n")
    calls = "".join(f"    out.append(helper_{number}(event))\n" for number in range(helpers))
    calls += "".join(f"    out.append(shared_{number}.helper_{number}(event))\n" for number in range(imported))
    parts.append("\ndef lambda_handler(event, context):\n    s3 = boto3.client('s3')\n    out = []\n" + calls
                 + "    s3.put_object(Bucket='b', Key='k', Body=json.dumps(out))\n    return {'n': len(out)}\n")
    return "".join(parts)


def resident(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def shared(lines: int) -> str:
    """A helper module: functions that keep what they are given in module state."""
    parts = ["seen = []\n\n"]
    for number in range(max(1, lines // 6)):
        parts.append(f"\ndef helper_{number}(event):\n    seen.append(event.get('k{number}'))\n"
                     f"    return len(seen)\n\n")
    return "".join(parts)


async def session(lines: int, edits: int, modules: int) -> None:
    client = LanguageClient("benchmark", "1")
    published: asyncio.Queue[float] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(time.perf_counter())

    await client.start_io(sys.executable, "-m", "lambda_fix", "server")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "app.py")
        text = module(lines, modules)
        for number in range(modules):
            Path(directory, f"shared_{number}.py").write_text(shared(lines))
        path.write_text(text)
        uri = path.as_uri()
        started = time.perf_counter()
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        first = await published.get() - started
        pid = client._server.pid  # type: ignore[union-attr]
        memory = [resident(pid)]
        waits = []
        for number in range(edits):
            text = text.replace("    out = []\n", f"    out = []  # edit {number}\n", 1) if number == 0 else \
                text.replace(f"# edit {number - 1}\n", f"# edit {number}\n", 1)
            sent = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=number + 2),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
            waits.append(await published.get() - sent)
            if (number + 1) % max(1, edits // 10) == 0:
                memory.append(resident(pid))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    print(f"{len(text.splitlines())} lines, {modules} helper modules; first diagnostics {first * 1000:.0f} ms "
          "after opening")
    print(f"edit to diagnostics, the server's {DEBOUNCE * 1000:.0f} ms pause included: "
          f"median {statistics.median(waits) * 1000:.0f} ms, "
          f"90th percentile {statistics.quantiles(waits, n=10)[-1] * 1000:.0f} ms, "
          f"slowest {max(waits) * 1000:.0f} ms over {edits} edits")
    print("server resident MB every tenth of the edits: " + " ".join(f"{m / 2**20:.0f}" for m in memory))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--modules", type=int, default=0)
    arguments = parser.parse_args()
    asyncio.run(session(arguments.lines, arguments.edits, arguments.modules))


if __name__ == "__main__":
    main()
