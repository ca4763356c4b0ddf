"""The pull-request review: a real git repository with a base commit and a pull-request commit."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambda_fix import cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BASE = '''import json


def lambda_handler(event, context):
    return {"body": json.dumps(event)}


def unrelated():
    return 1
'''
# The pull request adds module state and fills it: the fix (move it into the handler) touches only
# lines the pull request shows.
PR_NEAR = '''import json

seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    return {"body": json.dumps(event), "seen": len(seen)}


def unrelated():
    return 1
'''


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "app.py").write_text(BASE)
    git(tmp_path, "add", "app.py")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "pr")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def review(repo: Path) -> dict:
    result = CliRunner().invoke(cli.main, ["--check", "--format", "github-review", "--diff-base", "main", "."])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def validate(document: dict) -> None:
    """Against GitHub's REST request-body model; a key the model does not know would be dropped."""
    from githubkit.versions.latest.models import ReposOwnerRepoPullsPullNumberReviewsPostBody as Body

    model = Body.model_validate(document)
    assert model.model_dump(exclude_unset=True, by_alias=True) == document


def apply_suggestions(source: str, comments: list[dict]) -> str:
    lines = source.splitlines(keepends=True)
    for comment in sorted(comments, key=lambda c: c["line"], reverse=True):
        suggestion = comment["body"].split("```suggestion\n", 1)[1].rsplit("```", 1)[0]
        first = comment.get("start_line", comment["line"])
        lines[first - 1:comment["line"]] = [suggestion] if suggestion else []
    return "".join(lines)


def test_suggestions_inside_the_pull_request_rebuild_what_lambda_fix_writes(repo: Path) -> None:
    (repo / "app.py").write_text(PR_NEAR)
    git(repo, "commit", "-q", "-am", "pr")
    document = review(repo)
    validate(document)
    comments = document["comments"]
    assert comments and all("```suggestion" in c["body"] for c in comments)
    suggested = apply_suggestions(PR_NEAR, comments)
    assert CliRunner().invoke(cli.main, ["app.py"]).exit_code == 0
    assert suggested == (repo / "app.py").read_text()


def test_a_fix_reaching_outside_the_pull_request_becomes_one_patch_comment(repo: Path) -> None:
    # The pull request only adds the append; the state was already there in the base.
    base_with_state = BASE.replace("import json\n", "import json\n\nseen = []\n")
    (repo / "app.py").write_text(base_with_state)
    git(repo, "commit", "-q", "-am", "state in the base")
    git(repo, "branch", "-f", "main")
    padded = base_with_state.replace("def unrelated", "\n\n\n\n\n\n\n\n\ndef unrelated")
    (repo / "app.py").write_text(padded.replace('    return {"body"', '    seen.append(event["id"])\n'
                                                '    return {"body"'))
    git(repo, "commit", "-q", "-am", "pr")
    document = review(repo)
    validate(document)
    bodies = [c["body"] for c in document["comments"]] + [document["body"]]
    assert not any("```suggestion" in b for b in bodies)
    assert any("```diff" in b and "cannot be a" in b for b in bodies)


def test_findings_on_unchanged_lines_are_left_out(repo: Path) -> None:
    (repo / "app.py").write_text(BASE.replace("def unrelated", "def unrelated_renamed"))
    git(repo, "commit", "-q", "-am", "pr without leaks")
    document = review(repo)
    validate(document)
    assert document["comments"] == []


