"""What users of Ruff expect to find: --show-fixes, per-file-ignores, a listing of every rule, colour
on a terminal (issue 22, section 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_fix import cli, codes

LEAKY = '''items = []


def lambda_handler(event, context):
    items.append(event["id"])
    return {"count": len(items)}
'''


def invoke(*args: str, env: dict[str, str] | None = None, command=cli.main):
    return CliRunner().invoke(command, list(args), catch_exceptions=False, env=env)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _leaky_tree(project: Path) -> None:
    for path in ("src/app.py", "tests/unit/test_app.py", "tests/conftest.py"):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(LEAKY)


def test_per_file_ignores_leave_codes_out_of_matching_files_in_every_mode_format_and_from_the_cache(project) -> None:
    _leaky_tree(project)
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\n")
    first = invoke("--check", ".")  # fills the cache with every file's LF001
    assert first.output.count("LF001") == 3
    (project / "pyproject.toml").write_text(
        '[tool.lambda-fix]\nper-file-ignores = { "tests/**" = ["LF00"] }\n'
        'extend-per-file-ignores = { "!{src,tests}/**" = ["LF001"] }\n')
    for args in (["--check"], ["--diff"], ["--check", "--format", "json"], ["--check", "--format", "sarif"],
                 ["--check", "--format", "github"], ["--check", "--format", "rdjson"],
                 ["--check", "--format", "github-review"]):
        result = invoke(*args, ".")
        assert "tests/" not in result.output and "src/app.py" in result.output, (args, result.output)
    assert invoke("--check", "--statistics", ".").output.startswith("    1\tLF001\t")
    # The glob is relative to the settings file, wherever the run starts, and with --config too.
    os.chdir(project / "src")
    assert "test_app" not in invoke("--check", "..").output
    assert "test_app" not in invoke("--check", "--config", "../pyproject.toml", "../tests").output
    stdin = CliRunner().invoke(cli.main, ["--check", "--stdin-filename", "../tests/x.py", "-"], input=LEAKY)
    assert stdin.exit_code == 0 and "LF00" not in stdin.output
    os.chdir(project)
    # A run that writes leaves the ignored files as they were.
    assert invoke(".").exit_code == 0
    assert (project / "tests" / "unit" / "test_app.py").read_text() == LEAKY
    assert (project / "src" / "app.py").read_text() != LEAKY


@pytest.mark.parametrize("table, key", [
    ('per-file-ignores = { "tests/*" = ["LX001"] }', "per-file-ignores.'tests/*': unknown code 'LX001'"),
    ('per-file-ignores = { "tests/*" = "LF001" }', "per-file-ignores.'tests/*': must be a list of codes"),
    ('per-file-ignores = ["LF001"]', "per-file-ignores: must be a table"),
    ('per-file-ignores = { "{a,{b,c}}" = ["LF001"] }', "cannot nest"),
])
def test_a_bad_per_file_ignores_names_the_file_and_the_key(project, table: str, key: str) -> None:
    (project / "app.py").write_text(LEAKY)
    (project / "pyproject.toml").write_text(f"[tool.lambda-fix]\n{table}\n")
    result = invoke("--check", "app.py")
    assert result.exit_code == 2 and key in result.output, result.output


def test_show_fixes_lists_the_fixes_by_file_with_counts_and_rule_names(project) -> None:
    (project / "a.py").write_text(LEAKY)
    (project / "b.py").write_text(LEAKY)
    block = ("\nWould fix 2 findings:\n- a.py:\n    1 \u00d7 LF001 (handler-state-at-module-level)\n"
             "- b.py:\n    1 \u00d7 LF001 (handler-state-at-module-level)\n\n")
    summary = "2 files would change, 2 fixes available, 0 findings remaining, 0 errors (2 files checked)\n"
    check = invoke("--check", "--show-fixes", ".")
    assert check.exit_code == 1 and check.output.endswith(block + summary)
    assert "Would fix" not in invoke("--check", "--no-show-fixes", ".").output
    assert invoke("--check", "--show-fixes", "--statistics", ".").output.endswith(block + summary)
    diff = invoke("--diff", "--show-fixes", ".")
    assert "Would fix 2 findings:" in diff.stderr and "Would fix" not in diff.stdout  # stdout: the patch alone
    machine = invoke("--check", "--show-fixes", "--format", "json", ".")
    json.loads(machine.stdout)
    assert "Would fix 2 findings:" in machine.stderr
    wrote = invoke("--show-fixes", ".")
    assert wrote.exit_code == 0 and "\nFixed 2 findings:\n- a.py:\n" in wrote.output
    assert "Fixed" not in invoke("--show-fixes", ".").output  # nothing left to fix


def test_rule_lists_every_rule_or_one_and_explain_still_works() -> None:
    every = invoke("--all", command=cli.rule_command)
    assert every.exit_code == 0
    assert [line for line in every.output.splitlines() if line.startswith("# LF")] == [
        f"# {rule.code} {rule.name}" for rule in codes.RULES]
    one = invoke("lf003", command=cli.rule_command)
    assert one.output == invoke("--explain", "LF003").output and one.output.startswith("# LF003 fixed-tmp-path\n")
    data = json.loads(invoke("--all", "--output-format", "json", command=cli.rule_command).output)
    assert [(r["code"], r["name"]) for r in data] == [(r.code, r.name) for r in codes.RULES]
    assert json.loads(invoke("LF001", "--format", "json", command=cli.rule_command).output)["fix"] == "safe"
    assert invoke(command=cli.rule_command).exit_code == 2
    assert invoke("--all", "LF001", command=cli.rule_command).exit_code == 2
    assert "unknown code" in invoke("LX9", command=cli.rule_command).output


def test_rule_is_a_command_of_the_lambda_fix_program(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "lambda_fix", "rule", "--all"], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0 and result.stdout.startswith("# LF001 ")
    assert "`lambda-fix rule --all`" in " ".join(invoke("--help").output.split())


ESC = "\033["


def test_colour_only_on_a_terminal_or_when_forced_never_with_no_color_or_in_machine_formats(project) -> None:
    (project / "app.py").write_text(LEAKY)
    assert ESC not in invoke("--check", "app.py").output  # not a terminal
    forced = invoke("--check", "--show-fixes", "app.py", env={"FORCE_COLOR": "1"}).output
    assert f"{ESC}1mapp.py{ESC}0m" in forced and f"{ESC}1;31mLF001{ESC}0m" in forced
    assert ESC not in invoke("--check", "app.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output
    assert ESC in invoke("--check", "app.py", env={"FORCE_COLOR": "1", "NO_COLOR": ""}).output  # empty: unset
    for output in ("json", "sarif", "github", "rdjson"):
        result = invoke("--check", "--format", output, "app.py", env={"FORCE_COLOR": "1"})
        assert ESC not in result.output, output
    diff = invoke("--diff", "app.py", env={"FORCE_COLOR": "1"})
    assert ESC not in diff.stdout and ESC in diff.stderr  # the patch stays plain; the report is for a person
