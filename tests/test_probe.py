"""`lambda-fix probe`: fixture projects invoked warm and cold, through the command line."""

from __future__ import annotations

import dataclasses
import json
import os
import re
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
LITERAL_TMP = '''import os

PATH = "/tmp/{name}"


def lambda_handler(event, context):
    there = os.path.exists(PATH)
    with open(PATH, "a") as stream:
        stream.write(str(event["id"]))
    return {{"there": there}}
'''
# A stand-in for boto3 in the project (the probe counts calls to the factories LF004 knows by name).
FAKE_BOTO3 = '''class Client:
    def __init__(self, service, **settings):
        self.service, self.settings = service, settings


def client(service, **settings):
    return Client(service, **settings)
'''
CLIENT_PER_INVOCATION = '''import boto3


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    return {"service": s3.service}
'''
CLIENT_FROM_CREDENTIALS = '''import boto3

_clients = {}


def lambda_handler(event, context):
    if "s3" not in _clients:
        _clients["s3"] = boto3.client("s3", aws_access_key_id=event["key"])
    return {"user": event["user"]}
'''
CACHED_CLIENT = '''import boto3

s3 = boto3.client("s3")
_by_region = {}


def lambda_handler(event, context):
    if event["region"] not in _by_region:
        _by_region[event["region"]] = boto3.client("sqs", region_name=event["region"])
    return {"service": s3.service}
'''
API_RESPONSE = '''import json

totals = {"count": 0}


def lambda_handler(event, context):
    totals["count"] += event["id"]
    return {"statusCode": 200, "body": json.dumps({"total": totals["count"], "user": "someone"})}
'''
SETUP_MODULE = '''import os

os.environ["GREETING"] = "set up first"
'''
USES_SETUP = '''import os

GREETING = os.environ["GREETING"]


def lambda_handler(event, context):
    return {"greeting": GREETING}
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


ENDS_ITS_ENVIRONMENT = '''import os
import sys
import time

seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    there = os.path.exists(PATH)
    open(PATH, "w").close()
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit"):
        sys.exit(3)
    return {"id": event["id"], "seen": list(seen), "file there": there,
            "time left": context.get_remaining_time_in_millis() > 0}
