"""LF004 per-invocation-client: how inlined settings are spelled and where cached factories stand, on
small inline modules (the fixtures under tests/fixtures/LF004 show whole rewrites)."""

from __future__ import annotations

import textwrap

import pytest

from lambda_fix import Config as Settings
from lambda_fix import check_source

HANDLER = """\
import os

import boto3
from botocore.config import Config


def lambda_handler(event, context):
{body}
    return client.list_queues()
"""


def accessor_of(body: str) -> str:
    """The `return ...` of the one accessor LF004 writes for a handler body that builds `client`."""
    source = HANDLER.format(body=textwrap.indent(textwrap.dedent(body), "    "))
    result = check_source(source, Settings(select=("LF004",)), path="app.py")
    new = result.new_source or ""
    returned = new.split("    return ", 1)[1].split("\n\n", 1)[0]
    return " ".join(line.strip() for line in returned.splitlines()).replace("( ", "(").replace(", )", ")")


@pytest.mark.parametrize(("body", "built_by"), [
    ('options = {}\nclient = boto3.client("sqs", **options)', 'boto3.client("sqs")'),
    ('options = {}\nclient = boto3.Session(**options).client("sqs")', 'boto3.Session().client("sqs")'),
    ('a = {}\nb = {}\nclient = boto3.client("sqs", **a, **b)', 'boto3.client("sqs")'),
    ('a = {}\nb = {}\nclient = boto3.client(**a, **b)', 'boto3.client()'),
    ('a = {}\nclient = boto3.client(**a, region_name="x")', 'boto3.client(region_name="x")'),
    ('a = {"region_name": "x"}\nclient = boto3.client("sqs", **a)', 'boto3.client("sqs", region_name="x")'),
    ('a = {"region-name": "x"}\nclient = boto3.client("sqs", **a)', 'boto3.client("sqs", **{"region-name": "x"})'),
    # the same keyword twice fails when called; spelled as keywords it would not even compile
    ('a = {"region_name": "x"}\nclient = boto3.client("sqs", region_name="y", **a)',
     'boto3.client("sqs", region_name="y", **{"region_name": "x"})'),
    ('retries = {"max_attempts": 3}\nclient = boto3.client("sqs", config=Config(retries=retries))',
     'boto3.client("sqs", config=Config(retries={"max_attempts": 3}))'),
], ids=["empty", "empty-session", "two-empty", "only-empty", "empty-first", "names", "not-names", "repeated",
        "keyword-value"])
def test_dict_displays_passed_as_keywords(body: str, built_by: str) -> None:
    assert accessor_of(body) == built_by


def test_a_dict_the_handler_fills_in_later_is_not_inlined() -> None:
    source = HANDLER.format(body=textwrap.indent(textwrap.dedent("""\
        options = {}
        options.update(region_name=os.environ.get("AWS_REGION"))
        client = boto3.client("sqs", **options)"""), "    "))
    result = check_source(source, Settings(select=("LF004",)), path="app.py")
    assert result.new_source in (None, source)
    [finding] = result.findings
    assert "which the function may change" in finding.message


def test_a_factory_with_a_parameter_is_not_decorated() -> None:
    source = textwrap.dedent("""\
        import boto3


        def queues(region):
            return boto3.client("sqs", region_name=region)


        def lambda_handler(event, context):
            return queues("eu-west-1").list_queues()
        """)
    result = check_source(source, Settings(select=("LF004",)), path="app.py")
    assert "cache" not in (result.new_source or "")


@pytest.mark.parametrize("ending", [
    "    if x:\n        return 1\n    else:\n        return 2\n    \n",
    "    try:\n        return int(x)\n    except ValueError:\n        return 0\n        \n\n",
    "    for _ in x:\n        pass\n    else:\n        return 3\n  \n",
    "    return x\n    # the last word\n    \n",
], ids=["else-then-spaces", "except-then-spaces-and-blank", "for-else-then-fewer-spaces", "comment-then-spaces"])
def test_the_accessor_has_two_empty_lines_above_it_whatever_ends_the_code_above(ending: str) -> None:
    source = f"import boto3\n\n\ndef helper(x):\n{ending}def lambda_handler(event, context):\n" \
             "    return boto3.client(\"sqs\").list_queues()\n"
    new = check_source(source, Settings(select=("LF004",), target_version=(3, 12)), path="app.py").new_source or ""
    above = new.split("@functools.cache\n")[0]
    assert above.endswith("\n\n\n") and not above.endswith("\n\n\n\n")
    assert above.rstrip("\n").splitlines()[-1].strip(), above
    assert "# the last word" in above or "last word" not in source


@pytest.mark.parametrize(("factory", "cached_in_place"), [
    ('def queues():\n    return boto3.client("sqs")\n', True),
    ('def queues():\n    """The queues."""\n    return boto3.client("sqs")\n', True),
    ('def queues():\n    q = boto3.client("sqs")\n    return q\n', True),
    ('def queues():\n    config = Config(connect_timeout=5)\n    return boto3.client("sqs", config=config)\n', True),
    ('def queues():\n    q = boto3.client("sqs")\n    q.meta.events.register("x", print)\n    return q\n', False),
    ('@trace\ndef queues():\n    return boto3.client("sqs")\n', False),
    ('def queues(*names):\n    return boto3.client("sqs")\n', False),
], ids=["return", "docstring", "named", "settings", "more-than-assignments", "decorated", "parameters"])
def test_a_factory_that_only_builds_the_client_is_cached_where_it_stands(factory: str, cached_in_place: bool) -> None:
    source = ("import boto3\nfrom botocore.config import Config\n\n\ndef trace(f):\n    return f\n\n\n"
              f"{factory}\n\ndef lambda_handler(event, context):\n    return queues().list_queues()\n")
    new = check_source(source, Settings(select=("LF004",), target_version=(3, 12)), path="app.py").new_source or ""
    assert (f"@functools.cache\n{factory}" in new) is cached_in_place, new
    assert ("def _sqs_client" in new) is not cached_in_place, new
