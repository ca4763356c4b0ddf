"""`lambda-fix probe` contains the handler's processes: what a handler starts is reported when it is
still running after an invocation, and ended with its interpreter, at the end and at a timeout, even
when it left the interpreter's session; a program that holds the interpreter's output open does not
hold up the probe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# Each process the handler starts writes "pid start-time" here (the start time tells a pid reused since).
NOTE = '''import os
import subprocess
import sys
import time

PIDS = {pids!r}


def note(pid):
    with open(f"/proc/{{pid}}/stat") as stream:
        start = stream.read().rsplit(")", 1)[1].split()[19]
    with open(PIDS, "a") as stream:
        stream.write(f"{{pid}} {{start}}\\n")


'''
LEAVES_A_SLEEP = '''
def lambda_handler(event, context):
    if event["id"] == 1:
        note(subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)
    return event["id"]
'''
# The program inherits the interpreter's stdout and stderr, and keeps them open.
HOLDS_OUTPUT = '''
def lambda_handler(event, context):
    note(subprocess.Popen(["sleep", "300"]).pid)
    return event["id"]
'''
ESCAPES = '''
def daemon():
    """A double fork: the grandchild, in a session of its own, outlives its parent. It has noted
    itself when this returns."""
    noted, told = os.pipe()
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            note(os.getpid())
            os.write(told, b"x")
            time.sleep(300)
        os.read(noted, 1)
        os._exit(0)
    os.waitpid(first, 0)


def lambda_handler(event, context):
    daemon()
    while True:  # a fork loop, until the timeout
        pid = os.fork()
        if pid == 0:
            time.sleep(300)
            os._exit(0)
        note(pid)
        time.sleep(0.02)
'''


def running(pid: int, start: str) -> bool:
    """Whether the process the handler noted still runs (a zombie has ended; another with its pid is not it)."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == start and fields[0] not in ("Z", "X", "x")


