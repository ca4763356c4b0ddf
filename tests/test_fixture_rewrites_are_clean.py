"""A rewrite adds no pyflakes warning: no local left unused by a hoist, no import left behind, no
name used before it is bound. Every fixture's rewrite is checked in tests/test_fixtures.py (one run of
the tool per fixture); here, the comparison itself and the hoist's locals, case by case."""

from __future__ import annotations

from collections import Counter

from pyflakes_messages import Message, added

from lambda_fix import Config, Status, check_source


def test_messages_ignore_lines_but_not_names() -> None:
    old = "import os\n\n\ndef f():\n    x = 1\n"
    assert added(old, "import os\n\n\n\ndef f():\n    x = 1\n", "f.py") == Counter()
    assert added(old, "import os\n\n\ndef f():\n    x = 1\n    y = 2\n", "f.py") == \
        Counter({("UnusedVariable", ("y",)): 1})


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
