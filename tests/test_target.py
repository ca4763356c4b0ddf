"""Every fix runs on the Python the project runs: the target of each file, and what the fixes write."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from lambda_fix import Mode, Settings, run
from lambda_fix.config import ConfigError, load
from lambda_fix.model import Status
from lambda_fix.target import DEFAULT, lower_bound, parse_setting

HANDLER = textwrap.dedent("""\
    import boto3


    def lambda_handler(event, context):
        s3 = boto3.client("s3")
        return s3.head_object(Bucket="b", Key=event["key"])
""")
OLD_SPELLING = "@functools.lru_cache(maxsize=None)"
NEW_SPELLING = "@functools.cache"


def _project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))


def _sam_template(runtime: str) -> str:
    """A SAM template whose one function, app.lambda_handler beside it, runs on runtime."""
    return ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{Handler: app.lambda_handler, Runtime: {runtime}}}\n")


def _fixed(root: Path, path: str = "app.py", flags: dict | None = None) -> str:
    summary = run([str(root / path)], Settings(flags or {}), Mode.DIFF)
    [result] = [r for r in summary.results if r.path.endswith(path)]
    assert result.status is Status.CHANGED, result
    return result.new_source or ""


@pytest.mark.parametrize(("setting", "version"), [
    ("py38", (3, 8)), ("py312", (3, 12)), ("3.9", (3, 9)), ("python3.7", (3, 7)), ("PY311", (3, 11)),
    ("py27", (2, 7)), ("38x", None), ("py4", None), ("", None), ("py3", None),
])
def test_a_target_version_is_spelled_as_in_ruff_or_as_a_version(setting: str, version: tuple | None) -> None:
    assert parse_setting(setting) == version


@pytest.mark.parametrize(("specifier", "bound"), [
    (">=3.8", (3, 8)), (">=3.8,<4", (3, 8)), ("~=3.7", (3, 7)), ("^3.8", (3, 8)), (">3.7", (3, 7)),
    ("==3.9.*", (3, 9)), ("3.8.*", (3, 8)), (">=3.9, !=3.9.1", (3, 9)), ("<4", None), ("*", None),
    (">=2.7, !=3.0.*, !=3.1.*", (2, 7)), (">=3.10 || >=3.8", (3, 8)),
])
def test_requires_python_gives_its_lower_bound(specifier: str, bound: tuple | None) -> None:
    assert lower_bound(specifier) == bound


def test_without_any_declaration_the_fix_runs_on_every_python_3_that_lambda_runs(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"app.py": HANDLER})
    assert DEFAULT == (3, 6)
    assert OLD_SPELLING in _fixed(tmp_path)


@pytest.mark.parametrize("template", [
    # SAM, on the function
    """\
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties: {CodeUri: src/, Handler: app.lambda_handler, Runtime: python3.8}
    """,
    # SAM, in Globals
    """\
    Globals:
      Function: {Runtime: python3.7}
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties: {CodeUri: src, Handler: app.lambda_handler}
    """,
    # plain CloudFormation with a local Code path (before `aws cloudformation package`)
    """\
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties: {Code: src, Handler: app.lambda_handler, Runtime: python3.8}
    """,
])
def test_the_runtime_of_the_function_whose_code_holds_the_file_is_its_target(tmp_path: Path, monkeypatch,
                                                                              template: str) -> None:
    monkeypatch.chdir(tmp_path)
    # requires-python says 3.12, but the function runs 3.8: the runtime wins.
    _project(tmp_path, {"template.yaml": template, "src/app.py": HANDLER,
                        "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.12"\n'})
    assert OLD_SPELLING in _fixed(tmp_path, "src/app.py")


def test_serverless_framework_runtime_of_the_provider_or_the_function(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"serverless.yml": """\
        provider: {name: aws, runtime: python3.12}
        functions:
          one: {handler: app.lambda_handler, runtime: python3.8}
    """, "app.py": HANDLER})
    assert OLD_SPELLING in _fixed(tmp_path)


def test_a_cdk_apps_oldest_python_runtime_applies_to_the_whole_app(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"cdk.json": '{"app": "python3 app.py"}', "stack.py": """\
        from aws_cdk import aws_lambda as lambda_
        def build(scope):
            lambda_.Function(scope, "Fn", runtime=lambda_.Runtime.PYTHON_3_12, handler="app.lambda_handler",
                             code=lambda_.Code.from_asset("lambda"))
            lambda_.Function(scope, "Old", runtime=lambda_.Runtime.PYTHON_3_7, handler="old.handler",
                             code=lambda_.Code.from_asset("legacy"))
    """, "lambda/app.py": HANDLER})
    assert OLD_SPELLING in _fixed(tmp_path, "lambda/app.py")
    summary = run([str(tmp_path)], Settings(), Mode.DIFF)
    assert any(version == (3, 7) and "Runtime.PYTHON_3_7" in why for _, version, why in summary.targets)


@pytest.mark.parametrize(("files", "spelling"), [
    ({"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.10"\n'}, NEW_SPELLING),
    ({"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.8"\n'}, OLD_SPELLING),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n'}, NEW_SPELLING),
    ({"setup.cfg": "[options]\npython_requires = >=3.9\n"}, NEW_SPELLING),
    ({"setup.py": "from setuptools import setup\nsetup(name='x', python_requires='>=3.7')\n"}, OLD_SPELLING),
    # A declaration that cannot be read declares nothing.
    ({"setup.cfg": "[options\npython_requires = >=3.12\n"}, OLD_SPELLING),
])
def test_without_a_runtime_requires_python_is_the_target(tmp_path: Path, monkeypatch, files: dict,
                                                         spelling: str) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {**files, "pkg/app.py": HANDLER, ".git/HEAD": ""})
    assert spelling in _fixed(tmp_path, "pkg/app.py")


def test_the_target_version_setting_wins_over_what_the_project_declares(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"template.yaml": _sam_template("python3.8"), "app.py": HANDLER,
                        "pyproject.toml": '[tool.lambda-fix]\ntarget-version = "py312"\n'})
    assert NEW_SPELLING in _fixed(tmp_path)
    assert OLD_SPELLING in _fixed(tmp_path, flags={"target_version": (3, 8)})


def test_a_target_version_that_names_no_python_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-fix]\ntarget-version = "3.x"\n')
    with pytest.raises(ConfigError, match="target-version"):
        load(tmp_path / "pyproject.toml")


def test_a_python_2_runtime_gets_findings_but_no_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"template.yaml": _sam_template("python2.7"), "app.py": HANDLER})
    [result] = run([str(tmp_path / "app.py")], Settings(), Mode.DIFF).results
    assert result.status is Status.UNCHANGED
    [finding] = result.findings
    assert "runs Python 2.7 (template.yaml: Runtime python2.7)" in finding.message
    assert "lambda-fix: ignore[LF004]" in finding.message


@pytest.mark.parametrize(("code", "said"), [
    ('def lambda_handler(event, context):\n    print "hello"\n', "a print statement at line 2"),
    ('def lambda_handler(event, context):\n    exec "x = 1"\n', "an exec statement at line 2"),
    ("import os\nos.chmod('/tmp/x', 0755)\ndef lambda_handler(event, context):\n    pass\n",
     "an octal literal without 0o at line 2"),
    ("def lambda_handler(event, context):\n    for k, v in event.iteritems():\n        print(k)\n",
     "`.iteritems()` at line 2"),
    ("import os\ndef lambda_handler(event, context):\n    return [k for k in os.environ.iterkeys()]\n",
     "`.iterkeys()` at line 3"),
    ("CACHE = {}\ndef lambda_handler(event, context):\n    return list(CACHE.itervalues())\n",
     "`.itervalues()` at line 3"),
    ("import json\ndef lambda_handler(event, context):\n    rules = json.loads(event['ruleParameters'])\n"
     "    return [k for k, v in rules.iteritems()]\n", "`.iteritems()` at line 4"),
    # handed down through two calls, as a dict decoded from the event
    ("import json\ndef check(tags, required):\n    return [k for k, v in required.iteritems()]\n"
     "def evaluate(item, parameters):\n    return check(item, parameters)\n"
     "def lambda_handler(event, context):\n    parameters = json.loads(event['ruleParameters'])\n"
     "    return evaluate(event, parameters)\n", "`.iteritems()` at line 3"),
])
def test_python_2_code_is_said_to_be_python_2_and_left_alone(tmp_path: Path, code: str, said: str) -> None:
    (tmp_path / "app.py").write_text(code)
    [result] = run([str(tmp_path / "app.py")], Settings(), Mode.WRITE).results
    assert result.status is Status.SKIPPED
    assert result.error.startswith(f"Python 2 code ({said}): skipped")
    assert (tmp_path / "app.py").read_text() == code


@pytest.mark.parametrize("code", [
    # pandas before 2.0 has DataFrame.iteritems(); a parameter other than the event may be anything
    "import pandas as pd\ndef lambda_handler(event, context):\n    df = pd.DataFrame(event)\n"
    "    return [c for c, _ in df.iteritems()]\n",
    "def lambda_handler(event, context, table=None):\n    return list(table.iteritems())\n",
    # Python 3.14 reads this as two exception types
    "def lambda_handler(event, context):\n    try:\n        return 1\n    except KeyError, ValueError:\n"
    "        return 2\n",
])
def test_python_3_code_that_looks_old_is_not_called_python_2(tmp_path: Path, code: str) -> None:
    (tmp_path / "app.py").write_text(code)
    [result] = run([str(tmp_path / "app.py")], Settings(), Mode.DIFF).results
    assert result.status is not Status.SKIPPED and "Python 2" not in (result.error or "")


def test_what_the_fixes_write_parses_on_their_target(tmp_path: Path, monkeypatch) -> None:
    """The syntax of a rewrite for the default target: every Python 3 that Lambda runs."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"app.py": HANDLER})
    ast.parse(_fixed(tmp_path), feature_version=DEFAULT)


