"""The pull-request bot that action.yml runs: review the pull request's head commit, post the review,
and keep one live review per pull request.

`python -m lambda_fix.github_bot`, with the workflow's context in the environment: GITHUB_TOKEN,
GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER, BASE_SHA, HEAD_SHA, PATHS, EXTRA_ARGS and RUNNER_TEMP.

- GitHub places review comments on the pull request's head commit, but a `pull_request` workflow
  checks out the merge commit by default; when the base has moved on, its lines differ. So the head
  commit is checked out in a worktree of its own and reviewed there, and the review names it.
- Nothing is posted when there is nothing to say, nor when a push changes nothing the review says.
- A new review supersedes the bot's earlier ones: their bodies say so, and their suggestions are
  edited out, so a stale one cannot be accepted. A review with nothing to suggest updates the latest
  earlier review instead of adding one.

The token is read from the environment and sent only in the Authorization header; it is never printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .formats.github_review import MARKER

_DIGEST = re.compile(r"<!-- lambda-fix:digest=(\w+) -->")


class BotError(Exception):
    """What stopped the bot, said in one line."""


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    if not env.get("PR_NUMBER"):
        print("lambda-fix: not a pull_request event; nothing to review")
        return 0
    try:
        return _review(env)
    except BotError as exc:
        print(f"lambda-fix: {exc}", file=sys.stderr)
        return 2


def _review(env: dict[str, str]) -> int:
    head, base = _required(env, "HEAD_SHA"), _required(env, "BASE_SHA")
    directory = _head_checkout(head, base, env.get("RUNNER_TEMP") or "/tmp")
    command = [sys.executable, "-m", "lambda_fix", "--check", "--format", "github-review", "--diff-base", base,
               *shlex.split(env.get("EXTRA_ARGS", "")), *(shlex.split(env.get("PATHS", "")) or ["."])]
    completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    sys.stderr.write(completed.stderr)
    if completed.returncode not in (0, 1):
        print(f"lambda-fix: some files could not be checked (exit {completed.returncode})")
        return completed.returncode
    review = json.loads(completed.stdout)
    api = _Api(env)
    earlier = [r for r in api.reviews() if MARKER in (r.get("body") or "")]
    latest = earlier[-1] if earlier else None
    if latest is not None and _digest(latest.get("body")) == _digest(review["body"]):
        print("lambda-fix: nothing new since the bot's last review")
        return 0
    if completed.returncode == 0 and latest is None:
        print("lambda-fix: nothing to fix in this pull request")
        return 0
    if not review["comments"] and latest is not None:
        api.update_review(latest["id"], review["body"])
        for old in earlier:
            api.retire_suggestions(old["id"], head)
        print("lambda-fix: updated the earlier review")
        return 0
    api.post_review(review)
    for old in earlier:
        api.update_review(old["id"], f"{MARKER}\nSuperseded by lambda-fix's review of {head[:12]}.")
        api.retire_suggestions(old["id"], head)
    print("lambda-fix: review posted")
    return 0


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise BotError(f"{name} is not set")
    return value


def _digest(body: str | None) -> str | None:
    found = _DIGEST.search(body or "")
    return found.group(1) if found else None


def _head_checkout(head: str, base: str, temporary: str) -> str:
    """A directory with the pull request's head commit checked out: this one if HEAD is it, else a
    worktree of it (fetched when the checkout did not bring it)."""
    if _git(["rev-parse", "HEAD"]).strip() == head:
        return "."
    for commit in (head, base):
        if subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False).returncode:
            _git(["fetch", "--no-tags", "--quiet", "origin", commit])
    worktree = Path(temporary) / f"lambda-fix-head-{head[:12]}"
    if not worktree.exists():
        _git(["worktree", "add", "--detach", "--quiet", str(worktree), head])
    return str(worktree)


def _git(arguments: list[str]) -> str:
    completed = subprocess.run(["git", *arguments], capture_output=True, text=True, check=False)
    if completed.returncode:
        raise BotError(f"git {arguments[0]}: {completed.stderr.strip() or 'failed'}")
    return completed.stdout


class _Api:
    """The few calls of GitHub's REST API the bot makes, for one pull request."""

    def __init__(self, env: dict[str, str]) -> None:
        self._token = _required(env, "GITHUB_TOKEN")
        root = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        self._pulls = f"{root}/repos/{_required(env, 'GITHUB_REPOSITORY')}/pulls"
        self._number = _required(env, "PR_NUMBER")

    def reviews(self) -> list[dict[str, Any]]:
        found, page = [], 1
        while True:
            batch = self._call("GET", f"{self._pulls}/{self._number}/reviews?per_page=100&page={page}")
            found += batch
            if len(batch) < 100:
                return found
            page += 1

    def post_review(self, review: dict[str, Any]) -> None:
        self._call("POST", f"{self._pulls}/{self._number}/reviews", review)

    def update_review(self, review_id: int, body: str) -> None:
        self._call("PUT", f"{self._pulls}/{self._number}/reviews/{review_id}", {"body": body})

    def retire_suggestions(self, review_id: int, head: str) -> None:
        """Edit the suggestions out of an earlier review's comments, which keep their threads."""
        for comment in self._call("GET", f"{self._pulls}/{self._number}/reviews/{review_id}/comments?per_page=100"):
            body = comment.get("body") or ""
            if "```suggestion" in body:
                kept = body.split("```suggestion", 1)[0].rstrip()
                self._call("PATCH", f"{self._pulls}/comments/{comment['id']}",
                           {"body": f"{kept}\n\n(Superseded by lambda-fix's review of {head[:12]}.)"})

    def _call(self, method: str, url: str, data: dict[str, Any] | None = None) -> Any:  # noqa: ANN401 - JSON
        request = urllib.request.Request(url, method=method, data=None if data is None else json.dumps(data).encode(),
                                         headers={"Authorization": f"Bearer {self._token}",
                                                  "Accept": "application/vnd.github+json",
                                                  "X-GitHub-Api-Version": "2022-11-28",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the API's URL
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise BotError(f"GitHub answered {exc.code} to {method} {url.split('?')[0]}: {detail}") from exc
        except OSError as exc:
            raise BotError(f"cannot reach GitHub ({method} {url.split('?')[0]}): {exc}") from exc
        return json.loads(text) if text else None


if __name__ == "__main__":
    sys.exit(main())
