"""The command line: modes, exit status, stdin, bad input, encodings, settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_fix import cli
from lambda_fix.engine import _write
from lambda_fix.worker import init as _init_worker
from lambda_fix.worker import process_file

LEAKY = '''items = []


def lambda_handler(event, context):
    items.append(event["id"])
    return {"count": len(items)}
'''
FIXED_HANDLER_LINE = "    items = []\n"
REPORT_ONLY = '''from types import SimpleNamespace

settings = SimpleNamespace(debug=False)


class Logger:
    def line(self, message):
        return f"[debug] {message}" if settings.debug else message


def lambda_handler(event, context):
    if event.get("debug"):
        settings.debug = True
    return Logger().line(event["m"])
'''


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nothing_to_do_exits_0(project) -> None:
    (project / "app.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    result = invoke("app.py")
    assert result.exit_code == 0
    assert "0 files changed" in result.output


def test_check_exits_1_and_writes_nothing(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = invoke("--check", "app.py")
    assert result.exit_code == 1
    assert "app.py:1:1: LF001 [*] module-level `items`" in result.output
    assert (project / "app.py").read_text() == LEAKY


def test_diff_prints_a_patch_and_writes_nothing(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = invoke("--diff", "app.py")
    assert result.exit_code == 1
    assert "--- a/app.py" in result.stdout and "+    items = []" in result.stdout
    assert "1 file would change" in result.stderr  # the patch alone on stdout
    assert (project / "app.py").read_text() == LEAKY


def test_diff_and_machine_formats_tell_on_stderr_which_file_failed_and_why(project) -> None:
    (project / "app.py").write_text(LEAKY)
    (project / "broken.py").write_text("def lambda_handler(event, context):\n    return (\n")
    result = invoke("--diff", ".")
    assert result.exit_code == 2 and "--- a/app.py" in result.stdout
    assert "broken.py: error: syntax error at line" in result.stderr
    assert "app.py:1:1: LF001 [*] module-level `items`" in result.stderr  # findings as --check shows them
    for name in ("json", "sarif", "rdjson", "github"):
        result = invoke("--check", "--format", name, ".")
        assert result.exit_code == 2 and "broken.py: error: syntax error at line" in result.stderr, name
        assert "broken.py" not in result.stderr.replace("broken.py: error", ""), name


def test_a_file_that_parses_but_does_not_compile_gets_one_verdict_in_every_mode(project) -> None:
    """`async with` at module level parses, and the compiler rejects it: cold, cached and in every mode."""
    (project / "app.py").write_text(LEAKY + "\nasync with open('x'):\n    pass\n")
    for args in (["--check", "--no-cache"], ["--diff", "--no-cache"], ["--check"], ["--diff"], ["--check"], []):
        result = invoke(*args, "app.py")
        assert result.exit_code == 2 and "app.py: error: syntax error: line 8: 'async with' outside" \
            in result.output, args
    assert (project / "app.py").read_text().startswith(LEAKY)


def test_default_rewrites_in_place_then_nothing_left(project) -> None:
    (project / "app.py").write_text(LEAKY)
    assert invoke("app.py").exit_code == 0
    assert FIXED_HANDLER_LINE in (project / "app.py").read_text()
    again = invoke("--check", "app.py")
    assert again.exit_code == 0, again.output


def test_findings_left_unfixed_exit_1(project) -> None:
    (project / "app.py").write_text(REPORT_ONLY)
    result = invoke("app.py")
    assert result.exit_code == 1
    assert "LF002" in result.output and "not fixed" in result.output


def test_bad_files_are_named_exit_2_and_the_rest_is_processed(project) -> None:
    (project / "good.py").write_text(LEAKY)
    broken = b"def lambda_handler(event, context):\n    return (\n"
    binary = b"\x00\x01def handler(event, context): pass"
    undecodable = b"def lambda_handler(event, context):\n    return '\xff\xfe'\n"
    (project / "broken.py").write_bytes(broken)
    (project / "binary.py").write_bytes(binary)
    (project / "latin.py").write_bytes(undecodable)
    result = invoke(".", "missing.py")
    assert result.exit_code == 2
    out = result.output
    assert "broken.py: error: syntax error at line" in out
    assert "binary.py: error: binary content" in out
    assert "latin.py: error: cannot decode as utf-8" in out
    assert "missing.py: error: no such file or directory" in out
    assert "4 errors" in out
    assert (project / "broken.py").read_bytes() == broken
    assert (project / "binary.py").read_bytes() == binary
    assert (project / "latin.py").read_bytes() == undecodable
    assert FIXED_HANDLER_LINE in (project / "good.py").read_text()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_an_error(project) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    path.chmod(0)
    try:
        result = invoke("app.py")
    finally:
        path.chmod(0o644)
    assert result.exit_code == 2 and "app.py: error: cannot read" in result.output


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xef\xbb\xbf" + LEAKY.encode(), id="utf8-bom"),
        pytest.param(LEAKY.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + LEAKY).encode("latin-1"), id="latin1-cookie"),
    ],
)
def test_encoding_and_line_endings_survive(project, raw: bytes) -> None:
    (project / "app.py").write_bytes(raw)
    assert invoke("app.py").exit_code == 0
    written = (project / "app.py").read_bytes()
    assert written != raw
    assert written.startswith(b"\xef\xbb\xbf") == raw.startswith(b"\xef\xbb\xbf")
    if b"\r\n" in raw:
        assert b"\n" not in written.replace(b"\r\n", b"")
    if b"latin-1" in raw:
        assert b"caf\xe9" in written
    assert invoke("--check", "app.py").exit_code == 0


def test_permissions_survive(project) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    path.chmod(0o750)
    invoke("app.py")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_file_changed_on_disk_after_reading_is_not_overwritten(project) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    _init_worker((str(path),), __import__("lambda_fix").Config())
    outcome = process_file(str(path))
    path.write_text(LEAKY + "# edited meanwhile\n")
    result = _write(outcome)
    assert result.error and "changed on disk" in result.error
    assert path.read_text().endswith("# edited meanwhile\n")


def test_stdin_to_stdout(project) -> None:
    result = invoke("-", input=LEAKY.encode())
    assert result.exit_code == 0
    assert FIXED_HANDLER_LINE in result.stdout
    assert "LF001" not in result.stdout  # the report goes to stderr


def test_stdin_syntax_error_echoes_input_and_exits_2(project) -> None:
    source = b"def handler(event, context):\n  return (\n"
    result = invoke("-", input=source)
    assert result.exit_code == 2
    assert result.stdout_bytes == source
    assert "syntax error" in result.stderr


def test_stdin_cannot_mix_with_paths(project) -> None:
    result = CliRunner().invoke(cli.main, ["-", "app.py"])
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_unknown_config_key_names_file_and_key(project) -> None:
    (project / "pyproject.toml").write_text('[tool.lambda-fix]\nselekt = ["LF001"]\n')
    (project / "app.py").write_text(LEAKY)
    result = invoke("app.py")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.output and "selekt" in result.output
    assert (project / "app.py").read_text() == LEAKY


def test_config_is_read_and_flags_override_it(project) -> None:
    (project / "pyproject.toml").write_text('[tool.lambda-fix]\nignore = ["LF001"]\n')
    (project / "app.py").write_text(LEAKY)
    result = invoke("--check", "app.py")
    assert "LF002" in result.output and "LF001" not in result.output  # falls through to a reset
    # A flag replaces the setting from the file: LF001 is back, LF002 is off.
    result = invoke("--check", "--ignore", "LF002", "app.py")
    assert "LF001" in result.output and "LF002" not in result.output


def test_select_unknown_code_is_a_usage_error(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = CliRunner().invoke(cli.main, ["--select", "XY1", "app.py"])
    assert result.exit_code == 2 and "unknown code" in result.output


@pytest.mark.parametrize("key", ["select", "ignore"])
def test_an_unknown_code_in_the_settings_file_is_an_error_naming_file_and_key(project, key: str) -> None:
    (project / "pyproject.toml").write_text(f'[tool.lambda-fix]\n{key} = ["LX001"]\n')
    (project / "app.py").write_text(LEAKY)
    result = CliRunner().invoke(cli.main, ["--check", "app.py"])
    assert result.exit_code == 2, result.output
    assert "pyproject.toml: [tool.lambda-fix] " + key + ": unknown code 'LX001'" in result.output


def test_a_settings_file_that_is_not_toml_stops_the_run_before_any_file_is_touched(project) -> None:
    (project / "pyproject.toml").write_text('[tool.lambda-fix]\nexclude = ["generated/"\n')
    (project / "generated").mkdir()
    (project / "generated" / "app.py").write_text(LEAKY)
    result = CliRunner().invoke(cli.main, ["."])
    assert result.exit_code == 2 and "pyproject.toml" in result.output and "not valid TOML" in result.output
    assert (project / "generated" / "app.py").read_text() == LEAKY


def test_each_project_of_a_monorepo_uses_its_own_settings(project) -> None:
    for name, settings in (("billing", 'ignore = ["LF001"]\nexclude = ["legacy/"]'), ("orders", "")):
        (project / name / "legacy").mkdir(parents=True)
        (project / name / "pyproject.toml").write_text(f"[tool.lambda-fix]\n{settings}\n")
        (project / name / "app.py").write_text(LEAKY)
        (project / name / "legacy" / "old.py").write_text(LEAKY)
    result = invoke("--check", ".")
    lines = result.output.splitlines()
    assert any(line.startswith("billing/app.py:1:1: LF002") for line in lines), result.output
    assert any(line.startswith("orders/app.py:1:1: LF001") for line in lines), result.output
    assert not any(line.startswith("billing/legacy/") for line in lines), result.output  # its own exclude
    assert any(line.startswith("orders/legacy/old.py:1:1: LF001") for line in lines), result.output
    # A file named on the command line is never excluded; --config makes one file serve every path.
    assert "LF002" in invoke("--check", "billing/legacy/old.py").output
    assert "LF001" in invoke("--check", "--config", "orders/pyproject.toml", "billing/app.py").output


def test_handler_option_adds_entry_points(project) -> None:
    source = LEAKY.replace("def lambda_handler(event, context)", "def process(payload, runtime)")
    (project / "app.py").write_text(source)
    assert invoke("--check", "app.py").exit_code == 0  # not a handler by name or signature
    assert invoke("--check", "--handler", "app:process", "app.py").exit_code == 1
    assert invoke("--check", "--handler", "other:process", "app.py").exit_code == 0


def test_directories_skip_environments_and_ignored_files(project) -> None:
    for relative in ("src/app.py", ".venv/lib/x.py", "node_modules/pkg/x.py", "build/x.py", "gen/x.py"):
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LEAKY)
    (project / ".gitignore").write_text("gen/\n")
    result = invoke("--check", ".")
    assert "src/app.py" in result.output
    assert "1 file would change" in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "lambda-fix" in result.output


def test_read_errors_are_reported_not_raised(project, monkeypatch) -> None:
    (project / "app.py").write_text(LEAKY)
    import lambda_fix.files as files

    original = files.read_regular

    def refuse(path, limit=files.READ_LIMIT):  # noqa: ANN001, ANN202
        if str(path).endswith("app.py"):
            raise PermissionError(13, "Permission denied")
        return original(path, limit)

    monkeypatch.setattr(files, "read_regular", refuse)
    result = invoke("app.py")
    assert result.exit_code == 2
    assert "app.py: error: cannot read: Permission denied" in result.output


def test_a_rewrite_that_does_not_compile_is_never_written(project, monkeypatch) -> None:
    import lambda_fix.worker as worker

    (project / "app.py").write_text(LEAKY)
    monkeypatch.setattr(worker, "_rewrite", lambda text, fixable, version=None: text + "\ndef broken(:\n")
    result = invoke("app.py")
    assert result.exit_code == 2
    assert "app.py: error: internal error in LF001: the rewrite does not compile" in result.output
    assert (project / "app.py").read_text() == LEAKY


def test_machine_formats_keep_stdout_clean(project) -> None:
    import json

    (project / "app.py").write_text(LEAKY)
    result = invoke("--check", "--format", "json", "app.py")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["findings"][0]["code"] == "LF001"
    assert "1 file would change" in result.stderr


def test_format_diff_is_diff(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = invoke("--format", "diff", "app.py")
    assert result.exit_code == 1 and result.stdout.startswith("--- a/app.py")
    assert (project / "app.py").read_text() == LEAKY


def test_exit_zero_for_findings_but_not_for_errors(project) -> None:
    (project / "app.py").write_text(REPORT_ONLY)
    assert invoke("--exit-zero", "app.py").exit_code == 0
    (project / "broken.py").write_text("def handler(event, context):\n  return (\n")
    assert invoke("--exit-zero", ".").exit_code == 2


def test_explain_prints_the_rule(project) -> None:
    result = invoke("--explain", "lf004")
    assert result.exit_code == 0 and result.output.startswith("# LF004 per-invocation-client")
    assert CliRunner().invoke(cli.main, ["--explain", "LF999"]).exit_code == 2


def test_paths_are_required_without_explain(project) -> None:
    result = CliRunner().invoke(cli.main, [])
    assert result.exit_code == 2 and "give at least one PATH" in result.output


def test_help_lists_the_exit_statuses_and_what_formats_mean_when_writing(project) -> None:
    result = invoke("--help")
    assert "Exit status:" in result.output and "130" in result.output and "github-review needs --check" in result.output


def test_the_review_format_needs_check(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = invoke("--format", "github-review", "app.py")
    assert result.exit_code == 2 and "use it with --check" in result.output
    assert (project / "app.py").read_text() == LEAKY


def test_a_machine_format_without_check_writes_and_reports_what_it_fixed(project) -> None:
    import json

    (project / "app.py").write_text(LEAKY)
    result = invoke("--format", "json", "app.py")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["summary"]["fixes_applied"] == 1 and report["findings"][0]["fix"]["applied"] is True
    assert FIXED_HANDLER_LINE in (project / "app.py").read_text()


def test_a_handler_name_that_matches_nothing_is_a_warning(project) -> None:
    (project / "app.py").write_text(LEAKY)
    result = invoke("--check", "--handler", "handle_it", "--handler", "app:lambda_handler",
                    "--handler", "other:lambda_handler", "app.py")
    assert "warning: --handler handle_it matches no function" in result.output
    assert "warning: --handler other:lambda_handler matches no function" in result.output
    assert "--handler app:lambda_handler" not in result.output


def test_the_usage_page_names_every_directory_a_walk_skips() -> None:
    from lambda_fix.discovery import SKIPPED_DIRECTORIES

    page = (Path(__file__).parent.parent / "docs" / "usage.md").read_text()
    assert [name for name in sorted(SKIPPED_DIRECTORIES) if f"`{name}`" not in page] == []


def test_a_config_file_without_the_table_is_an_error(project) -> None:
    (project / "app.py").write_text(LEAKY)
    (project / "other.toml").write_text("[tool.ruff]\nline-length = 100\n")
    result = invoke("--check", "--config", "other.toml", "app.py")
    assert result.exit_code == 2 and "[tool.lambda-fix] lambda-fix: no such table" in result.output


def test_ruffs_spellings_are_taken(project) -> None:
    (project / "app.py").write_text(LEAKY)
    assert '"findings"' in invoke("--check", "--output-format", "json", "app.py").output
    assert invoke("--fix", "--check", "app.py").exit_code == 2
    assert invoke("--fix", "app.py").exit_code == 0 and (project / "app.py").read_text() != LEAKY
    assert "lambda-fix probe" in invoke("--help").output


def test_every_finding_reported_without_a_fix_says_how_to_mark_it_deliberate() -> None:
    from helpers import FIXTURES

    reported = sorted(str(p) for p in FIXTURES.rglob("report_*.py"))
    lines = [line for line in invoke("--check", "--no-cache", *reported).output.splitlines() if ": LF00" in line]
    assert lines and all("[*]" in line or "lambda-fix: ignore[LF00" in line for line in lines), lines


def test_extend_select_and_extend_ignore_add_to_the_settings(project) -> None:
    from helpers import FIXTURES

    (project / "app.py").write_text((FIXTURES / "LF001" / "report_invocation_counter.py").read_text())
    (project / "pyproject.toml").write_text('[tool.lambda-fix]\nselect = ["LF001"]\n')
    assert invoke("--check", "app.py").exit_code == 0  # an LF002 finding, not selected
    assert invoke("--check", "--extend-select", "LF002", "app.py").exit_code == 1
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\n")
    assert invoke("--check", "--extend-ignore", "LF002", "app.py").exit_code == 0


def test_statistics_count_the_findings_of_each_code(project) -> None:
    (project / "a.py").write_text(LEAKY)
    (project / "b.py").write_text(LEAKY)
    result = invoke("--check", "--statistics", ".")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "    2\tLF001\t[*] handler-state-at-module-level"


def test_a_machine_format_with_standard_input_is_a_usage_error_not_ignored() -> None:
    result = CliRunner().invoke(cli.main, ["--format", "json", "-"], input=LEAKY)
    assert result.exit_code == 2 and "not available with standard input" in result.output
    assert CliRunner().invoke(cli.main, ["--diff", "-"], input=LEAKY).exit_code == 1
