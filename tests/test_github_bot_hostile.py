"""The pull-request bot when things go wrong: redirects, errors, a busy or rate-limiting GitHub, a run
stopped half way, forks. Real git repositories and a stand-in for GitHub's API, as in test_github_bot;
the bot runs in this process where it has to wait, with its sleep recorded instead of slept."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from test_github_bot import (  # noqa: F401 - fixtures
    ROOT,
    TOKEN,
    Answer,
    StandIn,
    github,
    pull_request,
    repository,
    rewrite_of_head,
    run_the_step,
    step_env,
)
from test_github_review import PR_THREE_FIXES, git

from lambda_fix import github_bot

REVIEWS = r"/repos/o/r/pulls/7/reviews"
COMMENT = r"/repos/o/r/pulls/comments/\d+"
NOW = 1_700_000_000.0


def run_here(pull_request: dict[str, str], github: StandIn, monkeypatch, capsys, **settings: str) -> tuple[
        int, str, str, list[float]]:
    """The bot's exit status, what it printed (stdout, stderr), and the waits it asked for."""
    waits: list[float] = []
    monkeypatch.chdir(pull_request["repo"])
    status = github_bot.main(step_env(pull_request, github, **settings), sleep=waits.append, clock=lambda: NOW)
    printed = capsys.readouterr()
    assert TOKEN not in printed.out + printed.err
    return status, printed.out, printed.err, waits


def push(pull_request: dict[str, str], source: str) -> dict[str, str]:
    """The pull request after its author pushes source as app.py, checked out."""
    repo = Path(pull_request["repo"])
    git(repo, "checkout", "-q", "--detach", pull_request["head"])
    (repo / "app.py").write_text(source)
    git(repo, "commit", "-q", "-am", "push")
    return {**pull_request, "head": git(repo, "rev-parse", "HEAD").strip()}


# A push that changes the review: the author moves the state into the handler by hand.
FIXED_BY_HAND = PR_THREE_FIXES.replace("seen = []\n\n\n", "").replace(
    "def lambda_handler(event, context):\n", "def lambda_handler(event, context):\n    seen = []\n")


def writes(github: StandIn) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in github.requests if method != "GET"]


def suggestions(github: StandIn, review: dict) -> int:
    return sum("```suggestion" in github.comments[i]["body"] for i in review["comments"])