def all_ended(processes: list[tuple[int, str]]) -> bool:
    """Whether every process noted has ended, waiting a little: a process killed by SIGKILL is gone
    only once the kernel has run its exit, which on a busy machine is not at once."""
    deadline = time.monotonic() + 10
    while any(running(*p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(running(*p) for p in processes)


def noted(pids: Path) -> list[tuple[int, str]]:
    if not pids.exists():
        return []
    return [(int(pid), start) for pid, start in (line.split() for line in pids.read_text().splitlines() if line)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    place = tmp_path / "project"
    place.mkdir()
    (place / "events.json").write_text(json.dumps([{"id": 1}, {"id": 2}, {"id": 3}]))
    return place


@pytest.fixture
def pids(project: Path) -> Iterator[Path]:
    """Where the handler notes the processes it starts (in the project: what a run makes under /tmp is
    removed); any of them left running is killed after the test."""
    path = project / "pids.txt"
    yield path
    for pid, start in noted(path):
        if running(pid, start):
            os.kill(pid, signal.SIGKILL)


def probe(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "app:lambda_handler", *args], cwd=project,
                          capture_output=True, text=True, check=False, timeout=240)


def test_a_process_left_running_is_reported_and_ended(project: Path, pids: Path) -> None:
    (project / "app.py").write_text(NOTE.format(pids=str(pids)) + LEAVES_A_SLEEP)
    done = probe(project, "--events", "events.json")
    assert done.returncode == 0, done.stdout + done.stderr
    warm_pid = noted(pids)[0][0]  # the warm run's, which runs first
    assert "processes left running when an invocation returned (Lambda freezes them with the environment, and " \
           "they run on in the next invocation; the probe ended them):\n" \
           f"  `sleep 300` (pid {warm_pid}) [warm-start hazard]: started in invocation 1; still running after " \
           "invocations 1, 2, 3\n" in done.stdout
    assert len(noted(pids)) == 2 and all_ended(noted(pids))  # warm, and invocation 1 cold
    done = probe(project, "--events", "events.json", "--format", "json")
    assert json.loads(done.stdout)["processes"] == [{"command": "sleep 300", "pid": noted(pids)[2][0], "started_by": 1,
                                                     "running_after": [1, 2, 3], "hazard": "warm-start"}]
    assert all_ended(noted(pids))


def test_a_program_that_holds_the_output_open_does_not_hold_up_the_probe(project: Path, pids: Path) -> None:
    (project / "app.py").write_text(NOTE.format(pids=str(pids)) + HOLDS_OUTPUT)
    started = time.monotonic()
    done = probe(project, "--events", "events.json")
    assert time.monotonic() - started < 20  # it took 70 s, waiting for the output to end
    assert done.returncode == 0 and "did not finish" not in done.stderr, done.stdout + done.stderr
    assert len(noted(pids)) == 6 and all_ended(noted(pids))


def test_after_a_timeout_nothing_the_handler_started_is_left(project: Path, pids: Path) -> None:
    (project / "app.py").write_text(NOTE.format(pids=str(pids)) + ESCAPES)
    (project / "one.json").write_text('[{"id": 1}]')
    started = time.monotonic()
    done = probe(project, "--events", "one.json", "--timeout", "2")
    assert time.monotonic() - started < 60  # the fork loop ran 65 s past the timeout
    assert "Task timed out after 2.00 seconds" in done.stdout, done.stdout + done.stderr
    assert len(noted(pids)) > 4  # the daemons, and the fork loop's
    assert all_ended(noted(pids))


def test_what_a_process_that_cannot_be_timed_out_started_is_ended(
        project: Path, pids: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix import probe as probe_module
    # The import starts a daemon and never ends: the probe stops it at its own limit, with the daemon.
    (project / "app.py").write_text(NOTE.format(pids=str(pids)) + ESCAPES.replace("def lambda_handler", "def unused")
                                    + "\ndaemon()\ntime.sleep(30)\n\n\ndef lambda_handler(event, context):\n"
                                      "    return 1\n")
    monkeypatch.setattr(probe_module, "_IMPORT_ALLOWANCE", 5)
    with pytest.raises(probe_module.ProbeError, match="did not finish"):
        probe_module.probe("app:lambda_handler", [{}], ["e"], root=str(project), timeout=0.1, findings=False)
    assert len(noted(pids)) == 1, noted(pids)
    assert all_ended(noted(pids))


def test_what_a_handler_that_ends_its_process_started_is_ended(project: Path, pids: Path) -> None:
    # os._exit ends the interpreter before it can end what it started: the probe, which saw the daemon
    # below it, ends it.
    (project / "app.py").write_text(NOTE.format(pids=str(pids)) + ESCAPES.replace("def lambda_handler", "def unused")
                                    + "\n\ndef lambda_handler(event, context):\n    daemon()\n    time.sleep(3)\n"
                                      "    os._exit(1)\n")
    (project / "one.json").write_text('[{"id": 1}]')
    done = probe(project, "--events", "one.json")
    assert done.returncode == 2 and "ended without a result (exit 1)" in done.stderr, done.stderr
    assert len(noted(pids)) == 1 and all_ended(noted(pids))


def test_a_forked_copy_that_returns_from_the_handler_does_not_go_on_as_the_probe(project: Path) -> None:
    calls = project / "calls.txt"
    (project / "app.py").write_text(f'''import os
import time


def lambda_handler(event, context):
    with open({str(calls)!r}, "a") as stream:
        stream.write(f"{{os.getpid()}} {{event['id']}}\\n")
    if os.fork() == 0:
        return "the forked copy"  # a child that does not exit
    time.sleep(0.3)
    return "the handler"
''')
    done = probe(project, "--events", "events.json", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [i["warm"] for i in json.loads(done.stdout)["invocations"]] == [{"result": "the handler"}] * 3
    by_process: dict[str, list[str]] = {}
    for line in calls.read_text().splitlines():
        pid, event = line.split()
        by_process.setdefault(pid, []).append(event)
    # The warm run's interpreter, and one per cold invocation: no copy went on to the next event.
    assert sorted(by_process.values()) == [["1"], ["1", "2", "3"], ["2"], ["3"]]
