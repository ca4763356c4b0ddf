"""Property tests: random valid Python programs through every codemod, every function a handler.

No crash, every rewrite compiles, a second run changes nothing. And the facts found by searching the
text equal those a walk of every node finds.
"""

from __future__ import annotations

import ast

import hypothesmith
import pytest
from helpers import facts_by_searching, facts_by_walking
from hypothesis import HealthCheck, given, settings

import lambda_fix.analysis.handlers as handlers
import lambda_fix.worker as worker
from lambda_fix.analysis import module as module_facts
from lambda_fix import Config, Status, check_source

CONFIG = Config(unsafe_fixes=True)


@pytest.fixture(autouse=True)
def every_function_is_a_handler(monkeypatch):
    monkeypatch.setattr(handlers, "is_handler_signature", lambda function: True)
    monkeypatch.setattr(worker, "may_contain_handler", lambda *args: True)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_node())
def test_random_programs(source: str) -> None:
    try:
        compile(source, "<generated>", "exec")
    except (SyntaxError, ValueError):
        return  # the generator makes some programs the compiler rejects: not ours to judge
    result = check_source(source, CONFIG, path="generated.py")
    assert result.status is not Status.FAILED or not (result.error or "").startswith("internal error"), result.error
    if result.status is Status.CHANGED:
        assert result.new_source is not None
        compile(result.new_source, "<rewritten>", "exec")
        assert check_source(result.new_source, CONFIG, path="generated.py").status is Status.UNCHANGED


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_node())
def test_facts_found_in_the_text_equal_a_walk(source: str) -> None:
    """The facts the analysis finds by searching the text for names (module.statements_naming) are
    those a walk of every node finds."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    module = module_facts.build("generated.py", "generated", source, tree)
    assert facts_by_searching(module) == facts_by_walking(module)