@pytest.fixture
def elsewhere():
    """Another host (another port): the requests it gets, with their Authorization header."""
    received: list[tuple[str, str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            received.append((self.command, self.path, self.headers.get("Authorization")))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        do_GET = do_POST = do_PUT = do_PATCH = _serve

        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


# Item 5: the token follows redirects.

@pytest.mark.parametrize(("method", "status"), [("POST", 302), ("POST", 307), ("GET", 301)])
def test_a_redirect_is_a_failure_and_the_token_stays_with_the_api_host(pull_request, github, elsewhere, method,
                                                                       status) -> None:
    url, received = elsewhere
    github.answer(method, REVIEWS, Answer(status, {"Location": f"{url}/repos/o/r/pulls/7/reviews"}), always=True)
    done = run_the_step(pull_request, github)
    assert done.returncode == 2 and "review posted" not in done.stdout
    assert f"GitHub answered {status} to {method}" in done.stderr and "do not follow redirects" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert not any(auth for _, _, auth in received) and received == []
    assert github.reviews == []


# Item 13: a missing path erases the review; after any error earlier reviews stay as they are.

@pytest.mark.parametrize("paths", ["nonexist/", ". nonexist/"])
def test_after_lambda_fix_fails_earlier_reviews_stay_as_they_are(pull_request, github, paths) -> None:
    assert run_the_step(pull_request, github).returncode == 0
    before = copy.deepcopy((github.reviews, github.comments))
    pushed = push(pull_request, FIXED_BY_HAND)
    sent = len(github.requests)
    done = run_the_step(pushed, github, PATHS=paths)
    assert done.returncode == 2 and "nonexist" in done.stderr and "earlier reviews are left as they are" in done.stderr
    assert github.requests[sent:] == [] and (github.reviews, github.comments) == before
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize(("method", "answer"), [
    ("POST", Answer(422, body={"message": "Unprocessable Entity"})),
    ("GET", Answer(401, body={"message": "Bad credentials"})),
])
def test_after_an_api_call_fails_earlier_reviews_stay_as_they_are(pull_request, github, method, answer) -> None:
    assert run_the_step(pull_request, github).returncode == 0
    before = copy.deepcopy((github.reviews, github.comments))
    pushed = push(pull_request, FIXED_BY_HAND)
    sent = len(github.requests)
    github.answer(method, REVIEWS, answer, always=True)
    done = run_the_step(pushed, github)
    assert done.returncode == 2 and f"GitHub answered {answer.status} to {method}" in done.stderr
    assert answer.body["message"] in done.stderr
    assert [m for m, _, _ in github.requests[sent:] if m in ("PUT", "PATCH")] == []
    assert (github.reviews, github.comments) == before
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize("extra", ["--format text", "--format json"])
def test_output_that_is_not_a_review_is_one_line_not_a_traceback(pull_request, github, extra) -> None:
    done = run_the_step(pull_request, github, EXTRA_ARGS=extra)
    assert done.returncode == 2 and "lambda-fix's output is not a review" in done.stderr
    assert "Traceback" not in done.stderr and github.requests == []


# Item 14: retries.

@pytest.mark.parametrize(("answer", "wait"), [
    (Answer(503), 2.0),
    (Answer(502, {"Retry-After": "5"}), 5.0),
    (Answer(403, {"Retry-After": "7"}, {"message": "You have exceeded a secondary rate limit."}), 7.0),
    (Answer(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)}), 31.0),
    (Answer(429, {"Retry-After": "3"}), 3.0),
])
def test_a_busy_or_rate_limiting_github_is_asked_again(pull_request, github, monkeypatch, capsys, answer,
                                                       wait) -> None:
    github.answer("GET", REVIEWS, answer)
    status, out, err, waits = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 0 and "review posted" in out, err
    assert waits == [wait] and len(github.reviews) == 1
    assert [m for m, p, _ in github.requests if p.startswith("/repos/o/r/pulls/7/reviews?")] == ["GET", "GET"]


def test_github_failing_for_good_fails_the_step_after_a_few_attempts(pull_request, github, monkeypatch,
                                                                       capsys) -> None:
    github.answer("GET", REVIEWS, Answer(500), always=True)
    status, out, err, waits = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 2 and "review posted" not in out
    assert f"GitHub answered 500 to GET {github.url}{REVIEWS}; gave up after {github_bot.ATTEMPTS} attempts" in err
    assert waits == [2.0, 4.0, 8.0, 16.0] and len(github.requests) == github_bot.ATTEMPTS


def test_a_wait_longer_than_the_bot_waits_fails_the_step(pull_request, github, monkeypatch, capsys) -> None:
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 3600)}
    github.answer("GET", REVIEWS, Answer(403, limited))
    status, _, err, waits = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 2 and waits == [] and "GitHub asks to wait 3601 s, longer than the bot waits (300 s)" in err


def test_a_refusal_is_not_asked_again(pull_request, github, monkeypatch, capsys) -> None:
    github.answer("POST", REVIEWS, Answer(403, body={"message": "Resource not accessible by integration"}))
    status, _, err, waits = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 2 and waits == [] and "Resource not accessible by integration" in err and "fork" not in err
    assert writes(github) == [("POST", "/repos/o/r/pulls/7/reviews")]


def test_a_post_that_failed_but_created_the_review_is_not_posted_again(pull_request, github, monkeypatch,
                                                                        capsys) -> None:
    github.answer("POST", REVIEWS, Answer(502, takes_effect=True))
    status, out, _, _ = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 0 and "review posted" in out
    assert len(github.reviews) == 1 and writes(github) == [("POST", "/repos/o/r/pulls/7/reviews")]


def test_a_post_that_failed_without_effect_is_posted_again(pull_request, github, monkeypatch, capsys) -> None:
    github.answer("POST", REVIEWS, Answer(503), Answer(504))
    status, out, _, waits = run_here(pull_request, github, monkeypatch, capsys)
    assert status == 0 and "review posted" in out and waits == [2.0, 4.0]
    assert len(github.reviews) == 1 and [m for m, _ in writes(github)] == ["POST"] * 3


