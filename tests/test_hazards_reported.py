"""The rules that report (LF006 to LF010; LF006 also fixes), on the shapes real handlers take and on the ones that
must be left alone (each seen in public repositories)."""

from __future__ import annotations

import pytest
from test_decisions import diagnoses


@pytest.mark.parametrize(("code", "body", "found"), [
    # LF006: a handler added on every invocation, or only while the logger has none
    ("LF006", "logging.getLogger().addHandler(logging.StreamHandler())", True),
    ("LF006", "log = logging.getLogger('x')\n    log.addFilter(logging.Filter())", True),
    ("LF006", "if not logging.getLogger().handlers:\n        logging.getLogger().addHandler(logging.StreamHandler())",
     False),
    ("LF006", "logging.basicConfig(level=logging.INFO)", False),
    # LF007: the environment written with request data, or with a choice between fixed values
    ("LF007", "os.environ['TENANT'] = event['tenant']", True),
    ("LF007", "os.putenv('TENANT', event['tenant'])", True),
    ("LF007", "os.environ['CONF'] = 'ssl.conf' if event.get('ssl') else 'plain.conf'", False),
    ("LF007", "os.environ.setdefault('STAGE', 'dev')", False),
    # LF009: work left running, or waited for (a list of threads joined in a loop, a timer cancelled)
    ("LF009", "threading.Thread(target=print).start()", True),
    ("LF009", "threads = []\n    t = threading.Thread(target=print)\n    threads.append(t)\n    t.start()\n"
              "    for each in threads:\n        each.join()", False),
    ("LF009", "timer = threading.Timer(1.0, print)\n    timer.start()\n    try:\n        pass\n"
              "    finally:\n        timer.cancel()", False),
    ("LF009", "process = subprocess.Popen(['true'])\n    return process.wait()", False),
])
def test_what_is_reported_and_what_is_left_alone(code: str, body: str, found: bool) -> None:
    source = ("import logging\nimport os\nimport subprocess\nimport threading\n\n\n"
              f"def lambda_handler(event, context):\n    {body}\n")
    assert bool(diagnoses(source, code)) is found


@pytest.mark.parametrize(("decorator", "found"), [
    ("@functools.cache", True),
    ("@functools.lru_cache(maxsize=None)", True),
    ("@functools.lru_cache(None)", True),
    ("@functools.lru_cache(maxsize=64)", False),
    ("@functools.lru_cache", False),  # 128 entries
])
def test_an_unbounded_memo_of_request_data_is_reported(decorator: str, found: bool) -> None:
    source = (f"import functools\n\n\n{decorator}\ndef lookup(key):\n    return key.upper()\n\n\n"
              "def lambda_handler(event, context):\n    return lookup(event['key'])\n")
    assert bool(diagnoses(source, "LF008")) is found


def test_an_unbounded_memo_of_values_fixed_for_the_environment_is_not() -> None:
    source = ("import functools\nimport os\n\n\n@functools.cache\ndef table(name):\n    return name.upper()\n\n\n"
              "def lambda_handler(event, context):\n    return table(os.environ.get('TABLE', 't'))\n")
    assert diagnoses(source, "LF008") == []


@pytest.mark.parametrize(("body", "found"), [
    ("work = tempfile.mkdtemp()\n    return {'dir': work}", True),  # the runtime removes nothing it is given
    ("handle, path = tempfile.mkstemp()\n    os.close(handle)", True),
    ("tempfile.NamedTemporaryFile(delete=False).write(b'x')", True),
    ("work = tempfile.mkdtemp()\n    shutil.rmtree(work)", False),
    ("with tempfile.NamedTemporaryFile() as f:\n        f.write(b'x')", False),
    ("named = tempfile.NamedTemporaryFile(delete=False)\n    path = named.name\n    os.unlink(path)", False),
])
def test_a_temporary_file_left_behind_is_reported(body: str, found: bool) -> None:
    source = f"import os\nimport shutil\nimport tempfile\n\n\ndef lambda_handler(event, context):\n    {body}\n"
    assert bool(diagnoses(source, "LF010")) is found


def _check(tmp_path, files: dict[str, str]) -> list[tuple[str, int, str, str]]:
    from lambda_fix.config import Settings
    from lambda_fix.engine import Mode, run

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    summary = run([str(tmp_path)], Settings(), Mode.CHECK)
    return sorted((r.path.rpartition("/")[2], f.line, f.code, f.message) for r in summary.results for f in r.findings)


def test_findings_on_two_places_of_another_module_are_both_reported(tmp_path) -> None:
    """Both are placed at the handler; neither hides the other."""
    found = _check(tmp_path, {
        "helpers.py": "import tempfile\n\n\ndef a():\n    work = tempfile.mkdtemp()\n    print(work)\n\n\n"
                      "def b():\n    handle, path = tempfile.mkstemp()\n    print(handle, path)\n",
        "app.py": "import helpers\n\n\ndef lambda_handler(event, context):\n    helpers.a()\n    helpers.b()\n",
    })
    assert [(path, line, code) for path, line, code, _ in found] == [("app.py", 4, "LF010"), ("app.py", 4, "LF010")]
    assert "`a` of helpers" in found[0][3] + found[1][3] and "`b` of helpers" in found[0][3] + found[1][3]


