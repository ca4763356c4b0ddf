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


@pytest.mark.parametrize("mode", [Mode.CHECK, Mode.WRITE])
def test_a_run_parses_each_module_of_a_service_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    parses: collections.Counter[str], mode: Mode) -> None:
    """A check (CI's gate, pre-commit's hook), and a run that rewrites: it also parses each rewrite to
    check it, but not the modules the rewrite imports again: what the analysis remembered of them from
    the module the rewrite replaced is forgotten, and the rest kept (Project.add)."""
    monkeypatch.chdir(tmp_path)
    for service in ("orders", "billing"):
        (tmp_path / service).mkdir()
        (tmp_path / service / "common.py").write_text(COMMON)
        for n in range(6):
            (tmp_path / service / f"handler_{n}.py").write_text(HANDLER.format(n=n))
    originals = {p.resolve(): p.read_text() for p in tmp_path.rglob("*.py")}
    summary = run(["."], Config(jobs=1), mode)
    assert summary.changed == 14 and not summary.failed  # each handler, and the client each common.py builds
    files = set(originals)
    parsed: collections.Counter[Path] = collections.Counter()
    for name, n in parses.items():  # named as the run names them, relative or not
        if Path(name).resolve() in files:
            parsed[Path(name).resolve()] += n
    # A rewrite is parsed under its file's name too, to check it: once more for each file changed.
    rewritten = {path for path, text in originals.items() if path.read_text() != text}
    assert len(rewritten) == (14 if mode is Mode.WRITE else 0)
    assert len(parsed) == len(files), parsed
    assert all(n == 1 + (path in rewritten) for path, n in parsed.items()), parsed


def test_an_importer_is_judged_by_what_its_text_spells_before_it_is_parsed(tmp_path: Path) -> None:
    """Two copies of one repository side by side: each `from main import ...` names its own copy's
    main.py, so the other copy's importers are not parsed to find that out."""
    from lambda_fix.analysis.project import Project

    files = {
        "a/svc/main.py": "def handler(event, context):\n    return 1\n",
        "a/svc/test_main.py": "from main import handler\n",
        "b/svc/test_main.py": "from main import handler\n",
        "a/lib/db.py": "def table():\n    return None\n",
        "a/app.py": "from lib import db\n",
        "a/other.py": "import json\n",
        "a/svc/relative.py": "from . import main\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = Project(lambda path: Path(path).read_text(), boundary=tmp_path)
    main, db = str(tmp_path / "a/svc/main.py"), str(tmp_path / "a/lib/db.py")
    assert project.may_name(str(tmp_path / "a/svc/test_main.py"), main)
    assert not project.may_name(str(tmp_path / "b/svc/test_main.py"), main)
    assert project.may_name(str(tmp_path / "a/app.py"), db)
    assert not project.may_name(str(tmp_path / "a/other.py"), db)
    assert project.may_name(str(tmp_path / "a/svc/relative.py"), main)  # relative: not judged
