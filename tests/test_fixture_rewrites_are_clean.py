"""Every fixture's rewrite adds no pyflakes warning: no local left unused by a hoist, no import left
behind, no name used before it is bound. Messages are compared by kind and by the names they are about,
not by line, since a rewrite moves lines."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pyflakes
import pytest
from helpers import Case, cases, interpreter, run_tool
from pyflakes import checker

from lambda_fix import Config, Mode, Status, check_source

CASES = cases()

Message = tuple[str, tuple[str, ...]]

# Fixtures whose rewrite is known to add a warning, each with the messages it may add (any other new
# message still fails) and the rule whose fix leaves it.
KNOWN: dict[str, set[Message]] = {}

# pyflakes run by a newer Python, for a fixture written in that Python's syntax: its messages as JSON.
_NEWER = """
import ast, json, sys
from pyflakes import checker
source = sys.stdin.read()
found = checker.Checker(ast.parse(source), filename=sys.argv[1]).messages
print(json.dumps([[type(m).__name__, [str(a) for a in m.message_args if not isinstance(a, int)]] for m in found]))
"""


def messages(source: str, filename: str, python: str | None = None) -> Counter[Message]:
    """pyflakes' messages for source: each message's kind and the names it is about (its line numbers
    left out). python: the version the source is written for, when newer than this one."""
    if python is None:
        found = checker.Checker(ast.parse(source, filename=filename), filename=filename).messages
        return Counter((type(m).__name__, tuple(str(a) for a in m.message_args if not isinstance(a, int)))
                       for m in found)
    executable = interpreter(python)
    assert executable is not None
    library = str(Path(pyflakes.__file__).parent.parent)
    ran = subprocess.run([executable, "-c", _NEWER, filename], input=source, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": library}, timeout=60, check=True)
    return Counter((kind, tuple(names)) for kind, names in json.loads(ran.stdout))


def added(old: str, new: str, filename: str, python: str | None = None) -> Counter[Message]:
    return messages(new, filename, python) - messages(old, filename, python)


def test_messages_ignore_lines_but_not_names() -> None:
    old = "import os\n\n\ndef f():\n    x = 1\n"
    assert added(old, "import os\n\n\n\ndef f():\n    x = 1\n", "f.py") == Counter()
    assert added(old, "import os\n\n\ndef f():\n    x = 1\n    y = 2\n", "f.py") == \
        Counter({("UnusedVariable", ("y",)): 1})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rewrite_adds_no_pyflakes_message(case: Case, tmp_path, monkeypatch) -> None:
    if case.python and interpreter(case.python) is None:
        pytest.skip(f"needs Python {case.python} to read the fixture")
    target = case.copy_to(tmp_path)
    monkeypatch.chdir(tmp_path)
    summary = run_tool([target.name], case.config, Mode.DIFF)
    allowed = KNOWN.get(case.id, set())
    new: dict[str, list[Message]] = {}
    for result in summary.results:
        if result.status is not Status.CHANGED:
            continue
        assert result.old_source is not None and result.new_source is not None
        extra = [m for m in added(result.old_source, result.new_source, result.path, case.python).elements()
                 if m not in allowed]
        if extra:
            new[result.path] = extra
    assert not new, new


# Locals that a hoist copies into an accessor: gone when nothing else reads them, kept otherwise.

def _rewritten(source: str, allowed: Counter[Message] | None = None) -> str:
    result = check_source(source, Config(), path="app.py")
    assert result.status is Status.CHANGED, result
    assert result.new_source is not None
    assert added(source, result.new_source, "app.py") == (allowed or Counter())
    return result.new_source


def test_a_local_under_try_stays_when_the_handler_may_catch_its_error() -> None:
    """The one case where a rewrite leaves a local unread: removed, the `KeyError` the handler catches
    would be raised by the accessor instead."""
    new = _rewritten(
        "import os\n\nimport boto3\n\n\ndef lambda_handler(event, context):\n"
        "    try:\n        region = os.environ['AWS_REGION']\n    except KeyError:\n        return None\n"
        "    return boto3.client('s3', region_name=region).list_buckets()\n",
        allowed=Counter({("UnusedVariable", ("region",)): 1}))
    assert "        region = os.environ['AWS_REGION']\n" in new and "return _s3_client().list_buckets()" in new


def test_a_local_under_try_that_cannot_fail_goes() -> None:
    new = _rewritten(
        "import os\n\nimport boto3\n\n\ndef lambda_handler(event, context):\n"
        "    try:\n        region = os.environ.get('AWS_REGION')\n    except KeyError:\n        return None\n"
        "    return boto3.client('s3', region_name=region).list_buckets()\n")
    assert "try:" not in new and "region =" not in new  # a `try` around nothing can catch nothing


def test_comments_above_a_removed_local_stay_and_other_statements_on_its_line_too() -> None:
    new = _rewritten(
        "import boto3\nfrom botocore.config import Config\n\n\ndef lambda_handler(event, context):\n"
        "    # clients\n    config = Config(retries={'max_attempts': 2}); seen = []\n"
        "    s3 = boto3.client('s3', config=config)\n    return s3.list_buckets(), seen\n")
    assert "    # clients\n    seen = []\n    s3 = _s3_client()\n" in new
    assert "return boto3.client('s3', config=Config(retries={'max_attempts': 2}))" in new


def test_a_session_local_read_by_a_nested_function_stays() -> None:
    new = _rewritten(
        "import boto3\n\n\ndef lambda_handler(event, context):\n    session = boto3.Session()\n"
        "    s3 = session.client('s3')\n\n    def region():\n        return session.region_name\n\n"
        "    return s3.list_buckets(), region()\n")
    assert "    session = _boto3_session()\n    s3 = _s3_client()\n" in new
    assert "return _boto3_session().client('s3')" in new


def test_each_fix_alone_keeps_a_session_that_another_client_still_reads() -> None:
    source = ("import boto3\n\n\ndef lambda_handler(event, context):\n    session = boto3.Session()\n"
              "    s3 = session.client('s3')\n    sqs = session.client('sqs')\n"
              "    return s3.list_buckets(), sqs.list_queues()\n")
    result = check_source(source, Config(), path="app.py", details=True)
    [s3] = [f for f in result.findings if "'s3'" in f.message]
    assert s3.fix is not None
    assert "+def _boto3_session():" in s3.fix.diff and "+def _s3_client():" in s3.fix.diff
    assert "-    session = boto3.Session()" not in s3.fix.diff
    assert "    session = " not in (result.new_source or "")  # all together, the session local goes