'''


def test_after_a_timeout_the_next_invocation_runs_in_a_new_environment_with_tmp_kept(project: Path) -> None:
    path = f"/tmp/lambda-fix-probe-test-{os.getpid()}-{project.name}.txt"
    (project / "app.py").write_text(f"PATH = {path!r}\n" + ENDS_ITS_ENVIRONMENT)
    (project / "slow.json").write_text('[{"id": 1}, {"id": 2, "sleep": 30}, {"id": 3}, {"id": 4}]')
    done = probe(project, "app:lambda_handler", "--events", "slow.json", "--timeout", "0.5")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invocation 2 (slow.json[1]): Task timed out after 0.50 seconds\n" in done.stdout
    assert "invocation 2 ended its execution environment (a timeout or an exit): the next ran in a new one, as " \
           "in Lambda (the module imported again, /tmp as it was left)\n" in done.stdout
    # The module starts again; the file the first environment left is still there.
    assert "app.seen (list, app.py:6) [LF001]: [] (len 0) after import -> [1] (len 1) after invocation 1 -> " \
           "[] (len 0) after the new environment's import -> [3] (len 1) after invocation 3 -> " in done.stdout
    report = json.loads(probe(project, "app:lambda_handler", "--events", "slow.json", "--timeout", "0.5",
                              "--format", "json").stdout)
    assert report["ended"] == [2] and len(report["invocations"]) == 4
    assert report["invocations"][2]["warm"] == {"result": {"id": 3, "seen": [3], "file there": True, "time left": True}}
    expected = {"id": 3, "seen": [3], "file there": False, "time left": True}
    assert report["invocations"][2]["cold"] == {"result": expected}
    assert not os.path.exists(path)


def test_a_process_that_cannot_be_timed_out_is_stopped(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix import probe as probe_module
    (project / "app.py").write_text("import time\n\ntime.sleep(30)\n\n\ndef lambda_handler(event, context):\n"
                                    "    return 1\n")
    monkeypatch.setattr(probe_module, "_IMPORT_ALLOWANCE", 0.5)
    with pytest.raises(probe_module.ProbeError, match="did not finish within 1 s"):
        probe_module.probe("app:lambda_handler", [{}], ["e"], root=str(project), timeout=0.1, findings=False)


def test_a_handler_that_exits_ends_the_warm_environment(project: Path) -> None:
    path = f"/tmp/lambda-fix-probe-test-{os.getpid()}-{project.name}.txt"
    (project / "app.py").write_text(f"PATH = {path!r}\n" + ENDS_ITS_ENVIRONMENT)
    (project / "exits.json").write_text('[{"id": 1}, {"id": 2, "exit": true}, {"id": 3}]')
    done = probe(project, "app:lambda_handler", "--events", "exits.json")
    assert "invocation 2 (exits.json[1]): Runtime.ExitError: the handler exited (sys.exit(3))\n" in done.stdout
    assert "invocation 2 ended its execution environment (a timeout or an exit): the next ran in a new one" \
        in done.stdout
    assert not os.path.exists(path)


@pytest.mark.parametrize(("setup", "args", "message"), [
    ({"app.py": "import no_such_module\n"}, ["app:lambda_handler", "--events", "events.json"],
     "cannot import app:lambda_handler: ModuleNotFoundError"),
    ({"app.py": CLEAN}, ["app:no_such_function", "--events", "events.json"], "AttributeError"),
    ({"app.py": CLEAN, "bad.json": "{not json"}, ["app:lambda_handler", "--event", "bad.json"], "bad.json: not JSON"),
    ({"app.py": CLEAN, "one.json": "{}"}, ["app:lambda_handler", "--events", "one.json"], "a JSON array of events"),
    ({"app.py": CLEAN}, ["app:lambda_handler"], "no events"),
    ({"app.py": CLEAN}, ["app", "--events", "events.json"], "MODULE:FUNCTION"),
    ({"app.py": CLEAN}, ["app:lambda_handler", "--events", "events.json", "--python", "/no/such/python"],
     "/no/such/python: no such interpreter"),
    ({"app.py": CLEAN, "bad_setup.py": "raise RuntimeError('no moto')\n"},
     ["app:lambda_handler", "--events", "events.json", "--setup", "bad_setup"],
     "the setup module bad_setup raised: RuntimeError: no moto"),
])
def test_what_stops_the_probe_is_one_line_and_exit_2(project: Path, setup: dict, args: list, message: str) -> None:
    for name, text in setup.items():
        (project / name).write_text(text)
    done = probe(project, *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_sams_handler_spelling_and_another_interpreter(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    import venv
    # A bare environment, as a project's own would be: the handler's side needs nothing of lambda-fix.
    bare = tmp_path_factory.mktemp("bare-venv")
    venv.create(bare, with_pip=False)
    (project / "app.py").write_text("import sys\n\n\ndef lambda_handler(event, context):\n"
                                    "    return sys.prefix\n")
    done = probe(project, "app.lambda_handler", "--events", "events.json", "--python", str(bare / "bin" / "python"),
                 "--format", "json")
    assert done.returncode == 0, done.stderr
    results = {i["warm"]["result"] for i in json.loads(done.stdout)["invocations"]}
    assert results == {str(bare)}


def test_help_says_it_runs_the_projects_code() -> None:
    done = subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "--help"], capture_output=True, text=True,
                          check=False)
    assert "RUNS THE PROJECT'S CODE" in done.stdout and "Exit status" in done.stdout


def test_state_that_grows_is_named_with_its_history_and_finding(project: Path) -> None:
    (project / "app.py").write_text(GROWS)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert "module-level state that changed between invocations:\n  app.seen (list, app.py:1) [LF001]: " \
           "[] (len 0) after import -> [1] (len 1) after invocation 1 -> [1, 2] (len 2) after invocation 2 -> " \
           "[1, 2, 3] (len 3) after invocation 3\n" in done.stdout
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    assert [(s["name"], s["codes"], [h["size"] for h in s["history"]]) for s in report["state"]] == [
        ("app.seen", ["LF001"], [0, 1, 2, 3])]


def test_a_library_installed_in_the_project_directory_is_not_the_projects_state(project: Path) -> None:
    # `pip install -t .`, as a zip's dependencies beside the handler: its module state is the library's.
    (project / "tally.py").write_text("counts = {}\n\n\ndef add(key):\n    counts[key] = counts.get(key, 0) + 1\n")
    (project / "tally-1.0.dist-info").mkdir()
    (project / "tally-1.0.dist-info" / "RECORD").write_text("tally.py,,\ntally-1.0.dist-info/RECORD,,\n")
    (project / "app.py").write_text(GROWS.replace("seen.append(event[\"id\"])",
                                                  "seen.append(event[\"id\"])\n    tally.add(event[\"id\"])")
                                    .replace("seen = []", "import tally\n\nseen = []"))
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    assert [entry["name"] for entry in report["state"]] == ["app.seen"]


def test_a_clean_handler_reports_nothing_kept(project: Path) -> None:
    (project / "app.py").write_text(CLEAN)
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    assert report["state"] == report["files"] == report["clients"] == report["reused_clients"] == []


def test_a_file_left_under_literal_tmp_is_named_and_removed_between_runs(project: Path) -> None:
    name = f"lambda-fix-probe-test-{os.getpid()}-{project.name}.txt"
    (project / "app.py").write_text(LITERAL_TMP.format(name=name))
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 1, done.stderr
    assert f"files one invocation left for the next:\n  /tmp/{name} [LF003]: made by invocation 1 at app.py:8; " \
           "still there at the start of invocations 2, 3\n" in done.stdout
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    # Every cold run starts without it: what the warm run (and each cold run) made is removed.
    assert [i["cold"] for i in report["invocations"]] == [{"result": {"there": False}}] * 3
    assert not os.path.exists(f"/tmp/{name}")


def test_a_file_under_a_name_from_the_event_is_tagged_with_its_finding(project: Path) -> None:
    prefix = f"lambda-fix-probe-test-{os.getpid()}-{project.name}"
    (project / "app.py").write_text(f'''def lambda_handler(event, context):
    path = f"/tmp/{prefix}-{{event['id']}}.txt"
    with open(path, "a") as stream:
        stream.write("x")
    with open(path) as stream:
        return {{"content": stream.read()}}
