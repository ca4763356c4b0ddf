"""Each module of a check is parsed once: a helper that handlers import is not parsed again when the
run reaches it as a file of its own, nor the other way round (docs/performance.md, "Parses per file")."""

from __future__ import annotations

import ast
import collections
import textwrap
from pathlib import Path

import pytest

from lambda_fix import Config, Mode, run

COMMON = textwrap.dedent('''\
    """Helpers the service's handlers share."""
    import json
    import os

    import boto3

    TABLE = os.environ.get("TABLE", "items")


    def respond(status, body):
        return {"statusCode": status, "body": json.dumps(body)}


    def table():
        return boto3.resource("dynamodb").Table(TABLE)
''')
HANDLER = textwrap.dedent('''\
    from common import respond, table

    seen = []


    def lambda_handler(event, context):
        seen.append(event["id"])
        table().put_item(Item={{"id": event["id"], "n": {n}}})
        return respond(200, {{"seen": len(seen)}})
''')


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How many times each file is parsed (ast.parse given its name)."""
    counted: collections.Counter[str] = collections.Counter()
    real = ast.parse

    def parse(source, filename="<unknown>", *args, **kwargs):  # noqa: ANN001, ANN202 - ast.parse's
        counted[str(filename)] += 1
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    return counted


def test_a_check_parses_each_module_of_a_service_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      parses: collections.Counter[str]) -> None:
    """A check (CI's gate, pre-commit's hook). A run that rewrites also parses each rewrite to check
    it, and then the modules it imports again: what the analysis remembered of them may point into
    the module the rewrite replaced (Project.add)."""
    monkeypatch.chdir(tmp_path)
    for service in ("orders", "billing"):
        (tmp_path / service).mkdir()
        (tmp_path / service / "common.py").write_text(COMMON)
        for n in range(6):
            (tmp_path / service / f"handler_{n}.py").write_text(HANDLER.format(n=n))
    summary = run(["."], Config(jobs=1), Mode.CHECK)
    assert summary.changed == 14 and not summary.failed  # each handler, and the client each common.py builds
    files = {p.resolve() for p in tmp_path.rglob("*.py")}
    parsed = collections.Counter({name: n for name, n in parses.items() if Path(name).resolve() in files})
    assert len(parsed) == len(files) and max(parsed.values()) == 1, parsed
