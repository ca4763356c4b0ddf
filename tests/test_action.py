"""The GitHub Action and the pre-commit hooks are well-formed and keep the token out of the log."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def test_action_is_a_composite_that_posts_the_review() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = action["runs"]["steps"][-1]["run"]
    assert "--format github-review" in script and "--diff-base" in script
    # the token only ever appears as an environment variable read by curl, never echoed or traced
    assert "set -x" not in script and "echo \"$GITHUB_TOKEN" not in script and "${{" not in script
    assert action["runs"]["steps"][-1]["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"


def test_pre_commit_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["lambda-fix"]["entry"] == "lambda-fix"
    assert hooks["lambda-fix-check"]["entry"] == "lambda-fix --check"
    assert all(h["language"] == "python" and h["types"] == ["python"] for h in hooks.values())
