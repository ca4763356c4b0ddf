"""`lambda-fix probe`: what an invocation leaves in the process besides its result, shown on fixture
projects: log lines repeated or carrying an earlier request's data, environment variables, /tmp
and memory that grow, threads and tasks still running, and a /tmp of its own for each cold run."""

from __future__ import annotations

import os
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_fix.probe_child import private_tmp

HANDLER_PER_CALL = '''import logging

logger = logging.getLogger("orders")
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    logger.addHandler(logging.StreamHandler())
    logger.info("order %s", event["id"])
    return {"id": event["id"]}
'''
ADAPTER_KEEPS_USER = '''import logging

base = logging.getLogger("service")
base.setLevel(logging.INFO)
log = logging.LoggerAdapter(base, {})


def lambda_handler(event, context):
    if "user" in event:
        log.extra["user"] = event["user"]
    log.info("handled for %s", log.extra.get("user", "nobody"))
    return {"id": event["id"]}
'''
ENVIRONMENT_FROM_EVENT = '''import os


def lambda_handler(event, context):
    os.environ["TENANT"] = event["tenant"]
    return {"id": event["id"]}
'''
TMP_FILLS = '''import os
import tempfile


def lambda_handler(event, context):
    handle, path = tempfile.mkstemp(suffix=".bin")
    with os.fdopen(handle, "wb") as stream:
        stream.write(b"x" * 65536)
    return {"id": event["id"]}
'''
MEMO_GROWS = '''import functools


@functools.lru_cache(maxsize=None)
def profile(user):
    return {"user": user, "scores": [{"rank": n} for n in range(20)]}


def lambda_handler(event, context):
    return {"id": event["id"], "user": profile(event["user"])["user"]}
'''
THREAD_LEFT = '''import threading

done = threading.Event()


def lambda_handler(event, context):
    threading.Thread(target=done.wait, args=(30,), name="flush", daemon=True).start()
    return {"id": event["id"]}
'''
TASK_LEFT = '''import asyncio

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)


async def send(event):
    await asyncio.sleep(30)


async def handle(event):
    asyncio.ensure_future(send(event))
    return event["id"]


def lambda_handler(event, context):
    return {"id": loop.run_until_complete(handle(event))}
'''
CLEAN = '''import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    logger.info("event %s", event["id"])
    return {"id": event["id"], "twice": [event["id"]] * 2}
'''
# A program the handler starts writes a fixed path under /tmp: the probe's watches cannot see it write,
# only that it is there at the next invocation's start. Cold runs must each start without it.
PROGRAM_WRITES_TMP = '''import os
import subprocess

PATH = "/tmp/lambda-fix-probe-{name}.txt"


def lambda_handler(event, context):
    there = os.path.exists(PATH)
    subprocess.run(["sh", "-c", f"echo {{event['id']}} >> {{PATH}}"], check=True)
    return {{"there": there}}
'''


def probe(project: Path, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "app:lambda_handler", *args,
                           "--format", "json"], cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def text(project: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "app:lambda_handler", *args], cwd=project,
                          capture_output=True, text=True, check=False).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    events = [{"id": n, "user": f"user-{n}", "tenant": f"tenant-{n}"} for n in (1, 2, 3)]
    (tmp_path / "events.json").write_text(json.dumps(events))
    return tmp_path


def test_a_log_handler_added_per_invocation_repeats_lines(project: Path) -> None:
    (project / "app.py").write_text(HANDLER_PER_CALL)
    report = probe(project, "--events", "events.json")
    assert [(r["invocation"], r["line"], r["warm"], r["cold"]) for r in report["repeated_log_lines"]] == [
        (2, "order 2", 2, 1), (3, "order 3", 3, 1)]
    assert report["repeated_log_lines"][0]["codes"] == ["LF006"]
    assert "invocation 3 wrote `order 3` 3 times, its cold run once" in text(project, "--events", "events.json")


def test_log_context_kept_from_an_earlier_request_is_shown(project: Path) -> None:
    (project / "app.py").write_text(ADAPTER_KEEPS_USER)
    (project / "events.json").write_text(json.dumps([{"id": 1, "user": "alice"}, {"id": 2}]))
    carried = probe(project, "--events", "events.json")["carried_log_lines"]
    assert [(c["invocation"], c["value"], c["from_invocation"]) for c in carried] == [(2, "alice", 1)]
    assert carried[0]["line"].endswith("handled for alice")


def test_the_environment_an_invocation_leaves_changed_is_shown(project: Path) -> None:
    (project / "app.py").write_text(ENVIRONMENT_FROM_EVENT)
    report = probe(project, "--events", "events.json")
    assert [(c["name"], c["invocation"], c["before"], c["after"], c["where"]) for c in report["environment"]] == [
        ("TENANT", 1, None, "tenant-1", "app.py:5"), ("TENANT", 2, "tenant-1", "tenant-2", "app.py:5"),
        ("TENANT", 3, "tenant-2", "tenant-3", "app.py:5")]
    assert all(c["codes"] == ["LF007"] for c in report["environment"])


