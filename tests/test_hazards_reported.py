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
