"""`lambda-fix probe --template`: every function of a SAM template probed with its own code directory,
environment, timeout and events; and the probe of code under `CodeUri: src/` finds what a lambda-fix
run at the template's directory finds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_fix.probe_template import functions_of

TEMPLATE = '''AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 10
    Environment:
      Variables:
        STAGE: test
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: orders.handle
  TableFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: table.handle
      Timeout: 4
      Environment:
        Variables:
          TABLE: !Ref OrdersTable
  Website:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: web/
      Handler: index.handler
      Runtime: nodejs20.x
  Unnamed:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: unnamed.handle
  OrdersTable:
    Type: AWS::Serverless::SimpleTable
'''
ORDERS = '''seen = []


def handle(event, context):
    seen.append(event["id"])
    return {"count": len(seen)}
'''
TABLE = '''import os

TABLE = os.environ["TABLE"]


def handle(event, context):
    return {"table": TABLE, "stage": os.environ["STAGE"], "id": event["id"]}
'''


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "orders.py").write_text(ORDERS)
    (tmp_path / "src" / "table.py").write_text(TABLE)
    (tmp_path / "src" / "unnamed.py").write_text("def handle(event, context):\n    return 1\n")
    (tmp_path / "events" / "TableFunction").mkdir(parents=True)
    (tmp_path / "events" / "TableFunction" / "get.json").write_text(json.dumps({"id": 7}))
    (tmp_path / "events" / "orders-created.json").write_text(json.dumps({"id": 1}))
    (tmp_path / "events" / "orders-updated.json").write_text(json.dumps({"id": 2}))
    return tmp_path


def run(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "probe", *args], cwd=directory, capture_output=True,
                          text=True, check=False)


def test_the_template_says_each_functions_code_environment_timeout_and_events(app: Path) -> None:
    found = {f.name: f for f in functions_of(str(app / "template.yaml"))}
    assert sorted(found) == ["OrdersFunction", "TableFunction", "Unnamed"]  # not the Node.js one
    orders, table, unnamed = found["OrdersFunction"], found["TableFunction"], found["Unnamed"]
    assert (orders.root, orders.target, orders.timeout) == (str(app / "src"), "orders:handle", 10.0)
    assert orders.events == ("events/orders-created.json", "events/orders-updated.json")
    assert table.events == ("events/TableFunction/get.json",) and table.timeout == 4.0
    assert table.environment == {"STAGE": "test", "TABLE": "OrdersTable"}
    assert unnamed.events == () and "lambda-fix-probe.toml" in (unnamed.skipped or "")


def test_a_settings_file_beside_the_template_names_a_functions_events(app: Path) -> None:
    (app / "events" / "smoke.json").write_text(json.dumps({"id": 3}))
    (app / "events" / "a-first.json").write_text(json.dumps({"id": 4}))
    (app / "lambda-fix-probe.toml").write_text('[events]\nUnnamed = ["events/smoke.json", "events/a-*.json"]\n')
    assert {f.name: f.events for f in functions_of(str(app / "template.yaml"))}["Unnamed"] == (
        "events/smoke.json", "events/a-first.json")  # in the order given


def test_every_function_is_probed_and_the_exit_status_covers_them_all(app: Path) -> None:
    done = run(app, "--template", "template.yaml")
    assert done.returncode == 1, done.stderr
    assert "== OrdersFunction (orders.handle, from src) ==" in done.stdout
    assert "orders.seen (list, orders.py:1) [LF001]" in done.stdout  # found by a run at the template's directory
    assert "== Unnamed (unnamed.handle, from src) ==\nnot probed: no events" in done.stdout
    assert done.stdout.endswith("\n\n2 of 3 function(s) probed; warm differs from cold in OrdersFunction\n")
    done = run(app, "--template", "template.yaml", "TableFunction", "--format", "json")
    [table] = json.loads(done.stdout)["functions"]
    assert done.returncode == 0 and table["report"]["invocations"][0]["warm"] == {
        "result": {"table": "OrdersTable", "stage": "test", "id": 7}}
    (app / "src" / "orders.py").write_text("def handle(event, context):\n    return 1\n")
    done = run(app, "--template", "template.yaml")  # nothing differs, but a function was not probed
    assert done.returncode == 2 and json.loads(run(app, "--template", "template.yaml", "--format", "json").stdout)[
        "agrees"] is False


def test_code_under_the_template_is_probed_with_the_projects_findings_and_rewrite(app: Path) -> None:
    """Run from src/ as SAM's docs say: the handler is named only in the template one directory up."""
    done = run(app / "src", "orders:handle", "--event", "../events/orders-created.json", "--repeat", "2")
    assert "orders.seen (list, orders.py:1) [LF001]" in done.stdout
    done = run(app / "src", "orders:handle", "--event", "../events/orders-created.json", "--repeat", "2", "--after")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(1 file(s) changed: src/orders.py)" in done.stdout
    assert (app / "src" / "orders.py").read_text() == ORDERS  # the project is not touched


def test_a_template_that_is_not_one_is_an_error(app: Path) -> None:
    (app / "bad.yaml").write_text("Resources: [\n")
    done = run(app, "--template", "bad.yaml")
    assert done.returncode == 2 and "bad.yaml: not a template" in done.stderr
    done = run(app, "--template", "template.yaml", "--events", "x.json")
    assert done.returncode == 2 and "each function's events come from" in done.stderr
