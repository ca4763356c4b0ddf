"""The pull-request bot end to end: real git repositories, the Action's step run as the workflow runs
it, and a stand-in for GitHub's API that keeps the reviews it is sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from test_github_review import BASE, PR_THREE_FIXES, apply_suggestions, git

ROOT = Path(__file__).parent.parent
TOKEN = "ghs_not-a-real-token-1234"


@dataclass
class Answer:
    """An answer the stand-in gives instead of its own; if it takes effect, the request is done too."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    takes_effect: bool = False


class StandIn:
    """Reviews and review comments of one pull request, as GitHub keeps them."""

    def __init__(self) -> None:
        self.reviews: list[dict] = []
        self.comments: dict[int, dict] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, Authorization)
        self.scripted: list[tuple[str, str, list[Answer], bool]] = []
        self.head: str | None = None  # the pull request's head commit
        self._ids = iter(range(1, 10**6))

    def answer(self, method: str, route: str, *answers: Answer, always: bool = False) -> None:
        """Answer the next requests of method to a path matching route (a regex) with answers in turn,
        and with the last one for good if always."""
        self.scripted.append((method, route, list(answers), always))

    def respond(self, method: str, path: str, body: dict | None) -> tuple[int, object, dict[str, str]]:
        for wanted, route, answers, always in self.scripted:
            if wanted == method and answers and re.fullmatch(route, path.split("?")[0]):
                answer = answers[0] if always and len(answers) == 1 else answers.pop(0)
                if answer.takes_effect:
                    self.handle(method, path, body)
                return answer.status, answer.body, answer.headers
        return (*self.handle(method, path, body), {})

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, object]:
        route = path.split("?")[0]
        if route == "/repos/o/r/pulls/7" and method == "GET":
            return 200, {"number": 7, "head": {"sha": self.head}}
        if match := re.fullmatch(r"/repos/o/r/pulls/7/reviews", route):
            if method == "GET":
                return 200, [{k: v for k, v in r.items() if k != "comments"} for r in self.reviews]
            review = {"id": next(self._ids), "body": body["body"], "commit_id": body.get("commit_id"),
                      "event": body.get("event"), "comments": []}
            for comment in body["comments"]:
                stored = {**comment, "id": next(self._ids), "commit_id": body.get("commit_id")}
                self.comments[stored["id"]] = stored
                review["comments"].append(stored["id"])
            self.reviews.append(review)
            return 200, {"id": review["id"]}
        if match := re.fullmatch(r"/repos/o/r/pulls/7/reviews/(\d+)", route):
            review = next(r for r in self.reviews if r["id"] == int(match.group(1)))
            review["body"] = body["body"]
            return 200, {"id": review["id"]}
        if match := re.fullmatch(r"/repos/o/r/pulls/7/reviews/(\d+)/comments", route):
            review = next(r for r in self.reviews if r["id"] == int(match.group(1)))
            return 200, [self.comments[i] for i in review["comments"]]
        if match := re.fullmatch(r"/repos/o/r/pulls/comments/(\d+)", route):
            self.comments[int(match.group(1))]["body"] = body["body"]
            return 200, {}
        return 404, {"message": "Not Found"}


@pytest.fixture
def github():
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
            status, answer, headers = state.respond(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = _serve

        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()


# The base branch moves on after the pull request branched: four lines at the top of the same file.
MOVED_ON = "# Orders service.\n# Owned by the payments team.\n# See docs/orders.md.\n\n" + BASE


def repository(tmp_path: Path, base_source: str) -> tuple[Path, str]:
    """A repository whose main branch holds app.py, and that commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text(base_source)
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "base")
    return repo, git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def pull_request(tmp_path: Path) -> dict[str, str]:
    """A repository as actions/checkout leaves it on `pull_request`: the merge commit, detached."""
    repo, _ = repository(tmp_path, BASE)
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "app.py").write_text(PR_THREE_FIXES)
    git(repo, "commit", "-q", "-am", "pr")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "main")
    (repo / "app.py").write_text(MOVED_ON)
    git(repo, "commit", "-q", "-am", "base moves on")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", base)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pr into main", head)
    assert (repo / "app.py").read_text().startswith("# Orders service.")  # the merge has both sides
    return {"repo": str(repo), "head": head, "base": base, "temp": str(tmp_path / "runner-temp")}


def step_env(pull_request: dict[str, str], github: StandIn, **settings: str) -> dict[str, str]:
    """The environment the workflow gives the Action's last step; settings replace some of it."""
    Path(pull_request["temp"]).mkdir(exist_ok=True)
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "o/r", "PR_NUMBER": "7",
            "BASE_SHA": pull_request["base"], "HEAD_SHA": pull_request["head"], "HEAD_REPO": "o/r", "PATHS": ".",
            "EXTRA_ARGS": "", "RUNNER_TEMP": pull_request["temp"], "LAMBDA_FIX_NO_CACHE": "1", **settings}