''')
    (project / "same.json").write_text('[{"id": 1}, {"id": 1}, {"id": 2}]')
    done = probe(project, "app:lambda_handler", "--events", "same.json")
    assert done.returncode == 1, done.stderr
    assert f"  /tmp/{prefix}-1.txt [LF003]: made by invocation 1 at app.py:3; still there at the start of " \
           "invocations 2, 3; read by invocation 2\n" in done.stdout
    assert not os.path.exists(f"/tmp/{prefix}-1.txt") and not os.path.exists(f"/tmp/{prefix}-2.txt")


def test_reading_back_what_the_invocation_itself_wrote_is_not_reading_what_it_was_left(project: Path) -> None:
    name = f"lambda-fix-probe-test-{os.getpid()}-{project.name}.txt"
    (project / "app.py").write_text(f'''def lambda_handler(event, context):
    with open("/tmp/{name}", "w") as stream:
        stream.write(str(event["id"]))
    with open("/tmp/{name}") as stream:
        return stream.read()
''')
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 0, done.stdout
    assert f"  /tmp/{name} [LF003]: made by invocation 1 at app.py:2; still there at the start of invocations 2, 3\n" \
        in done.stdout


def test_a_file_a_program_the_handler_starts_leaves_is_named_and_removed(project: Path) -> None:
    prefix = f"/tmp/lambda-fix-probe-test-{os.getpid()}-{project.name}"
    (project / "app.py").write_text(f'''import os
