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


@pytest.mark.parametrize(("factory", "fix"), [
    ('def queues():\n    return boto3.client("sqs")\n', "in place"),
    ('def queues():\n    """The queues."""\n    return boto3.client("sqs")\n', "in place"),
    ('def queues():\n    q = boto3.client("sqs")\n    return q\n', "in place"),
    ('def queues():\n    config = Config(connect_timeout=5)\n    return boto3.client("sqs", config=config)\n',
     "in place"),
    ('def queues():\n    q = boto3.client("sqs")\n    q.meta.events.register("x", trace)\n    return q\n', "in place"),
    ('def queues():\n    q = boto3.client("sqs")\n    q.retries = 3\n    setattr(q, "name", "q")\n    return q\n',
     "in place"),
    ('def queues():\n    q = boto3.client("sqs")\n    print("built")\n    return q\n', "accessor"),
    ('def queues():\n    q = boto3.client("sqs")\n    print("built")\n    q.meta.events.register("x", trace)\n'
     '    return q\n', "reported"),
    ('def queues():\n    q = boto3.client("sqs")\n    q.meta.events.register("x", lambda **kw: None)\n    return q\n',
     "reported"),
    ('def queues():\n    q = boto3.client("sqs")\n    q.meta.events.register("x", trace)\n    q.list_queues()\n'
     '    return q\n', "reported"),
    ('@trace\ndef queues():\n    return boto3.client("sqs")\n', "accessor"),
    ('def queues(*names):\n    return boto3.client("sqs")\n', "accessor"),
    ('def queues(*names):\n    q = boto3.client("sqs")\n    q.meta.events.register("x", trace)\n    return q\n',
     "reported"),
], ids=["return", "docstring", "named", "settings", "configured", "attributes-set", "more-than-assignments",
        "more-than-configuration", "configured-by-a-lambda", "used-before-return", "decorated", "parameters",
        "configured-with-parameters"])
def test_a_factory_that_only_builds_the_client_is_cached_where_it_stands(factory: str, fix: str) -> None:
    """A client configured after it is built is cached with its configuration, whole, or not at all: an
    accessor would share it, and the configuration would run again on every invocation."""
    source = ("import boto3\nfrom botocore.config import Config\n\n\ndef trace(f):\n    return f\n\n\n"
              f"{factory}\n\ndef lambda_handler(event, context):\n    return queues().list_queues()\n")
    result = check_source(source, Settings(select=("LF004",), target_version=(3, 12)), path="app.py")
    new = result.new_source or ""
    assert (f"@functools.cache\n{factory}" in new) is (fix == "in place"), new
    assert ("def _sqs_client" in new) is (fix == "accessor"), new
    if fix == "reported":
        [finding] = result.findings
        assert "it is configured after it is built" in finding.message


@pytest.mark.parametrize(("body", "hoisted"), [
    ('client = boto3.client("sqs")\nclient.meta.events.register("x", print)', False),
    ('client = boto3.client("sqs")\nclient.meta.events.unregister("x", print)', False),
    ('client = boto3.client("sqs")\nclient.meta.config.retries = {"max_attempts": 3}', False),
    ('client = boto3.client("sqs")\nclient.tag = 1', False),
    ('client = boto3.client("sqs")\nsetattr(client, "tag", 1)', False),
    ('client: object = boto3.client("sqs")\nclient.tag = 1', False),
    ('client = boto3.client("sqs")\nother = client\nother.meta.events.register("x", print)', False),
    ('client = boto3.client("sqs")\ninstrument(client)', False),
    ('client = boto3.client("sqs")\nuse(client)', True),
    ('client = boto3.client("sqs")\nprint(client)', True),
    ('client = boto3.client("sqs")\ntry:\n    client.get_queue_url(QueueName="q")\n'
     'except client.exceptions.QueueDoesNotExist:\n    pass', True),
    ('resource = boto3.resource("sqs")\nresource.meta.client.list_queues()\nclient = resource.meta.client', True),
    ('resource = boto3.resource("sqs")\nclient = resource.meta.client\nclient.meta.events.register("x", print)',
     False),
    ('session = boto3.Session()\nsession.events.register("x", print)\nclient = session.client("sqs")', False),
], ids=["register", "unregister", "meta-config", "attribute", "setattr", "annotated", "alias", "module-function",
        "module-function-that-uses-it", "builtin", "exceptions", "resource-client", "resource-client-hook",
        "session-hook"])
def test_a_client_configured_after_it_is_built_is_not_hoisted(body: str, hoisted: bool) -> None:
    source = textwrap.dedent("""\
        import boto3


        def instrument(c):
            c.meta.events.register("x", print)


        def use(c):
            return c.list_queues()


        def lambda_handler(event, context):
        {body}
            return client.list_queues()
        """).format(body=textwrap.indent(body, "    "))
    result = check_source(source, Settings(select=("LF004",), target_version=(3, 12)), path="app.py")
    assert ("@functools.cache" in (result.new_source or "")) is hoisted, result.new_source
    if not hoisted:
        assert any("configured after it is built" in f.message for f in result.findings)


def test_an_equal_client_elsewhere_does_not_call_a_configured_factory() -> None:
    """The factory, cached whole, returns a client with a hook: an equal call elsewhere gets an accessor of
    its own, without the hook."""
    source = textwrap.dedent("""\
        import boto3


        def hooked():
            client = boto3.client("sqs")
            client.meta.events.register("x", print)
            return client


        def lambda_handler(event, context):
            plain = boto3.client("sqs")
            plain.list_queues()
            return hooked().list_queues()
        """)
    new = check_source(source, Settings(select=("LF004",), target_version=(3, 12)), path="app.py").new_source or ""
    assert "@functools.cache\ndef hooked():" in new
    assert "plain = _sqs_client()" in new and "def _sqs_client():\n    return boto3.client(\"sqs\")" in new


def test_a_client_built_from_a_variable_the_tests_set_is_reported_not_hoisted(tmp_path) -> None:
    """The project's tests change AWS_REGION between tests: a client built once would keep the first
    test's region (so their suite, green before, would fail after the rewrite)."""
    from lambda_fix.config import Settings
    from lambda_fix.engine import Mode, run

    (tmp_path / "app.py").write_text("import os\n\nimport boto3\n\n\ndef lambda_handler(event, context):\n"
                                     "    table = boto3.resource('dynamodb', region_name=os.getenv('AWS_REGION'))\n"
                                     "    return table.Table('t').name\n")
    (tmp_path / "test_app.py").write_text("import os\n\nimport app\n\n\ndef test_china():\n"
                                          "    os.environ['AWS_REGION'] = 'cn-north-1'\n"
                                          "    app.lambda_handler({}, None)\n")
    [result] = [r for r in run([str(tmp_path)], Settings(), Mode.CHECK).results if r.path.endswith("app.py")
                and not r.path.endswith("test_app.py")]
    [finding] = result.findings
    assert finding.code == "LF004" and finding.fix is None and "sets `AWS_REGION`" in finding.message
