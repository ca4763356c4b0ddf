"""Files named on the command line (pre-commit names the staged ones) are analysed with their project
around them: a leak added in a helper is found from the handler that calls it, and only what the named
files cause is reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_fix import cli
from lambda_fix.analysis.importers import importers_of
from lambda_fix.analysis.project import Project
from lambda_fix.discovery import discover, project_root
from lambda_fix.engine import read_source

HANDLER = '''from helpers.store import remember


def lambda_handler(event, context):
    return remember(event["id"])
'''
CLEAN_HELPER = '''def remember(item):
    return [item]
'''
LEAKY_HELPER = '''SEEN = []


def remember(item):
    SEEN.append(item)
    return len(SEEN)
'''
OLD_LEAK = '''items = []


def lambda_handler(event, context):
    items.append(event["id"])
    return len(items)
'''


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(root)}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A repository (a `.git` marks its top) with a handler that calls a helper of a package."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".git").mkdir()
    write(root, {"app.py": HANDLER, "helpers/__init__.py": "", "helpers/store.py": LEAKY_HELPER})
    monkeypatch.chdir(root)
    return root


# ---- what is reported ---------------------------------------------------------------------------


def test_a_leak_added_in_a_named_helper_is_found_from_the_handler_that_calls_it(project) -> None:
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 1, result.output
    assert "app.py:4:1: LF002" in result.output and "`SEEN` of helpers.store" in result.output
    # what a run over the whole project finds, no more
    whole = invoke("--check", ".")
    assert "app.py:4:1: LF002" in whole.output


def test_the_helper_clean_the_named_run_passes(project) -> None:
    write(project, {"helpers/store.py": CLEAN_HELPER})
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 0, result.output


def test_through_a_module_between_them(project) -> None:
    write(project, {"app.py": HANDLER.replace("helpers.store", "service"),
                    "service.py": "from helpers import store\n\n\n"
                                  "def remember(item):\n    return store.remember(item)\n"})
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 1, result.output
    assert "app.py:4:1: LF002" in result.output


def test_an_old_finding_of_an_unrelated_file_is_not_reported(project) -> None:
    write(project, {"helpers/store.py": CLEAN_HELPER, "old.py": OLD_LEAK})
    assert invoke("--check", ".").exit_code == 1  # the old finding is there
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 0, result.output
    assert "old.py" not in result.output


def test_an_old_finding_of_the_handler_the_named_file_does_not_cause_is_not_reported(project) -> None:
    write(project, {"helpers/store.py": CLEAN_HELPER,
                    "app.py": "from helpers.store import remember\n\n"
                              + OLD_LEAK.replace("return len", "return remember")})
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 0, result.output
    assert "LF002" not in result.output
    # named itself, the handler gets its whole report
    assert invoke("--check", "app.py").exit_code == 1


def test_a_broken_importer_is_a_note_not_an_error(project) -> None:
    write(project, {"other.py": "from helpers.store import remember\n\ndef lambda_handler(event, context)\n"})
    result = invoke("--check", "helpers/store.py")
    assert result.exit_code == 1, result.output  # the leak through app.py; the syntax error is no error
    assert "other.py: note: imports a file named, but could not be analysed" in result.output
    assert "0 errors" in result.output


def test_a_file_of_no_project_is_analysed_on_its_own(tmp_path, monkeypatch) -> None:
    """No `.git`, packaging file or template up to the working directory: nothing around it is read (a
    scratch file in a home directory must not start a walk of it)."""
    write(tmp_path, {"app.py": HANDLER.replace("helpers.store", "store"), "store.py": LEAKY_HELPER})
    monkeypatch.chdir(tmp_path)
    assert invoke("--check", "store.py").exit_code == 0
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert invoke("--check", "store.py").exit_code == 1


def test_one_module_of_the_same_name_per_function_is_not_another_s_importer(tmp_path, monkeypatch) -> None:
    """Each function has its own `common.py`: naming one reports through its own handler only."""
    (tmp_path / ".git").mkdir()
    handler = "from common import remember\n\n\ndef lambda_handler(event, context):\n    return remember(event)\n"
    write(tmp_path, {"a/app.py": handler, "a/common.py": LEAKY_HELPER.replace("remember(item)", "remember(item)"),
                     "b/app.py": handler, "b/common.py": CLEAN_HELPER})
    monkeypatch.chdir(tmp_path)
    leaky = invoke("--check", "a/common.py")
    assert leaky.exit_code == 1 and "a/app.py:4:1: LF002" in leaky.output and "b/app.py" not in leaky.output
    assert invoke("--check", "b/common.py").exit_code == 0


def test_a_named_helper_s_own_finding_needs_the_handler_that_calls_it(tmp_path, monkeypatch) -> None:
    """LF004 fixes a helper's client where it is built: found in the helper, from the handler of another
    file, which the run reads around the named helper."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"app.py": "from db import get_table\n\n\ndef lambda_handler(event, context):\n"
                               "    return get_table().get_item(Key={'id': event['id']})\n",
                     "db.py": "import boto3\n\n\ndef get_table():\n    return boto3.resource('dynamodb').Table('t')\n"})
    monkeypatch.chdir(tmp_path)
    helper = invoke("--check", "db.py")
    assert helper.exit_code == 1 and "db.py:5:12: LF004" in helper.output, helper.output
    # The handler named alone: the fix is in db.py, which this run does not check, and the finding says so.
    handler = invoke("--check", "app.py")
    assert handler.exit_code == 1 and "run lambda-fix on db.py too" in handler.output, handler.output
    # the same answers from the cache, after a run over the whole project
    invoke("--check", ".")
    assert "run lambda-fix on db.py too" in invoke("--check", "app.py").output
    assert "db.py:5:12: LF004" in invoke("--check", "db.py").output