def run_the_step(pull_request: dict[str, str], github: StandIn, **settings: str) -> subprocess.CompletedProcess:
    """The Action's last step, as the workflow runs it."""
    step = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"][-1]
    return subprocess.run(["bash", "-euo", "pipefail", "-c", step["run"]], cwd=pull_request["repo"],
                          env=step_env(pull_request, github, **settings), capture_output=True, text=True, check=False)


def rewrite_of_head(pull_request: dict[str, str], tmp_path: Path) -> str:
    """What lambda-fix writes on the pull request's head commit."""
    copy = tmp_path / "head-copy"
    git(Path(pull_request["repo"]), "worktree", "add", "-q", "--detach", str(copy), pull_request["head"])
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "app.py"], cwd=copy, check=True,
                   capture_output=True)
    return (copy / "app.py").read_text()


def test_the_review_is_placed_on_the_head_commit_and_its_suggestions_give_the_rewrite(
        pull_request, github, tmp_path) -> None:
    done = run_the_step(pull_request, github)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in github.requests)
    [review] = github.reviews
    assert review["commit_id"] == pull_request["head"]
    comments = [github.comments[i] for i in review["comments"]]
    assert len(comments) >= 3 and all("```suggestion" in c["body"] for c in comments)
    head_source = git(Path(pull_request["repo"]), "show", f"{pull_request['head']}:app.py")
    assert apply_suggestions(head_source, comments) == rewrite_of_head(pull_request, tmp_path)
    # A line of the merge commit would be 4 off: every comment sits on the head's own lines.
    for comment in comments:
        first = comment.get("start_line", comment["line"])
        assert 1 <= first <= comment["line"] <= len(head_source.splitlines())


def test_a_push_that_changes_nothing_posts_nothing_and_one_that_does_supersedes(pull_request, github) -> None:
    assert run_the_step(pull_request, github).returncode == 0
    assert run_the_step(pull_request, github).returncode == 0
    assert len(github.reviews) == 1  # the same review again is not posted
    # The author fixes the state by hand and pushes: the review changes, the old one is retired.
    repo = Path(pull_request["repo"])
    git(repo, "checkout", "-q", "--detach", pull_request["head"])
    (repo / "app.py").write_text(PR_THREE_FIXES.replace("seen = []\n\n\n", "").replace(
        "def lambda_handler(event, context):\n", "def lambda_handler(event, context):\n    seen = []\n"))
    git(repo, "commit", "-q", "-am", "fix by hand")
    pull_request = {**pull_request, "head": git(repo, "rev-parse", "HEAD").strip()}
    git(repo, "checkout", "-q", "--detach", pull_request["base"])
    git(repo, "merge", "-q", "--no-ff", "-m", "merge again", pull_request["head"])
    assert run_the_step(pull_request, github).returncode == 0
    first, second = github.reviews
    assert "Superseded" in first["body"] and second["commit_id"] == pull_request["head"]
    assert not any("```suggestion" in github.comments[i]["body"] for i in first["comments"])
    assert any("```suggestion" in github.comments[i]["body"] for i in second["comments"])


def test_nothing_is_posted_when_the_pull_request_has_nothing_to_fix(tmp_path, github) -> None:
    repo, base = repository(tmp_path, PR_THREE_FIXES)  # an old finding, on the base branch
    (repo / "README.md").write_text("docs\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "pr: docs only")
    head = git(repo, "rev-parse", "HEAD").strip()
    done = run_the_step({"repo": str(repo), "head": head, "base": base, "temp": str(tmp_path / "t")}, github)
    assert done.returncode == 0 and "nothing to fix" in done.stdout
    assert github.reviews == [] and not any(method == "POST" for method, _, _ in github.requests)


def test_a_file_the_pull_request_breaks_fails_the_step_without_posting(tmp_path, github) -> None:
    repo, base = repository(tmp_path, BASE)
    (repo / "app.py").write_text("def lambda_handler(event, context):\n    return (\n")
    git(repo, "commit", "-q", "-am", "pr breaks it")
    head = git(repo, "rev-parse", "HEAD").strip()
    done = run_the_step({"repo": str(repo), "head": head, "base": base, "temp": str(tmp_path / "t")}, github)
    assert done.returncode == 2 and "app.py: error: syntax error" in done.stderr
    assert github.reviews == []
