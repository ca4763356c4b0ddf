"""Warm versus cold: the rewritten handler, invoked warm, returns what the original returns cold.

Each leak fixture has a list of events. The original and the rewritten module run in fresh
processes, warm (one import, every event in turn) and cold (a new process per event); results are
serialised right after each call returns, as the Lambda runtime does.
"""

from __future__ import annotations

import pytest
from helpers import Case, cases, invoke, run_tool

from lambda_fix import Mode

LEAKS = [c for c in cases() if c.events_file is not None]


def test_every_leak_fixture_has_events() -> None:
    missing = [c.id for c in cases() if not c.must_not_change and c.events_file is None]
    assert not missing


@pytest.mark.parametrize("case", LEAKS, ids=[c.id for c in LEAKS])
def test_rewritten_warm_equals_original_cold(case: Case, tmp_path, monkeypatch) -> None:
    events = case.events_file
    assert events is not None
    original = case.copy_to(tmp_path / "original")
    fixed = case.copy_to(tmp_path / "fixed")
    monkeypatch.chdir(fixed.parent)
    summary = run_tool([fixed.name], case.config, Mode.WRITE)
    assert summary.changed >= 1 and not summary.failed

    root = lambda target: target if target.is_dir() else target.parent  # noqa: E731
    original_cold = invoke(root(original), events, warm=False)
    original_warm = invoke(root(original), events, warm=True)
    assert original_warm != original_cold, "the fixture does not leak: its events show no drift"
    assert invoke(root(fixed), events, warm=True) == original_cold
    assert invoke(root(fixed), events, warm=False) == original_cold