def test_keys_appended_to_a_shared_logger_in_a_route_of_an_imported_resolver(tmp_path) -> None:
    """The resolver and the logger live in shared modules; the route appends keys; the fix goes on the
    function that injects the logger's context."""
    found = _check(tmp_path, {
        "svc/__init__.py": "",
        "svc/observability.py": "from aws_lambda_powertools import Logger\n\nlogger: Logger = Logger()\n",
        "svc/resolver.py": "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n\n"
                           "app = APIGatewayRestResolver()\n",
        "svc/get_order.py": "from svc.observability import logger\nfrom svc.resolver import app\n\n\n"
                            "@app.get('/orders/<order_id>')\ndef get_order(order_id):\n"
                            "    logger.append_keys(order_id=order_id)\n    return {'id': order_id}\n\n\n"
                            "@logger.inject_lambda_context\ndef lambda_handler(event, context):\n"
                            "    return app.resolve(event, context)\n",
    })
    [(path, _, code, message)] = found
    assert (path, code) == ("get_order.py", "LF002") and "(of svc.observability)" in message


@pytest.mark.parametrize(("code", "source", "fixed"), [
    # LF010: the fix only where the function is provably done with the directory when it ends
    ("LF010", "import tempfile\n\n\ndef lambda_handler(event, context):\n    work = tempfile.mkdtemp()\n"
              "    open(work + '/x', 'w').close()\n    return event['id']\n", True),
    ("LF010", "import tempfile\n\n\ndef lambda_handler(event, context):\n    work = tempfile.mkdtemp()\n"
              "    import shutil\n    shutil.copy('/etc/hostname', work)\n", False),  # a local `shutil`
    ("LF010", "import tempfile\n\n\ndef lambda_handler(event, context):\n    work = tempfile.mkdtemp()\n"
              "    del work\n", False),
    ("LF010", "import tempfile\n\n\ndef lambda_handler(event, context):\n"
              "    work = tempfile.mkdtemp(dir='/tmpfs')\n", False),
    ("LF010", "import logging\nimport tempfile\n\n\ndef lambda_handler(event, context):\n"
              "    work = tempfile.mkdtemp()\n    logging.basicConfig(filename=work + '/log')\n", False),
    ("LF010", "import tempfile\n\nKEPT = []\n\n\ndef keep(path):\n    KEPT.append(path)\n\n\n"
              "def lambda_handler(event, context):\n    work = tempfile.mkdtemp()\n    keep(work)\n", False),
    # LF006: the flag only where the first invocation decides nothing the later ones would not
    ("LF006", "import logging\n\n\ndef lambda_handler(event, context):\n    def setup():\n"
              "        logging.getLogger('x').addHandler(logging.StreamHandler())\n    setup()\n", False),
    ("LF006", "import logging\n\n\ndef lambda_handler(event, context):\n    if event.get('debug'):\n"
              "        logging.getLogger('x').addHandler(logging.StreamHandler())\n", False),
    ("LF006", "import logging\n\n\ndef setup():\n    logging.getLogger('x').addHandler(logging.StreamHandler())\n\n\n"
              "setup()\n\n\ndef lambda_handler(event, context):\n    setup()\n", False),
    # LF002: a decorator whose arguments hold a comment is not edited as text
    ("LF002", "from aws_lambda_powertools import Logger\n\nlogger = Logger()\n\n\n"
              "@logger.inject_lambda_context(\n    log_event=True,  # the event\n)\n"
              "def lambda_handler(event, context):\n    logger.append_keys(user=event['user'])\n", False),
])
def test_a_fix_is_planned_only_where_it_is_proven(code: str, source: str, fixed: bool) -> None:
    [found] = diagnoses(source, code)
    assert (found.plan is not None) is fixed, found.message


def test_environment_variables_differing_in_case_are_each_restored(tmp_path) -> None:
    """`tenant` and `TENANT` are two variables: each is recorded and put back under a name of its own."""
    from lambda_fix import Config, check_source

    source = ("import os\n\n\ndef lambda_handler(event, context):\n    os.environ['tenant'] = event['a']\n"
              "    os.environ[\"TENANT\"] = event['b']\n    os.environ[\"it's\"] = event['c']\n"
              "    return dict(os.environ)\n\n\nif __name__ == '__main__':\n    print(lambda_handler({}, None))\n\n"
              "print('after the main block')\n")
    new = check_source(source, Config(), path=str(tmp_path / "app.py")).new_source
    assert new is not None
    names: dict = {}
    exec(compile(new.replace("print('after the main block')\n", ""), "app.py", "exec"), names)  # noqa: S102
    assert {"_tenant_AT_IMPORT", "_TENANT_AT_IMPORT"} <= set(names)
    assert new.index("_TENANT_AT_IMPORT = os.environ.get") < new.index("if __name__ == '__main__':")