def test_a_bad_ref_is_an_error(repo: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--check", "--diff-base", "no-such-ref", "."])
    assert result.exit_code == 2 and "--diff-base no-such-ref" in result.output


# Three fixes in one pull request: two hoists that each add `import functools` at the top and a move.
PR_THREE_FIXES = '''import json
import os

import boto3

seen = []


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    seen.append(event["id"])
    return {"body": json.dumps(event), "seen": len(seen), "b": s3.list_buckets(), "t": table.name}


def unrelated():
    return 1
'''
PR_UNSAFE = '''import json

import pymysql


def lambda_handler(event, context):
    connection = pymysql.connect(host="db")
    return {"body": json.dumps(event), "ok": connection.open}


def unrelated():
    return 1
'''


def review_with(repo: Path, *options: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli.main, ["--check", "--format", "github-review", "--diff-base", "main", *options,
                                           "."])
    return result.exit_code, json.loads(result.stdout)


def test_fixes_that_touch_the_same_lines_are_one_suggestion_and_accepting_all_gives_the_rewrite(repo: Path) -> None:
    (repo / "app.py").write_text(PR_THREE_FIXES)
    git(repo, "commit", "-q", "-am", "pr")
    document = review(repo)
    validate(document)
    comments = document["comments"]
    spans = sorted((c.get("start_line", c["line"]), c["line"]) for c in comments)
    assert all(earlier[1] < later[0] for earlier, later in zip(spans, spans[1:])), spans  # no line twice
    assert "found 3 findings" in document["body"]  # findings, not comments
    suggested = apply_suggestions(PR_THREE_FIXES, comments)
    assert CliRunner().invoke(cli.main, ["app.py"]).exit_code == 0
    assert suggested == (repo / "app.py").read_text()
    assert suggested.count("import functools") == 1


def test_an_unsafe_fix_is_a_suggestion_only_when_the_run_would_apply_it(repo: Path) -> None:
    (repo / "app.py").write_text(PR_UNSAFE)
    git(repo, "commit", "-q", "-am", "pr")
    status, document = review_with(repo)
    validate(document)
    bodies = [c["body"] for c in document["comments"]]
    assert status == 1 and bodies and not any("```suggestion" in b for b in bodies)
    assert any("marked unsafe" in b and "```diff" in b for b in bodies)
    status, document = review_with(repo, "--no-unsafe-fixes")
    assert not any("```suggestion" in c["body"] for c in document["comments"])
    status, document = review_with(repo, "--unsafe-fixes")
    bodies = [c["body"] for c in document["comments"]]
    assert any("```suggestion" in b and "an unsafe fix: read it before accepting" in b for b in bodies)


def test_an_old_finding_elsewhere_does_not_make_the_pull_request_fail(repo: Path) -> None:
    (repo / "old.py").write_text(PR_NEAR)  # a leak already on the base branch
    (repo / "broken_old.py").write_text("def lambda_handler(event, context):\n    return (\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "old leak")
    git(repo, "branch", "-f", "main")
    (repo / "app.py").write_text(BASE.replace("def unrelated", "def unrelated_renamed"))
    git(repo, "commit", "-q", "-am", "pr without leaks")
    status, document = review_with(repo)
    assert status == 0 and document["comments"] == [] and "nothing to fix" in document["body"]


def test_the_review_names_the_commit_its_lines_are_of(repo: Path) -> None:
    (repo / "app.py").write_text(PR_NEAR)
    git(repo, "commit", "-q", "-am", "pr")
    _, document = review_with(repo)
    assert document["commit_id"] == git(repo, "rev-parse", "HEAD").strip()


def test_a_path_that_does_not_exist_is_an_error_with_diff_base(repo: Path) -> None:
    (repo / "app.py").write_text(BASE.replace("def unrelated", "def unrelated_renamed"))
    git(repo, "commit", "-q", "-am", "pr without leaks")
    result = CliRunner().invoke(cli.main, ["--check", "--diff-base", "main", ".", "no-such-dir/"])
    assert result.exit_code == 2 and "no-such-dir" in result.output


LEAKY = '''import boto3


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    return {"buckets": s3.list_buckets()}
'''
# Names git quotes in a diff's header (a byte above 127, a quote, a tab, a newline, a backslash), and
# names it writes with a tab after them (a space).
ODD_NAMES = ["café.py", "a b.py", 'q"uote.py', "tab\there.py", "new\nline.py", "back\\slash.py", "end .py"]


def added(repo: Path, names: list[str], source: str) -> list[str]:
    """The names the filesystem accepts, each written with source."""
    kept = []
    for name in names:
        try:
            (repo / name).write_text(source)
        except OSError:
            continue
        kept.append(name)
    return kept


def test_files_whose_names_git_quotes_are_reviewed(repo: Path) -> None:
    names = added(repo, ODD_NAMES, LEAKY)
    assert "café.py" in names and "a b.py" in names
    git(repo, "add", "--", *names)
    git(repo, "commit", "-q", "-m", "pr")
    status, document = review_with(repo)
    validate(document)
    assert status == 1
    assert {c["path"] for c in document["comments"]} == set(names)
    assert all("```suggestion" in c["body"] for c in document["comments"])


def test_a_broken_file_whose_name_git_quotes_fails_the_review(repo: Path) -> None:
    names = added(repo, ["broken é.py", 'bro"ken.py'], "def lambda_handler(event, context):\n    return (\n")
    git(repo, "add", "--", *names)
    git(repo, "commit", "-q", "-m", "pr")
    result = CliRunner().invoke(cli.main, ["--check", "--format", "github-review", "--diff-base", "main", "."])
    assert result.exit_code == 2
    assert result.stderr.count(": error: syntax error") == len(names) and "broken é.py" in result.stderr


def test_a_fence_in_the_code_cannot_end_a_suggestion_early(repo: Path) -> None:
    """A line of backticks in the pull request's code (a docstring's example, say) would end a
    three-backtick block, and the rest of the comment would render as Markdown."""
    fenced = PR_THREE_FIXES.replace("import boto3\n", 'import boto3\n\nEXAMPLE = """\n```\nseen\n```\n"""\n', 1)
    (repo / "app.py").write_text(fenced)
    git(repo, "commit", "-q", "-am", "pr")
    document = review(repo)
    validate(document)
    for body in [c["body"] for c in document["comments"]] + [document["body"]]:
        for fence, content in re.findall(r"^(`{3,})(?:suggestion|diff)\n(.*?)^\1$", body, re.MULTILINE | re.DOTALL):
            assert not re.search(rf"^{fence}", content, re.MULTILINE), body
    suggestions = [c["body"] for c in document["comments"] if "suggestion\n" in c["body"]]
    assert suggestions and all(b.count("````suggestion") <= 1 for b in suggestions)


def test_a_fence_is_longer_than_any_run_of_backticks_in_what_it_holds() -> None:
    from lambda_fix.formats.github_review import fence_for

    assert fence_for("x = 1\n") == "```"
    assert fence_for('"""\n```\nexample\n```\n"""\n') == "````"
    assert fence_for("s = '`````'\n") == "``````"
