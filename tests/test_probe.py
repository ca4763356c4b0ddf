"""`lambda-fix probe`: fixture projects invoked warm and cold, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GROWS = '''seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    return {"seen": list(seen)}
'''
CLEAN = '''def lambda_handler(event, context):
    return {"id": event["id"], "request": context.aws_request_id,
            "left": context.get_remaining_time_in_millis() > 0}
'''
TMP_SURVIVES = '''import os
import tempfile


def lambda_handler(event, context):
    path = os.path.join(tempfile.gettempdir(), "report.txt")
    if os.path.exists(path):
        return {"report": "already there"}
    with open(path, "w") as stream:
        stream.write(str(event["id"]))
    return {"report": "written"}
'''
RAISES = '''def lambda_handler(event, context):
    if event["id"] == 2:
        raise ValueError("bad id")
    return {"id": event["id"]}
'''
# A module of the project with a name lambda-fix also has: the handler must import the project's.
CONFIG_MODULE = 'NAME = "the config of the project"\n'
USES_CONFIG = '''import config


def lambda_handler(event, context):
    return {"name": config.NAME}
'''


def probe(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "probe", *args], cwd=project, capture_output=True,
                          text=True, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "events.json").write_text(json.dumps([{"id": 1}, {"id": 2}, {"id": 3}]))
    return tmp_path


def test_state_that_grows_is_shown_warm_against_cold_and_exits_1(project: Path) -> None:
    (project / "app.py").write_text(GROWS)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 1, done.stderr
    assert "invocation 2 (events.json[1]): warm differs from cold" in done.stdout
    assert "  --- cold\n  +++ warm\n" in done.stdout and '"seen"' in done.stdout  # a readable diff of the two
    assert "2 of 3 invocation(s) differ" in done.stdout


def test_the_fix_removes_the_drift(project: Path) -> None:
    (project / "app.py").write_text(GROWS)
    assert subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "app.py"], cwd=project,
                          capture_output=True, check=False).returncode == 0
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--repeat", "2")
    assert done.returncode == 0 and "warm and cold results agree" in done.stdout


def test_a_clean_handler_exits_0_with_a_realistic_context(project: Path) -> None:
    (project / "app.py").write_text(CLEAN)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["agrees"] is True and len(report["invocations"]) == 3
    ids = {i["warm"]["result"]["request"] for i in report["invocations"]}
    assert len(ids) == 3 and all(i["warm"]["result"]["left"] for i in report["invocations"])


def test_a_tmp_file_one_invocation_leaves_is_found_by_the_next(project: Path) -> None:
    (project / "app.py").write_text(TMP_SURVIVES)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["differing"] == [2, 3]
    assert report["invocations"][1]["warm"] == {"result": {"report": "already there"}}
    assert report["invocations"][1]["cold"] == {"result": {"report": "written"}}  # each cold run: an empty TMPDIR


def test_a_handler_that_raises_is_reported_and_compared(project: Path) -> None:
    (project / "app.py").write_text(RAISES)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 0  # it raises warm and cold alike
    assert "invocation 2 (events.json[1]) raised ValueError: bad id" in done.stdout


def test_events_one_per_file_and_the_projects_own_modules(project: Path) -> None:
    (project / "events").mkdir()
    (project / "events" / "one.json").write_text('{"id": 1}')
    (project / "config.py").write_text(CONFIG_MODULE)
    (project / "app.py").write_text(USES_CONFIG)
    done = probe(project, "app:lambda_handler", "--event", "events/one.json", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["invocations"][0]["event"] == "events/one.json"
    assert report["invocations"][0]["warm"] == {"result": {"name": "the config of the project"}}


@pytest.mark.parametrize(("setup", "args", "message"), [
    ({"app.py": "import no_such_module\n"}, ["app:lambda_handler", "--events", "events.json"],
     "cannot import app:lambda_handler: ModuleNotFoundError"),
    ({"app.py": CLEAN}, ["app:no_such_function", "--events", "events.json"], "AttributeError"),
    ({"app.py": CLEAN, "bad.json": "{not json"}, ["app:lambda_handler", "--event", "bad.json"], "bad.json: not JSON"),
    ({"app.py": CLEAN, "one.json": "{}"}, ["app:lambda_handler", "--events", "one.json"], "a JSON array of events"),
    ({"app.py": CLEAN}, ["app:lambda_handler"], "no events"),
    ({"app.py": CLEAN}, ["app", "--events", "events.json"], "MODULE:FUNCTION"),
])
def test_what_stops_the_probe_is_one_line_and_exit_2(project: Path, setup: dict, args: list, message: str) -> None:
    for name, text in setup.items():
        (project / name).write_text(text)
    done = probe(project, *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_help_says_it_runs_the_projects_code() -> None:
    done = subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "--help"], capture_output=True, text=True,
                          check=False)
    assert "RUNS THE PROJECT'S CODE" in done.stdout and "Exit status" in done.stdout
