"""Warm versus cold: the rewritten handler, invoked warm, returns what the original returns cold.

Each leak fixture has a list of events. The original and the rewritten module run in fresh
processes, warm (one import, every event in turn) and cold (a new process per event); results are
serialised right after each call returns, as the Lambda runtime does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import Case, cases, fresh_tmp_available, interpreter, invoke, invoke_counting, run_tool

from lambda_fix import Mode

LEAKS = [c for c in cases() if c.events_file is not None and not c.must_not_change]
# Fixtures left alone because they already reset what they share (`ok_` with events): proved right.
ALREADY_RESET = [c for c in cases() if c.events_file is not None and c.name.startswith("ok_")]
# Fixtures reported, not rewritten (`report_` with events): the leak is real, shown warm against cold.
REPORTED = [c for c in cases() if c.events_file is not None and c.name.startswith("report_")]


@pytest.fixture
def tmp_path(tmp_path_factory):  # noqa: F811 - outside /tmp, which each harness process replaces
    base = Path(tempfile.mkdtemp(prefix="lambda-fix-behaviour-", dir="/var/tmp" if Path("/var/tmp").is_dir() else None))
    yield base
    shutil.rmtree(base, ignore_errors=True)
CLIENT_CASES = [c for c in LEAKS if "built_per_warm_invocation" in json.loads(c.events_file.read_text())]


def test_every_leak_fixture_has_events() -> None:
    missing = [c.id for c in cases() if not c.must_not_change and c.events_file is None]
    assert not missing


@pytest.mark.parametrize("case", LEAKS, ids=[c.id for c in LEAKS])
def test_rewritten_warm_equals_original_cold(case: Case, tmp_path, monkeypatch) -> None:
    events = case.events_file
    assert events is not None
    if case.code == "LF003" and not fresh_tmp_available():
        pytest.skip("needs a private /tmp per process (unshare -m), as a cold start has")
    if case.python and interpreter(case.python) is None:
        pytest.skip(f"needs Python {case.python} to run the handler")
    original = case.copy_to(tmp_path / "original")
    fixed = case.copy_to(tmp_path / "fixed")
    monkeypatch.chdir(fixed.parent)
    summary = run_tool([fixed.name], case.config, Mode.WRITE)
    assert summary.changed >= 1 and not summary.failed

    root = lambda target: target if target.is_dir() else target.parent  # noqa: E731
    original_cold = invoke(root(original), events, warm=False)
    original_warm = invoke(root(original), events, warm=True)
    if case not in CLIENT_CASES:  # hoisting clients changes cost, not results: counted below
        assert original_warm != original_cold, "the fixture does not leak: its events show no drift"
    assert invoke(root(fixed), events, warm=True) == original_cold
    assert invoke(root(fixed), events, warm=False) == original_cold


@pytest.mark.parametrize("case", ALREADY_RESET, ids=[c.id for c in ALREADY_RESET])
def test_code_left_alone_runs_warm_as_it_runs_cold(case: Case, tmp_path) -> None:
    """What the tool leaves alone as already reset (entry, `finally`, every way out) really is: its
    events give the same results warm as cold, failed invocations included."""
    events = case.events_file
    assert events is not None
    if case.code == "LF003" and not fresh_tmp_available():
        pytest.skip("needs a private /tmp per process (unshare -m), as a cold start has")
    original = case.copy_to(tmp_path / "original")
    root = original if original.is_dir() else original.parent
    assert invoke(root, events, warm=True) == invoke(root, events, warm=False)


@pytest.mark.parametrize("case", REPORTED, ids=[c.id for c in REPORTED])
def test_what_is_reported_drifts_when_invoked_warm(case: Case, tmp_path, monkeypatch) -> None:
    """A report without a fix is no guess: the original, invoked warm, returns what a cold start would
    not, and the tool leaves the code as it is."""
    events = case.events_file
    assert events is not None
    original = case.copy_to(tmp_path / "original")
    monkeypatch.chdir(original.parent)
    summary = run_tool([original.name], case.config, Mode.WRITE)
    assert summary.changed == 0 and not summary.failed
    root = original if original.is_dir() else original.parent
    assert invoke(root, events, warm=True) != invoke(root, events, warm=False)


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[c.id for c in CLIENT_CASES])
def test_clients_are_built_once_per_environment(case: Case, tmp_path, monkeypatch) -> None:
    """Results unchanged; warm invocations stop building the hoisted clients (per-tenant ones stay)."""
    events = case.events_file
    assert events is not None
    expected = json.loads(events.read_text())["built_per_warm_invocation"]
    original = case.copy_to(tmp_path / "original")
    fixed = case.copy_to(tmp_path / "fixed")
    monkeypatch.chdir(fixed.parent)
    assert run_tool([fixed.name], case.config, Mode.WRITE).changed == 1

    root = lambda target: target if target.is_dir() else target.parent  # noqa: E731
    original_results, original_built = invoke_counting(root(original), events)
    fixed_results, fixed_built = invoke_counting(root(fixed), events)
    assert fixed_results == original_results
    per_invocation = [after - before for before, after in zip(original_built, original_built[1:])]
    assert all(n > expected for n in per_invocation), "the original does not build a client per invocation"
    warm = [after - before for before, after in zip(fixed_built, fixed_built[1:])]
    assert warm == [expected] * len(warm)


def test_a_main_block_still_runs_after_the_rewrite(tmp_path, monkeypatch) -> None:
    """`python app.py EVENT` prints what it printed before the rewrite."""
    import subprocess
    import sys

    [case] = [c for c in cases() if c.id == "LF002/main_block_calls_the_handler"]
    original = case.copy_to(tmp_path / "original")
    fixed = case.copy_to(tmp_path / "fixed")
    monkeypatch.chdir(fixed.parent)
    assert run_tool([fixed.name], case.config, Mode.WRITE).changed == 1
    outputs = [subprocess.run([sys.executable, str(script), '{"id": "z"}'], capture_output=True, text=True,
                              timeout=60, check=True).stdout for script in (original, fixed)]
    assert outputs[0] == outputs[1] == "{'seen': ['z']}\n"


PROJECTS_WITH_TESTS = [c for c in cases() if c.source.is_dir() and list(c.source.glob("test_*.py"))]


@pytest.mark.parametrize("case", PROJECTS_WITH_TESTS, ids=[c.id for c in PROJECTS_WITH_TESTS])
def test_the_projects_own_tests_pass_before_and_after_the_rewrite(case: Case, tmp_path) -> None:
    import os
    import subprocess
    import sys

    def tests_pass(root: Path) -> subprocess.CompletedProcess:
        from helpers import TESTS

        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(TESTS / "stubs")])}
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
                               str(root)], cwd=root, env=environment, capture_output=True, text=True, timeout=120)

    original = case.copy_to(tmp_path / "original")
    before = tests_pass(original)
    assert before.returncode == 0, before.stdout
    fixed = case.copy_to(tmp_path / "fixed")
    summary = run_tool([str(fixed)], case.config, Mode.WRITE)
    assert not summary.failed
    after = tests_pass(fixed)
    assert after.returncode == 0, after.stdout + "".join(r.new_source or "" for r in summary.results)
