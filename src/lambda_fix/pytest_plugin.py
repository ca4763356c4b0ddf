"""The `lambda_warm` pytest fixture: the probe in a team's own tests.

    def test_handler_is_warm_safe(lambda_warm):
        lambda_warm("hello_world.app:lambda_handler", [{"id": 1}, {"id": 2}])

invokes the handler warm (one interpreter, event after event) and each invocation cold (a fresh
interpreter each), and fails the test with the probe's report when a warm result differs from its
cold one. The handler runs in other interpreters: the test's own mocks do not reach it; give a
`setup` module that starts them (moto's `mock_aws().start()`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

import pytest


@pytest.fixture
def lambda_warm(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """invoke(target, events, *, repeat=1, root=None, setup=None, findings=False, timeout=30.0,
    expect_agreement=True) -> ProbeReport. root: where the handler's module is imported from (pytest's
    rootdir by default); findings: also name lambda-fix's findings in the report (a check of root);
    timeout: the function's, in seconds."""
    from .probe import DEFAULT_TIMEOUT, ProbeError, probe
    from .probe_report import render_text

    def invoke(target: str, events: Iterable[Any], *, repeat: int = 1, root: str | None = None,
               setup: str | None = None, findings: bool = False, timeout: float = DEFAULT_TIMEOUT,
               expect_agreement: bool = True) -> Any:
        events = list(events)
        names = [f"events[{i}]" for i in range(len(events))]
        try:
            report = probe(target, events, names, repeat, root or str(request.config.rootpath), setup=setup,
                           findings=findings, timeout=timeout)
        except ProbeError as exc:
            pytest.fail(f"lambda-fix probe could not run: {exc}", pytrace=False)
        if expect_agreement and not report.agrees:
            pytest.fail(render_text(report), pytrace=False)
        return report

    return invoke