# Item 15: a run stopped half way is finished by the next.

def test_a_rerun_retires_what_a_failed_run_left_live(pull_request, github, monkeypatch, capsys) -> None:
    assert run_here(pull_request, github, monkeypatch, capsys)[0] == 0
    pushed = push(pull_request, FIXED_BY_HAND)
    github.answer("PATCH", COMMENT, Answer(500), always=True)
    status, out, err, _ = run_here(pushed, github, monkeypatch, capsys)
    assert status == 2 and "review posted" not in out and "PATCH" in err
    old, new = github.reviews
    assert suggestions(github, old) and "Superseded" not in old["body"]  # as the failed run left it

    github.scripted.clear()
    status, out, _, _ = run_here(pushed, github, monkeypatch, capsys)
    assert status == 0 and "nothing new since the bot's last review; superseded 1 earlier review" in out
    assert not suggestions(github, old) and "Superseded" in old["body"] and github_bot.RETIRED in old["body"]
    assert suggestions(github, new) and "Superseded" not in new["body"]

    sent = len(github.requests)
    status, out, _, _ = run_here(pushed, github, monkeypatch, capsys)
    assert status == 0 and out == "lambda-fix: nothing new since the bot's last review\n"
    assert [m for m, _, _ in github.requests[sent:]] == ["GET"]  # a retired review is not read again


def test_a_rerun_finishes_updating_the_review_when_nothing_is_left_to_suggest(pull_request, github, monkeypatch,
                                                                              capsys, tmp_path) -> None:
    assert run_here(pull_request, github, monkeypatch, capsys)[0] == 0
    [review] = github.reviews
    pushed = push(pull_request, rewrite_of_head(pull_request, tmp_path))  # the author applies every fix
    github.answer("PATCH", COMMENT, Answer(500), always=True)
    assert run_here(pushed, github, monkeypatch, capsys)[0] == 2
    assert suggestions(github, review) and "nothing to fix" not in review["body"]

    github.scripted.clear()
    status, out, _, _ = run_here(pushed, github, monkeypatch, capsys)
    assert status == 0 and "updated the earlier review" in out
    assert len(github.reviews) == 1 and not suggestions(github, review) and "nothing to fix" in review["body"]
    status, out, _, _ = run_here(pushed, github, monkeypatch, capsys)
    assert status == 0 and "nothing new" in out


# Item 16: forks, and the token kept out of every message.

def test_a_fork_is_told_why_nothing_can_be_posted(pull_request, github) -> None:
    github.answer("POST", REVIEWS, Answer(403, body={"message": "Resource not accessible by integration"}))
    done = run_the_step(pull_request, github, HEAD_REPO="someone/r")
    assert done.returncode == 2 and "review posted" not in done.stdout
    assert "comes from the fork someone/r" in done.stderr and "read-only token" in done.stderr
    assert "docs/github-action.md" in done.stderr and TOKEN not in done.stdout + done.stderr
    assert writes(github) == [("POST", "/repos/o/r/pulls/7/reviews")]


def test_the_action_tells_the_bot_where_the_head_comes_from() -> None:
    step = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"][-1]
    assert step["env"]["HEAD_REPO"] == "${{ github.event.pull_request.head.repo.full_name }}"


def test_an_answer_that_echoes_the_token_does_not_print_it(pull_request, github) -> None:
    github.answer("GET", REVIEWS, Answer(401, body={"message": f"Bad credentials: Bearer {TOKEN}"}))
    done = run_the_step(pull_request, github)
    assert done.returncode == 2 and "Bad credentials: Bearer ***" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_lambda_fix_does_not_get_the_token(pull_request, github, monkeypatch, capsys) -> None:
    seen: list[dict[str, str]] = []
    real_run = github_bot.subprocess.run

    def run(command, **options):  # noqa: ANN001, ANN003, ANN202 - subprocess.run's
        if "lambda_fix" in command:
            seen.append(options["env"])
        return real_run(command, **options)

    monkeypatch.setattr(github_bot.subprocess, "run", run)
    assert run_here(pull_request, github, monkeypatch, capsys)[0] == 0
    [env] = seen
    assert "GITHUB_TOKEN" not in env and TOKEN not in json.dumps(env)