# ---- what is rewritten ---------------------------------------------------------------------------


def test_only_the_named_files_are_rewritten(project) -> None:
    before = (project / "app.py").read_text()
    result = invoke("helpers/store.py")
    assert result.exit_code == 1, result.output  # the finding remains, so the commit stops
    assert (project / "app.py").read_text() == before
    assert "app.py: note: reported for what the files named cause there" in result.output
    assert "`lambda-fix app.py` fixes it" in result.output
    assert "app.py:4:1: LF002 module-level" in result.output  # reported, not marked [*] as fixed
    # named, it is fixed
    fixed = invoke("app.py")
    assert fixed.exit_code == 0 and (project / "app.py").read_text() != before


def test_both_named_the_handler_is_fixed(project) -> None:
    result = invoke("app.py", "helpers/store.py")
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output
    assert "store.SEEN.clear()" in (project / "app.py").read_text()
    assert invoke("--check", "app.py", "helpers/store.py").exit_code == 0


def test_diff_shows_no_change_to_a_file_not_named(project) -> None:
    result = invoke("--diff", "helpers/store.py")
    assert result.exit_code == 1
    assert "+++" not in result.output


def test_the_machine_formats_carry_the_finding(project) -> None:
    import json

    result = CliRunner().invoke(cli.main, ["--check", "--format", "json", "helpers/store.py"])
    report = json.loads(result.stdout)
    (finding,) = report["findings"]
    assert finding["path"] == "app.py" and finding["fix"]["applied"] is False
    assert any(r["path"] == os.path.join("helpers", "store.py") for r in finding["related"])


# ---- standard input is one module, as before -------------------------------------------------------


def test_standard_input_is_analysed_alone(project) -> None:
    helper = invoke("--check", "-", "--stdin-filename", "helpers/store.py", input=LEAKY_HELPER.encode())
    assert helper.exit_code == 0, helper.output
    handler = invoke("-", "--stdin-filename", "old.py", input=OLD_LEAK.encode())
    assert handler.exit_code == 0 and "    items = []" in handler.output


