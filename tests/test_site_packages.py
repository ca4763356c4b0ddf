"""Robustness on code nobody here wrote: every `.py` file of the installed packages.

Two passes over the site-packages this suite runs from: the tool as users run it (no crash, files
without a handler never change), and a stress pass that treats every module-level function with a
parameter as a handler, so the codemods rewrite thousands of real functions. Every rewrite must
compile and a second run must change nothing.
"""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest

import lambda_fix.analysis.handlers as handlers
import lambda_fix.analysis.module as module_facts
import lambda_fix.worker as worker
from lambda_fix import Config, Mode, Status, check_source, run

# The corpus is whatever this interpreter has installed: run apart (`python -m pytest -m corpus`).
pytestmark = pytest.mark.corpus

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
FILES = sorted(SITE_PACKAGES.rglob("*.py"))


def test_the_corpus_is_real() -> None:
    assert len(FILES) > 500, f"only {len(FILES)} files under {SITE_PACKAGES}"


def test_as_users_run_it() -> None:
    summary = run([str(SITE_PACKAGES)], Config(unsafe_fixes=True), Mode.DIFF)
    internal = [r for r in summary.results if r.status is Status.FAILED and "internal error" in (r.error or "")]
    assert not internal, internal[:5]
    for result in summary.results:
        if result.status is Status.CHANGED:
            assert result.new_source is not None and result.old_source is not None
            tree = ast.parse(result.old_source)
            module = module_facts.build(result.path, "", result.old_source, tree)
            assert handlers.find_handlers(module), f"{result.path} has no handler but was changed"
            compile(result.new_source, result.path, "exec")
            assert check_source(result.new_source, Config(unsafe_fixes=True), path=result.path).status \
                is Status.UNCHANGED


def test_stress_every_function_is_a_handler(monkeypatch) -> None:
    monkeypatch.setattr(handlers, "is_handler_signature", lambda function: len(function.args.args) >= 1)
    monkeypatch.setattr(worker, "may_contain_handler", lambda *args: True)
    config = Config(unsafe_fixes=True)
    counts = {status: 0 for status in Status}
    problems = []
    for path in FILES:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        result = check_source(text, config, path=str(path))
        counts[result.status] += 1
        if result.status is Status.FAILED and not (result.error or "").startswith("syntax error"):
            problems.append((str(path), result.error))
        elif result.status is Status.CHANGED:
            assert result.new_source is not None
            compile(result.new_source, str(path), "exec")
            again = check_source(result.new_source, config, path=str(path))
            if again.status is not Status.UNCHANGED:
                problems.append((str(path), f"second run: {again.status.value} {again.error or ''}"))
    print(f"stress over {len(FILES)} files: " + ", ".join(f"{s.value} {n}" for s, n in counts.items()))
    assert not problems, problems[:10]
    assert counts[Status.CHANGED] > 0, "the stress pass rewrote nothing: it no longer exercises the codemods"
