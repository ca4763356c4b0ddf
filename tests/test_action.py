"""The GitHub Action and the pre-commit hooks are well-formed and keep the token out of the log."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def test_action_is_a_composite_that_posts_the_review() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = action["runs"]["steps"][-1]
    assert step["run"].strip() == "python -m lambda_fix.github_bot"  # tested end to end in test_github_bot
    # inputs reach the bot through the environment, never pasted into the script
    assert "${{" not in step["run"]
    assert step["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert step["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"


def test_pre_commit_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["lambda-fix"]["entry"] == "lambda-fix"
    assert hooks["lambda-fix-check"]["entry"] == "lambda-fix --check"
    assert all(h["language"] == "python" and h["types"] == ["python"] for h in hooks.values())
