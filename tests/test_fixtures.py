"""Every fixture: a readable snapshot of the diff and report, and the properties every rewrite keeps."""

from __future__ import annotations

import ast
import os
import subprocess

import pytest
import vermin
from helpers import Case, cases, interpreter, run_tool
from pyflakes_messages import KNOWN, added
from syrupy.extensions.base import AbstractSyrupyExtension
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from lambda_fix import Mode, Status, run
from lambda_fix.formats import diff, text

CASES = cases()


class DiffSnapshot(SingleFileSnapshotExtension):
    """One readable file per fixture: the diff a user would see, then the report."""

    _write_mode = WriteMode.TEXT
    file_extension = "diff"

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:  # noqa: ANN001 - syrupy's
        # `test_snapshot[LF001-accumulating_log]`: the fixture's id, its slash kept readable.
        return AbstractSyrupyExtension.get_snapshot_name(test_location=test_location, index=index).replace("/", "-")


@pytest.fixture
def snapshot(snapshot):  # noqa: F811 - syrupy's, with one file per snapshot
    return snapshot.use_extension(DiffSnapshot)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_snapshot(case: Case, tmp_path, monkeypatch, snapshot) -> None:
    target = case.copy_to(tmp_path)
    monkeypatch.chdir(tmp_path)  # paths in the report are relative to the fixture
    summary = run_tool([target.name], case.config, Mode.DIFF)
    report = diff.render(summary) + text.render(summary, wrote=False)
    assert report == snapshot
    findings = [f for r in summary.results for f in r.findings]
    assert not summary.failed, report
    if case.must_not_change:
        assert summary.changed == 0, report
        assert bool(findings) == case.name.startswith("report_"), report
    else:
        assert summary.changed >= 1, report


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rewrite_compiles_and_second_run_changes_nothing(case: Case, tmp_path, monkeypatch) -> None:
    target = case.copy_to(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = run_tool([target.name], case.config, Mode.WRITE)
    targets = {directory: version for directory, version, _ in first.targets}
    for result in first.results:
        if result.status is Status.CHANGED:
            _compiles(result.new_source, case.python)
            if case.python is None:
                _runs_on_its_target(result.old_source, result.new_source,
                                    targets[os.path.dirname(os.path.abspath(result.path))])
            if case.python is None or interpreter(case.python) is not None:
                # A rewrite adds no pyflakes warning (no local a hoist left unread, no import left behind).
                new = [m for m in added(result.old_source, result.new_source, result.path, case.python).elements()
                       if m not in KNOWN.get(case.id, set())]
                assert not new, (result.path, new)
    second = run_tool([target.name], case.config, Mode.DIFF)
    assert second.changed == 0, diff.render(second)
    assert not second.failed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_check_reports_what_the_rewrite_does(case: Case, tmp_path, monkeypatch) -> None:
    """`--check` does not build the new sources (nor, for the `github` format, which needs only where
    each finding ends, each fix alone); it must still report exactly what a rewrite would."""
    target = case.copy_to(tmp_path)
    monkeypatch.chdir(tmp_path)
    checked = run_tool([target.name], case.config, Mode.CHECK)
    rewritten = run_tool([target.name], case.config, Mode.DIFF)
    assert [(r.path, r.status, r.findings, r.error) for r in checked.results] == \
        [(r.path, r.status, r.findings, r.error) for r in rewritten.results]
    assert all(r.new_source is None for r in checked.results)

    def located(summary):  # noqa: ANN001, ANN202 - everything but each fix's own edits
        return [(r.path, r.status, r.error, [(f.line, f.column, f.end_line, f.end_column, f.code, f.message,
                                              f.applied, f.fix and f.fix.title) for f in r.findings])
                for r in summary.results]

    ends_only = run([target.name], case.config, Mode.CHECK, details=True, fix_edits=False)
    detailed = run([target.name], case.config, Mode.DIFF, details=True)
    assert located(ends_only) == located(detailed)
    assert not ends_only.failed
    assert all(f.end_line for r in ends_only.results for f in r.findings)


def _runs_on_its_target(old: str, new: str, version: tuple[int, int]) -> None:
    """Everything the rewrite needs exists on the Python it targets, unless the original needed it
    already: syntax (`ast.parse` with that feature version) and library names (vermin's minimum)."""
    needed, had = vermin.detect(new)[1], vermin.detect(old)[1]
    floor = max(had or version, version)
    assert needed is None or needed <= floor, f"the rewrite needs Python {needed}, the target is {version}"
    ast.parse(new, feature_version=floor)


def _compiles(source: str, python: str | None) -> None:
    """Compiles with this Python or, for a fixture written for a newer one, with that one when here."""
    if python is None:
        compile(source, "<rewrite>", "exec")
        ast.parse(source)
        return
    executable = interpreter(python)
    if executable is None:
        return  # the snapshot and the second run still check it
    check = subprocess.run([executable, "-c", "import sys; compile(sys.stdin.read(), 'f', 'exec')"],
                           input=source, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