def test_tmp_that_fills_up_is_measured(project: Path) -> None:
    (project / "app.py").write_text(TMP_FILLS)
    growth = probe(project, "--events", "events.json")["tmp_growth"]
    assert growth["bytes"] == [0, 65536, 131072, 196608]
    assert growth["full_after"] == 8192 and growth["codes"] == ["LF010"]
    assert "/tmp grows by 64.0 KB per invocation [LF010]" in text(project, "--events", "events.json")


def test_memory_that_grows_with_every_invocation_is_shown(project: Path) -> None:
    (project / "app.py").write_text(MEMO_GROWS)
    (project / "events.json").write_text(json.dumps([{"id": n, "user": f"user-{n}"} for n in range(6)]))
    growth = probe(project, "--events", "events.json")["memory_growth"]
    assert growth["blocks_per_invocation"] >= 20 and growth["codes"] == ["LF008"]


def test_threads_and_tasks_left_running_are_shown(project: Path) -> None:
    (project / "app.py").write_text(THREAD_LEFT)
    work = probe(project, "--events", "events.json")["work"]
    assert [(w["kind"], w["name"], w["started_by"], w["where"], w["running_after"]) for w in work] == [
        ("thread", "flush", 1, "app.py:7", [1, 2, 3]), ("thread", "flush", 2, "app.py:7", [2, 3]),
        ("thread", "flush", 3, "app.py:7", [3])]
    assert work[0]["codes"] == ["LF009"]
    (project / "app.py").write_text(TASK_LEFT)
    work = probe(project, "--events", "events.json")["work"]
    assert [(w["kind"], w["name"], w["running_after"]) for w in work] == [
        ("task", "send", [1, 2, 3]), ("task", "send", [2, 3]), ("task", "send", [3])]


def test_a_handler_that_changes_its_event_gets_a_new_one_each_time(project: Path) -> None:
    """The runtime decodes each invocation's event anew: the same event again is not the changed one."""
    (project / "app.py").write_text('def lambda_handler(event, context):\n    return {"id": event.pop("id", None)}\n')
    report = probe(project, "--events", "events.json", "--repeat", "2")
    assert report["agrees"] is True and [i["warm"] for i in report["invocations"]][3] == {"result": {"id": 1}}


def test_a_clean_handler_shows_none_of_it(project: Path) -> None:
    (project / "app.py").write_text(CLEAN)
    report = probe(project, "--events", "events.json", "--repeat", "3")
    assert report["repeated_log_lines"] == report["carried_log_lines"] == report["environment"] == []
    assert report["tmp_growth"] is None and report["memory_growth"] is None and report["work"] == []


def _namespaces_allowed() -> bool:
    """Whether this machine lets a process have a /tmp of its own (a container may refuse)."""
    check = ("import sys, tempfile; sys.path.insert(0, sys.argv[1]); from probe_child import private_tmp; "
             "d = tempfile.mkdtemp(); print(private_tmp(d, [d]) is not None)")
    done = subprocess.run([sys.executable, "-c", check, str(Path(private_tmp.__code__.co_filename).parent)],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() == "True"


def test_cold_runs_never_see_what_a_program_left_in_the_machines_tmp(project: Path) -> None:
    """A program the handler starts writes a fixed /tmp path: every cold run starts without it, every
    time the probe runs, where the platform gives each run a /tmp of its own."""
    (project / "app.py").write_text(PROGRAM_WRITES_TMP.format(name=project.name))
    machine = Path(f"/tmp/lambda-fix-probe-{project.name}.txt")
    for _ in range(3):
        report = probe(project, "--events", "events.json")
        assert report["private_tmp"] == _namespaces_allowed()
        if report["private_tmp"]:
            assert [i["cold"] for i in report["invocations"]] == [{"result": {"there": False}}] * 3
            assert report["differing"] == [2, 3] and not machine.exists()
        machine.unlink(missing_ok=True)


def test_what_a_handler_returns_is_not_memory_it_keeps(project: Path) -> None:
    (project / "app.py").write_text('def lambda_handler(event, context):\n'
                                    '    return {"rows": [{"n": n, "id": event["id"]} for n in range(2000)]}\n')
    assert probe(project, "--events", "events.json", "--repeat", "3")["memory_growth"] is None


def test_a_project_right_in_tmp_is_probed_with_the_machines_tmp() -> None:
    """Its /tmp cannot be the handler's own (the module would not be there to import)."""
    name = f"lambda_fix_probe_in_tmp_{os.getpid()}"
    module = Path("/tmp", f"{name}.py")
    module.write_text(CLEAN)
    try:
        done = subprocess.run([sys.executable, "-m", "lambda_fix", "probe", f"{name}:lambda_handler", "--event",
                               "/dev/stdin", "--format", "json"], cwd="/tmp", input='{"id": 1}',
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["private_tmp"] is False
    finally:
        module.unlink()