def test_verbose_output_says_which_target_each_file_got(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from lambda_fix.cli import main

    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"app.py": HANDLER, "template.yaml": _sam_template("python3.8")})
    result = CliRunner().invoke(main, ["-v", "--check", "--no-cache", "app.py"])
    assert "app.py: target Python 3.8 (template.yaml: Runtime python3.8)\n" in result.output
    result = CliRunner().invoke(main, ["--target-version", "py312", "--diff", "--no-cache", "app.py"])
    assert NEW_SPELLING in result.output
    result = CliRunner().invoke(main, ["--target-version", "3.x", "app.py"])
    assert result.exit_code == 2 and "not a Python version" in result.output


def test_runtimes_declared_below_the_directory_of_the_run_are_read(tmp_path: Path, monkeypatch) -> None:
    """`lambda-fix .` at a monorepo's root: each service's template gives its own code its runtime."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {
        "orders/template.yaml": """\
            Globals:
              Function: {Runtime: python3.8}
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: src/, Handler: app.lambda_handler}
        """,
        "orders/src/app.py": HANDLER,
        "legacy/template.yaml": """\
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: src/, Handler: app.lambda_handler, Runtime: python2.7}
        """,
        "legacy/src/app.py": HANDLER,
        "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.12"\n',
        "billing/app.py": HANDLER,
    })
    summary = run(["."], Settings(), Mode.DIFF)
    by_path = {r.path: r for r in summary.results}
    assert OLD_SPELLING in by_path["orders/src/app.py"].new_source
    assert NEW_SPELLING in by_path["billing/app.py"].new_source  # no template: requires-python
    legacy = by_path["legacy/src/app.py"]
    assert legacy.status is Status.UNCHANGED and "runs Python 2.7" in legacy.findings[0].message
