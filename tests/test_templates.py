"""Handlers named by deployment templates (SAM / CloudFormation, Serverless Framework)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_fix import Config, Mode, run
from lambda_fix.templates import find

LEAK = "batch = []\n\n\ndef {name}(payload, runtime):\n    batch.extend(payload['orders'])\n    return len(batch)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_sam_with_globals_short_tags_and_an_image_function(project: Path) -> None:
    write(project / "template.yaml", """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    CodeUri: src/
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: orders.app.process_orders
      Role: !GetAtt Role.Arn
      Environment: {Variables: {TABLE: !Ref Table, NAME: !Sub "${AWS::StackName}-x"}}
  Image:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image}
  Table:
    Type: AWS::DynamoDB::Table
""")
    app = write(project / "src" / "orders" / "app.py", LEAK.format(name="process_orders"))
    write(project / "src" / "orders" / "__init__.py", "")
    found = find(["."])
    assert found.entries == (f"{app.resolve()}:process_orders",) and not found.warnings
    summary = run(["."], Config(jobs=1), Mode.CHECK)
    assert summary.changed == 1


def test_serverless_framework_path_style_handler(project: Path) -> None:
    write(project / "serverless.yml", "functions:\n  hello:\n    handler: src/handler.hello\n  bad: 7\n")
    handler = write(project / "src" / "handler.py", LEAK.format(name="hello"))
    assert find(["src"]).entries == (f"{handler.resolve()}:hello",)


@pytest.mark.parametrize("named", [".", "functions/orders.py"])
def test_a_template_in_a_folder_without_python_names_its_handler(project: Path, named: str) -> None:
    """`infra/template.yaml` beside no Python file, its code under `../functions`: the walk passes the
    template, for a run over the repository and for a run naming the file alone."""
    (project / ".git").mkdir()
    write(project / "infra" / "template.yaml", """
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions
      Handler: orders.process_orders
      Runtime: python3.12
""")
    write(project / "functions" / "orders.py", LEAK.format(name="process_orders"))
    assert run([named], Config(jobs=1), Mode.CHECK).changed == 1


def test_without_template_the_unusual_handler_is_not_known(project: Path) -> None:
    write(project / "app.py", LEAK.format(name="process_orders"))
    assert run(["."], Config(jobs=1), Mode.CHECK).changed == 0


def test_an_unreadable_template_is_a_warning_not_a_crash(project: Path) -> None:
    write(project / "template.yaml", "Resources: [unclosed\n")
    write(project / "app.py", "def lambda_handler(event, context):\n    return 1\n")
    summary = run(["."], Config(jobs=1), Mode.CHECK)
    assert len(summary.warnings) == 1 and "template not read" in summary.warnings[0]
    assert not summary.failed


def test_a_template_nested_too_deeply_is_a_warning_not_a_crash(project: Path) -> None:
    write(project / "template.yaml", "Resources: " + "[" * 100_000 + "]" * 100_000 + "\n")
    write(project / "app.py", "def lambda_handler(event, context):\n    return 1\n")
    summary = run(["."], Config(jobs=1), Mode.CHECK)
    assert len(summary.warnings) == 1 and "nested too deeply" in summary.warnings[0]
    assert not summary.failed