# ---- as pre-commit runs it ---------------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path, monkeypatch) -> Path:
    """A git repository whose handler and clean helper are committed."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"app.py": HANDLER, "helpers/__init__.py": "", "helpers/store.py": CLEAN_HELPER})
    git(root, "add", "app.py", "helpers")
    git(root, "commit", "-q", "-m", "first")
    monkeypatch.chdir(root)
    return root


def test_the_staged_files_as_the_hook_passes_them(repository) -> None:
    write(repository, {"helpers/store.py": LEAKY_HELPER})
    git(repository, "add", "helpers/store.py")
    staged = git(repository, "diff", "--cached", "--name-only").split()
    assert staged == ["helpers/store.py"]
    done = subprocess.run([sys.executable, "-m", "lambda_fix", "--check", *staged], cwd=repository,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "app.py:4:1: LF002" in done.stdout


def test_the_check_hook_in_pre_commit(repository, tmp_path) -> None:
    pytest.importorskip("pre_commit")
    if shutil.which("lambda-fix") is None:
        pytest.skip("needs the lambda-fix console script")
    write(repository, {".pre-commit-config.yaml": (
        "repos:\n  - repo: local\n    hooks:\n      - id: lambda-fix-check\n        name: lambda-fix\n"
        "        entry: lambda-fix --check\n        language: system\n        types: [python]\n"
        "        require_serial: true\n"), "helpers/store.py": LEAKY_HELPER})
    git(repository, "add", ".pre-commit-config.yaml", "helpers/store.py")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_NOSYSTEM": "1",
           "LAMBDA_FIX_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-m", "pre_commit", "run"], cwd=repository, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "app.py:4:1: LF002" in done.stdout
    git(repository, "checkout", "--", ".")
    write(repository, {"helpers/store.py": CLEAN_HELPER})
    git(repository, "add", "helpers/store.py")
    again = subprocess.run([sys.executable, "-m", "pre_commit", "run"], cwd=repository, env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stdout + again.stderr


# ---- the parts -------------------------------------------------------------------------------------


def test_the_project_root_is_the_repository_then_a_project_file(tmp_path, monkeypatch) -> None:
    write(tmp_path, {"repo/services/a/template.yaml": "", "repo/services/a/src/app.py": "",
                     "repo/lib/x.py": "", "loose/y.py": ""})
    (tmp_path / "repo" / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert project_root("services/a/src/app.py") == str(tmp_path / "repo")
    assert project_root("lib/x.py") == str(tmp_path / "repo")
    # outside the working directory: the nearest marker, else none (the file is analysed on its own)
    assert project_root(str(tmp_path / "repo" / "lib" / "x.py")) == str(tmp_path / "repo")
    assert project_root(str(tmp_path / "loose" / "y.py")) is None
    monkeypatch.chdir(tmp_path / "loose")
    assert project_root(str(tmp_path / "repo" / "lib" / "x.py")) == str(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo" / "services")
    # never above the working directory
    assert project_root("a/src/app.py") == str(tmp_path / "repo" / "services" / "a")


@pytest.mark.parametrize("statement", [
    "from helpers.store import remember",
    "from helpers import store",
    "from helpers import (\n    other,  # a comment\n    store,\n)",
    "import helpers.store as s",
    "import os, helpers.store",
    "import os; from helpers.store import remember",
    "from helpers.store import \\\n    remember",
    "try: import helpers.store\nexcept ImportError: pass",
])
def test_importers_from_the_text_of_import_statements(tmp_path, monkeypatch, statement) -> None:
    write(tmp_path, {"app.py": statement + "\n", "helpers/__init__.py": "", "helpers/store.py": "",
                     "helpers/other.py": ""})
    monkeypatch.chdir(tmp_path)
    files = discover(["."]).files
    assert importers_of(Project(read_source, files=files), files, ["helpers/store.py"]) == ("app.py",)


def test_importers_through_relative_imports_and_packages(tmp_path, monkeypatch) -> None:
    write(tmp_path, {"pkg/__init__.py": "from .core import run\n", "pkg/core.py": "from . import store\n",
                     "pkg/store.py": "", "app.py": "from pkg import run\n", "unrelated.py": "import store\n"})
    monkeypatch.chdir(tmp_path)
    files = discover(["."]).files
    found = importers_of(Project(read_source, files=files), files, ["pkg/store.py"])
    assert found == ("app.py", "pkg/__init__.py", "pkg/core.py")