import subprocess
import sys


def lambda_handler(event, context):
    made = [os.path.exists("{prefix}-a.txt"), os.path.exists("{prefix}-b.txt")]
    subprocess.run([sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", "{prefix}-a.txt"], check=True)
    os.system("echo x >{prefix}-b.txt")
    return made
''')
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 1, done.stderr
    program = os.path.basename(sys.executable)
    # A command given a /tmp path may write it: lambda-fix finds that one; not a path inside a shell line.
    assert f"  {prefix}-a.txt [LF003]: made by invocation 1 at app.py:8 (by `{program}`, a program " \
           "it started); still there at the start of invocations 2, 3\n" in done.stdout
    assert f"  {prefix}-b.txt [no lambda-fix finding]: made by invocation 1 at app.py:9 (by `echo`, a program it " \
           "started); still there" in done.stdout
    assert not os.path.exists(f"{prefix}-a.txt") and not os.path.exists(f"{prefix}-b.txt")


def test_a_file_a_library_thread_writes_is_placed_where_the_handler_waits(project: Path) -> None:
    path = f"/tmp/lambda-fix-probe-test-{os.getpid()}-{project.name}.txt"
    (project / "app.py").write_text(f'''import shutil
import threading


def lambda_handler(event, context):
    # As s3transfer downloads: a library's thread writes the file while the handler waits.
    worker = threading.Thread(target=shutil.copyfile, args=(__file__, "{path}"))
    worker.start()
    worker.join()
    return event["id"]
''')
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 0, done.stdout + done.stderr
    # The library's thread may write before `start()` has returned (a busy machine): the handler's
    # thread waits at line 8 then, else at line 9; either is where the handler waits.
    assert re.search(rf"  {re.escape(path)} \[no lambda-fix finding\]: made by invocation 1 at app\.py:[89]; "
                     "still there", done.stdout), done.stdout


def test_a_file_under_tmp_from_before_the_probe_is_left_alone(project: Path) -> None:
    name = f"lambda-fix-probe-kept-{os.getpid()}-{project.name}.txt"
    kept = Path("/tmp", name)
    kept.write_text("the user's")
    try:
        (project / "app.py").write_text(LITERAL_TMP.format(name=name))
        report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
        assert kept.read_text() == "the user's"
        if report["private_tmp"]:  # the handler's /tmp was its own, as in Lambda: the file it made there is left
            assert [(f["path"], f["made_by"]) for f in report["files"]] == [(str(kept), 1)]
        else:  # it shared the machine's, where the file was before the probe: not the handler's
            assert report["files"] == []
    finally:
        kept.unlink()


def test_a_client_built_per_invocation_is_counted(project: Path) -> None:
    (project / "boto3.py").write_text(FAKE_BOTO3)
    (project / "app.py").write_text(CLIENT_PER_INVOCATION)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 0, done.stderr
    assert "clients built per invocation:\n  boto3.client('s3') at app.py:5 [LF004]: 3 built, 1 in each of the " \
           "3 invocations\n" in done.stdout


def test_a_client_a_library_builds_for_the_handler_names_the_librarys_function(
        project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix.probe import probe as run_probe
    from lambda_fix.probe_report import render_text
    library = tmp_path_factory.mktemp("library")  # outside the project: not the project's code
    (library / "boto3.py").write_text(FAKE_BOTO3)
    (library / "storage.py").write_text("import boto3\n\n\ndef fetch(key):\n    return boto3.client('s3').service\n")
    (project / "app.py").write_text("import storage\n\n\ndef lambda_handler(event, context):\n"
                                    "    return storage.fetch(event['id'])\n")
    monkeypatch.setenv("PYTHONPATH", str(library))
    report = run_probe("app:lambda_handler", [{"id": 1}, {"id": 2}], ["e1", "e2"], root=str(project), findings=False)
    assert "  boto3.client('s3') at app.py:5, inside storage.fetch: 2 built, 1 in each of the 2 invocations\n" \
        in render_text(report)


def test_clients_built_once_are_not_counted(project: Path) -> None:
    (project / "boto3.py").write_text(FAKE_BOTO3)
    (project / "app.py").write_text(CACHED_CLIENT)
    (project / "events.json").write_text(json.dumps([{"region": "eu-west-1"}] * 3))
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    assert report["clients"] == [] and report["reused_clients"] == []  # at import, and once per region


def test_a_client_built_from_one_events_credentials_held_for_the_next(project: Path) -> None:
    (project / "boto3.py").write_text(FAKE_BOTO3)
    (project / "app.py").write_text(CLIENT_FROM_CREDENTIALS)
    (project / "events.json").write_text(json.dumps([{"key": "AKIAUSERONE", "user": "a"},
                                                     {"key": "AKIAUSERTWO", "user": "b"}]))
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert "clients built from one event and used for another:\n  boto3.client('s3') at app.py:8: built in " \
           "invocation 1 from event[\"key\"] (aws_access_key_id); still held by app._clients['s3'] when " \
           "invocation 2 started with other credentials\n" in done.stdout
    assert "AKIAUSERTWO" not in done.stdout  # what a credential is, is never shown


CHANGES_EVERY_RUN = '''import json
import time
import uuid

seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    body = {"id": str(uuid.uuid4()), "at": time.time(), "count": len(seen) if event.get("leak") else 1}
    return {"statusCode": 200, "body": json.dumps(body)}
'''


def test_values_that_differ_from_one_cold_run_to_the_next_are_not_compared(project: Path) -> None:
    (project / "app.py").write_text(CHANGES_EVERY_RUN)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 0, done.stdout
    assert "not compared, as they differ from one cold run to the next (a time, a random id):\n" \
           "  result.body (decoded JSON).at (invocations 1, 2, 3)\n" \
           "  result.body (decoded JSON).id (invocations 1, 2, 3)\n" in done.stdout
    assert "warm and cold results agree" in done.stdout


def test_what_differs_beside_values_that_change_every_run_still_differs(project: Path) -> None:
    (project / "app.py").write_text(CHANGES_EVERY_RUN)
    (project / "leaks.json").write_text('[{"id": 1}, {"id": 2, "leak": true}]')
    done = probe(project, "app:lambda_handler", "--events", "leaks.json")
    assert done.returncode == 1, done.stdout
    assert '  -      "count": 1,\n  +      "count": 2,\n' in done.stdout
    assert '"id": "<not compared: differs from one cold run to the next>"' in done.stdout
    report = json.loads(probe(project, "app:lambda_handler", "--events", "leaks.json", "--format", "json").stdout)
    assert report["differing"] == [2]
    assert report["invocations"][1]["not_compared"] == ["result.body (decoded JSON).at",
                                                        "result.body (decoded JSON).id"]


def test_an_api_gateway_body_is_diffed_decoded(project: Path) -> None:
    (project / "app.py").write_text(API_RESPONSE)
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 1
    assert '"body (decoded JSON)": {\n  -      "total": 2,\n  +      "total": 3,' in done.stdout


def test_after_probes_the_rewrite_in_a_copy(project: Path) -> None:
    (project / "app.py").write_text(GROWS)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--after")
    assert done.returncode == 0, done.stdout
    assert "after lambda-fix's rewrite in a temporary copy (1 file(s) changed: app.py): its warm results against " \
           "the original's cold ones\n" in done.stdout
    assert "the rewrite's warm results agree with the original's cold ones\n" in done.stdout
    assert "module-level state" not in done.stdout
    assert (project / "app.py").read_text() == GROWS


def test_after_takes_an_interpreter_named_relative_to_the_project(project: Path) -> None:
    """As docs/probe.md suggests, `--python .venv/bin/python`: each run starts in the copy's directory,
    where the relative name would name nothing."""
    (project / "app.py").write_text(GROWS)
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--after", "--python", ".venv/bin/python")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the rewrite's warm results agree with the original's cold ones\n" in done.stdout


def test_a_rewrite_that_cannot_be_imported_where_the_original_can_is_the_rewrites_failure(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from lambda_fix import engine
    from lambda_fix import probe as probe_module
    from lambda_fix.model import Status

    def breaks(paths: list[str], settings: object, mode: object) -> SimpleNamespace:  # a stand-in for a bad rewrite
        broken = Path(paths[0], "app.py")
        broken.write_text("raise ImportError('the rewrite broke it')\n")
        return SimpleNamespace(results=[SimpleNamespace(path=str(broken), status=Status.CHANGED)])

    (project / "app.py").write_text(CLEAN)
    monkeypatch.setattr(engine, "run", breaks)
    with pytest.raises(probe_module.RewriteFails, match=r"lambda-fix's rewrite \(app.py\) fails where the original "
                                                        r"runs: cannot import app:lambda_handler: ImportError"):
        probe_module.probe_rewrite("app:lambda_handler", [{"id": 1}], ["e"], root=str(project))
    (project / "app.py").write_text("import no_such_module\n")  # the original fails too: its own error
    with pytest.raises(probe_module.ProbeError, match="No module named 'no_such_module'") as raised:
        probe_module.probe_rewrite("app:lambda_handler", [{"id": 1}], ["e"], root=str(project))
    assert not isinstance(raised.value, probe_module.RewriteFails)


def test_a_rewrite_that_changes_what_a_cold_invocation_returns_is_caught(tmp_path: Path) -> None:
    # What --after checks, with a stand-in for a harmful rewrite: warm runs import the rewrite, cold
    # runs the original; a rewrite that is warm-safe but returns something else still differs.
    from lambda_fix.probe import probe as run_probe
    from lambda_fix.probe_report import render_text
    original, rewrite = tmp_path / "original", tmp_path / "rewrite"
    for place, source in ((original, GROWS), (rewrite, CLEAN)):
        place.mkdir()
        (place / "app.py").write_text(source)
    report = run_probe("app:lambda_handler", [{"id": 1}, {"id": 2}], ["e1", "e2"], root=str(rewrite),
                       cold_root=str(original), findings=False)
    assert report.differing == (0, 1)
    text = render_text(dataclasses.replace(report, after=True))
    assert ("invocation 1 (e1): warm (rewrite) differs from cold (original)\n"
            "  --- cold (original)\n  +++ warm (rewrite)") in text
    assert text.endswith("2 of 2 invocation(s): the rewrite's warm result differs from the original's cold one\n")


def test_after_says_when_the_rewrite_changed_nothing(project: Path) -> None:
    (project / "app.py").write_text(CLEAN)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--after")
    assert done.returncode == 0, done.stdout
    assert "after lambda-fix's rewrite in a temporary copy (it changed no file)" in done.stdout
    report = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--after",
                              "--format", "json").stdout)
    assert report["after"] is True and report["rewritten"] == []


def test_setup_is_imported_first_in_every_interpreter(project: Path) -> None:
    (project / "probe_setup.py").write_text(SETUP_MODULE)
    (project / "app.py").write_text(USES_SETUP)
    done = probe(project, "app:lambda_handler", "--events", "events.json", "--setup", "probe_setup", "--format",
                 "json")
    assert done.returncode == 0, done.stderr
    assert {i["cold"]["result"]["greeting"] for i in json.loads(done.stdout)["invocations"]} == {"set up first"}


PLUGIN_TESTS = '''
def test_grows(lambda_warm):
    lambda_warm("grows:lambda_handler", [{"id": 1}, {"id": 2}])


def test_clean(lambda_warm):
    report = lambda_warm("clean:lambda_handler", [{"id": 1}, {"id": 2}], repeat=2)
    assert report.agrees and len(report.warm) == 4
'''


def test_the_pytest_fixture_fails_a_test_whose_handler_drifts(project: Path) -> None:
    (project / "grows.py").write_text(GROWS)
    (project / "clean.py").write_text(CLEAN)
    (project / "test_handlers.py").write_text(PLUGIN_TESTS)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_handlers.py"],
                          cwd=project, capture_output=True, text=True, check=False)
    assert "1 failed, 1 passed" in done.stdout, done.stdout
    assert "invocation 2 (events[1]): warm differs from cold" in done.stdout


@pytest.mark.parametrize(("spelled", "path", "tagged"), [
    ("/tmp/output.json", "/tmp/output.json", True),  # the fixed path itself
    ("/tmp/work", "/tmp/work/part-1.csv", True),  # the directory it is in
    ("/tmp/output.json", "/tmp/output.json.bak", False),
    ("""f"/tmp/report-{event['id']}.csv\"""", "/tmp/report-7.csv", True),
    ("""f"/tmp/report-{event['id']}.csv\"""", "/tmp/report-7.json", False),
    ("""f"/tmp/report-{event['id']}...""", "/tmp/report-7.csv", True),  # shortened by the message
    ("""f"/tmp/report-{eve...""", "/tmp/report-7.csv", True),
    ("""f"/tmp/report-{eve...""", "/tmp/other-7.csv", False),
])
def test_a_left_file_is_matched_to_the_finding_that_spells_it(spelled: str, path: str, tagged: bool) -> None:
    from lambda_fix.probe import ProbeReport
    from lambda_fix.probe_report import _tmp_codes
    report = ProbeReport(target="app:h", root="/p", event_names=(), warm=(), cold=(),
                         findings=(("app.py", 3, "LF003", f"`{spelled}` is written while `h` runs"),))
    assert _tmp_codes(report, path, "app.py:9") == (("LF003",) if tagged else ())
    assert _tmp_codes(report, path, "other.py:9") == ()  # another file's finding does not cover it


def test_outcomes_are_compared_leaf_by_leaf() -> None:
    from lambda_fix.probe_compare import NOT_COMPARED, differing_paths, masked, spelled
    first = {"result": {"items": [{"id": 1, "at": 5}], "n": 1, "only": True}}
    second = {"result": {"items": [{"id": 1, "at": 6}], "n": 1}}
    paths = differing_paths(first, second)
    assert paths == [("result", "items", 0, "at"), ("result", "only")]
    assert [spelled(p) for p in paths] == ["result.items[0].at", "result.only"]
    assert masked(first, paths)["result"]["items"][0] == {"id": 1, "at": NOT_COMPARED}
    assert differing_paths({"result": [1, 2]}, {"result": [1]}) == [("result",)]  # lengths differ: the whole list
    assert differing_paths({"error": "E: x"}, {"result": 1}) == [("error",), ("result",)]
    from lambda_fix.probe_compare import decoded
    assert decoded({"result": {"body": '{"a": [1]}', "api": '[{"x": "{\\"y\\": 2}"}]', "text": "{not json"}}) == \
        {"result": {"body (decoded JSON)": {"a": [1]}, "api (decoded JSON)": [{"x (decoded JSON)": {"y": 2}}],
                    "text": "{not json"}}


def test_calls_lambda_fix_could_not_follow_are_shown_beside_what_the_probe_saw(project: Path) -> None:
    (project / "app.py").write_text('''class Router:
    seen = []

    def on_1(self, event):
        self.seen.append(event["id"])
        return len(self.seen)

    on_2 = on_3 = on_1


def lambda_handler(event, context):
    return getattr(Router(), "on_" + str(event["id"]))(event)
''')
    done = probe(project, "app:lambda_handler", "--events", "events.json")
    assert done.returncode == 1, done.stderr
    assert ("calls with request data that lambda-fix could not follow (what they keep is not checked):\n"
            "  app.py:12: `getattr(Router(), \"on_\" + str(event[\"id\"]))` in `lambda_handler`\n") in done.stdout
    as_json = json.loads(probe(project, "app:lambda_handler", "--events", "events.json", "--format", "json").stdout)
    assert as_json["unfollowed"] == [
        {"path": "app.py", "line": 12, "call": '`getattr(Router(), "on_" + str(event["id"]))` in `lambda_handler`'}]
