"""The pull-request bot that action.yml runs: review the pull request's head commit, post the review,
and keep one live review per pull request.

`python -m lambda_fix.github_bot`, with the workflow's context in the environment: GITHUB_TOKEN,
GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER, BASE_SHA, HEAD_SHA, HEAD_REPO, PATHS, EXTRA_ARGS and
RUNNER_TEMP.

- GitHub places review comments on the pull request's head commit, but a `pull_request` workflow
  checks out the merge commit by default; when the base has moved on, its lines differ. So the head
  commit is checked out in a worktree of its own and reviewed there, and the review names it.
- Nothing is posted when there is nothing to say, nor when a push changes nothing the review says.
- A new review supersedes the bot's earlier ones: their suggestions are edited out, so a stale one
  cannot be accepted, and then their bodies say so. A review with nothing to suggest updates the
  latest earlier review instead of adding one. A run that stopped half way is finished by the next.
- After any error (lambda-fix's, or an API call's) nothing more is sent: earlier reviews stay as they
  are, and the step fails (exit 2).

The token is read from the environment, sent only in the Authorization header to GITHUB_API_URL's
host (API calls never follow a redirect), kept from lambda-fix's environment, and never printed.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from .formats.github_review import MARKER

# A suggestion block opens with a fence of three backticks or more (more when the code holds backticks).
_SUGGESTION = re.compile(r"^`{3,}suggestion$", re.MULTILINE)
_DIGEST = re.compile(r"<!-- lambda-fix:digest=(\w+) -->")
# In a superseded review's body, written once its suggestions are gone: a review without it may still
# hold some, when the run that superseded it stopped half way.
RETIRED = "<!-- lambda-fix:retired -->"
ATTEMPTS = 5  # of one API call, when GitHub answers that it is busy or limiting the rate
LONGEST_WAIT = 300.0  # seconds; a job that would wait longer for the rate limit fails instead
FORKS = "see \"Pull requests from forks\" in lambda-fix's docs/github-action.md for safe ways to review them"

Sleep = Callable[[float], Any]
Clock = Callable[[], float]


class BotError(Exception):
    """What stopped the bot, said in one line."""


class _Busy(Exception):
    """An answer worth asking again: GitHub is failing, limiting the rate, or could not be reached."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait  # seconds GitHub asked for, if it did


def main(env: dict[str, str] | None = None, sleep: Sleep = time.sleep, clock: Clock = time.time) -> int:
    env = dict(os.environ if env is None else env)
    if not env.get("PR_NUMBER"):
        print("lambda-fix: not a pull_request event; nothing to review")
        return 0
    try:
        return _review(env, sleep, clock)
    except BotError as exc:
        print(f"lambda-fix: {_hidden(str(exc), env)}", file=sys.stderr)
        return 2


def _review(env: dict[str, str], sleep: Sleep, clock: Clock) -> int:
    head = _required(env, "HEAD_SHA")
    api = _Api(env, sleep, clock)  # its settings are checked before anything runs
    review, found = _run_lambda_fix(env, head)
    earlier = [r for r in api.reviews() if MARKER in (r.get("body") or "")]
    latest = earlier[-1] if earlier else None
    if latest is not None and _digest(latest.get("body")) == _digest(review["body"]):
        finished = _retire(api, earlier[:-1], str(latest.get("commit_id") or head))
        print("lambda-fix: nothing new since the bot's last review"
              + (f"; superseded {finished} earlier review(s) an interrupted run left live" if finished else ""))
        return 0
    if not found and latest is None:
        print("lambda-fix: nothing to fix in this pull request")
        return 0
    if not review["comments"] and latest is not None:
        api.retire_suggestions(latest["id"], head)
        _retire(api, earlier[:-1], head)
        # Last, since its digest tells a re-run that everything before it was done.
        api.update_review(latest["id"], review["body"])
        print("lambda-fix: updated the earlier review")
        return 0
    api.post_review(review, {r.get("id") for r in earlier})
    _retire(api, earlier, head)
    print("lambda-fix: review posted")
    return 0


def _retire(api: _Api, reviews: list[dict[str, Any]], commit: str) -> int:
    """Supersede those of the bot's earlier reviews not retired yet, and say how many there were."""
    count = 0
    for old in reviews:
        if RETIRED in (old.get("body") or ""):
            continue
        api.retire_suggestions(old["id"], commit)
        api.update_review(old["id"], f"{MARKER}\n{RETIRED}\nSuperseded by lambda-fix's review of {commit[:12]}.")
        count += 1
    return count


def _run_lambda_fix(env: dict[str, str], head: str) -> tuple[dict[str, Any], bool]:
    """lambda-fix's review of the pull request's head commit, and whether it found anything."""
    base = _required(env, "BASE_SHA")
    directory = _head_checkout(head, base, env.get("RUNNER_TEMP") or "/tmp")
    command = [sys.executable, "-m", "lambda_fix", "--check", "--format", "github-review", "--diff-base", base,
               *shlex.split(env.get("EXTRA_ARGS", "")), *(shlex.split(env.get("PATHS", "")) or ["."])]
    # lambda-fix reads the pull request's files and settings, which anyone may have written: it has no
    # use for the token.
    child = {name: value for name, value in env.items() if name != "GITHUB_TOKEN"}
    completed = subprocess.run(command, cwd=directory, env=child, capture_output=True, text=True, check=False)
    sys.stderr.write(_hidden(completed.stderr, env))
    if completed.returncode not in (0, 1):
        raise BotError(f"lambda-fix exited {completed.returncode}: nothing is posted, and earlier reviews are "
                       "left as they are")
    review = _parsed_review(completed.stdout, "lambda-fix's output", "; does EXTRA_ARGS choose another --format?")
    if _digest(review["body"]) is None:
        raise BotError("lambda-fix's review has no digest")
    return review, completed.returncode == 1


def _parsed_review(text: str, what: str, hint: str = "") -> dict[str, Any]:
    """The review text holds, or a BotError that says what (and hint) when it holds none."""
    try:
        review = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BotError(f"{what} is not a review (not JSON: {exc}){hint}") from None
    if (not isinstance(review, dict) or not isinstance(review.get("body"), str)
            or not isinstance(review.get("comments"), list)):
        raise BotError(f"{what} is not a review (no body and comments){hint}")
    return review


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise BotError(f"{name} is not set")
    return value


def _hidden(text: str, env: dict[str, str]) -> str:
    """text without the token, should anything (an answer that echoes it) have put it there."""
    token = env.get("GITHUB_TOKEN", "")
    return text.replace(token, "***") if token else text


def _digest(body: str | None) -> str | None:
    found = _DIGEST.search(body or "")
    return found.group(1) if found else None


def _head_checkout(head: str, base: str, temporary: str) -> str:
    """A directory with the pull request's head commit checked out: this one if HEAD is it, else a
    worktree of it (fetched when the checkout did not bring it)."""
    if _git(["rev-parse", "HEAD"]).strip() == head:
        return "."
    for commit in (head, base):
        present = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False)
        if present.returncode:
            _git(["fetch", "--no-tags", "--quiet", "origin", commit])
    worktree = os.path.join(temporary, f"lambda-fix-head-{head[:12]}")
    if not os.path.exists(worktree):
        _git(["worktree", "add", "--detach", "--quiet", worktree, head])
    return worktree


def _git(arguments: list[str]) -> str:
    completed = subprocess.run(["git", *arguments], capture_output=True, text=True, check=False)
    if completed.returncode:
        raise BotError(f"git {arguments[0]}: {completed.stderr.strip() or 'failed'}")
    return completed.stdout


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the failure it is: urllib's handler would follow it, taking the
    Authorization header to whatever host it names (and a POST would become a GET that creates nothing)."""

    def redirect_request(self, *args: Any) -> None:  # noqa: ANN401 - urllib's signature
        return None


class _Api:
    """The few calls of GitHub's REST API the bot makes, for one pull request."""

    def __init__(self, env: dict[str, str], sleep: Sleep = time.sleep, clock: Clock = time.time) -> None:
        self._token = _required(env, "GITHUB_TOKEN")
        root = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        if urllib.parse.urlsplit(root).scheme not in ("https", "http") or not urllib.parse.urlsplit(root).netloc:
            raise BotError(f"GITHUB_API_URL is not an http(s) URL: {root!r}")
        repository = _required(env, "GITHUB_REPOSITORY")
        self._pulls = f"{root}/repos/{repository}/pulls"
        self._number = _required(env, "PR_NUMBER")
        if not (self._number.isascii() and self._number.isdigit()):
            raise BotError(f"PR_NUMBER is not a number: {self._number!r}")
        head_repository = env.get("HEAD_REPO", "")
        self._fork = head_repository if head_repository and head_repository.lower() != repository.lower() else ""
        self._opener = urllib.request.build_opener(_NoRedirects)
        self._sleep, self._clock = sleep, clock

    def reviews(self) -> list[dict[str, Any]]:
        return self._pages(f"{self._pulls}/{self._number}/reviews")

    def post_review(self, review: dict[str, Any], earlier: set[Any]) -> None:
        """Post the review once: a POST GitHub failed to answer may have created it all the same."""
        digest = _digest(review["body"])

        def posted() -> Any:  # noqa: ANN401 - JSON
            return next((r for r in self.reviews() if r.get("id") not in earlier and _digest(r.get("body")) == digest),
                        None)

        self._call("POST", f"{self._pulls}/{self._number}/reviews", review, done=posted)

    def update_review(self, review_id: int, body: str) -> None:
        self._call("PUT", f"{self._pulls}/{self._number}/reviews/{review_id}", {"body": body})

    def retire_suggestions(self, review_id: int, commit: str) -> None:
        """Edit the suggestions out of a review's comments, which keep their threads; those edited
        already are left alone."""
        for comment in self._pages(f"{self._pulls}/{self._number}/reviews/{review_id}/comments"):
            body = str(comment.get("body") or "")
            opening = _SUGGESTION.search(body)
            if opening:
                kept = body[:opening.start()].rstrip()
                self._call("PATCH", f"{self._pulls}/comments/{comment['id']}",
                           {"body": f"{kept}\n\n(Superseded by lambda-fix's review of {commit[:12]}.)"})

    def _pages(self, url: str) -> list[dict[str, Any]]:
        """Every item of a list GitHub gives a page at a time (those with an id: the bot edits by id)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._call("GET", f"{url}?per_page=100&page={page}")
            if not isinstance(batch, list):
                raise BotError(f"GitHub's answer to GET {url} is not a list")
            found += [item for item in batch if isinstance(item, dict) and isinstance(item.get("id"), int)]
            if len(batch) < 100:
                return found
            page += 1

    def _call(self, method: str, url: str, data: dict[str, Any] | None = None,
              done: Callable[[], Any] | None = None) -> Any:  # noqa: ANN401 - JSON
        """The call's answer, asked again (up to ATTEMPTS times in all) while GitHub is busy or limiting
        the rate. done, before a call is made again, says what the failed one did if it took effect."""
        what = f"{method} {url.split('?')[0]}"
        attempt = 1
        while True:
            try:
                return self._once(method, url, data, what)
            except _Busy as exc:
                wait = exc.wait if exc.wait is not None else 2.0 ** attempt
                if attempt == ATTEMPTS:
                    raise BotError(f"{exc}; gave up after {ATTEMPTS} attempts") from None
                if wait > LONGEST_WAIT:
                    raise BotError(f"{exc}; GitHub asks to wait {wait:.0f} s, longer than the bot waits "
                                   f"({LONGEST_WAIT:.0f} s)") from None
                self._sleep(wait)
            attempt += 1
            if done is not None and (result := done()) is not None:
                return result

    def _once(self, method: str, url: str, data: dict[str, Any] | None, what: str) -> Any:  # noqa: ANN401 - JSON
        request = urllib.request.Request(url, method=method, data=None if data is None else json.dumps(data).encode(),
                                         headers={"Authorization": f"Bearer {self._token}",
                                                  "Accept": "application/vnd.github+json",
                                                  "X-GitHub-Api-Version": "2022-11-28",
                                                  "Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=60) as response:
                status, text = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            raise self._failure(exc, what) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Busy(f"cannot reach GitHub ({what}): {getattr(exc, 'reason', None) or exc}") from None
        if not 200 <= status < 300:
            raise BotError(f"GitHub answered {status} to {what}")
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            raise BotError(f"GitHub's answer to {what} is not JSON") from None

    def _failure(self, answer: urllib.error.HTTPError, what: str) -> Exception:
        """What an answer other than 2xx means: a _Busy to ask again, else a BotError."""
        code, headers = answer.code, answer.headers
        said = f"GitHub answered {code} to {what}"
        if 300 <= code < 400:
            target = " ".join((headers.get("Location") or "nowhere").split())[:200]
            return BotError(f"{said}, a redirect (to {target}); API calls do not follow redirects, so the token "
                            "goes only to GITHUB_API_URL's host")
        wait = _asked_wait(headers, self._clock)
        if code >= 500 or code == 429:
            return _Busy(said, wait)
        if code == 403 and (headers.get("Retry-After") or headers.get("X-RateLimit-Remaining") == "0"):
            return _Busy(f"{said} (rate limit)", wait)
        if code == 403 and self._fork:
            return BotError(f"{said}: this pull request comes from the fork {self._fork}, and GitHub gives a "
                            f"pull_request workflow run for a fork a read-only token, so no review can be posted; "
                            f"{FORKS}")
        return BotError(f"{said}: {_message(answer)}")


def _asked_wait(headers: Any, clock: Clock) -> float | None:  # noqa: ANN401 - an HTTPMessage
    """Seconds GitHub asks the bot to wait: its Retry-After (seconds or a date), else the time until its
    rate limit resets when none of it remains."""
    after = (headers.get("Retry-After") or "").strip()
    if after.isascii() and after.isdigit():
        return float(after)
    if after:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(after).timestamp() - clock())
        except (TypeError, ValueError):
            return None
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if headers.get("X-RateLimit-Remaining") == "0" and reset.isascii() and reset.isdigit():
        return max(0.0, int(reset) - clock()) + 1.0  # the reset's second has to have passed
    return None


def _message(answer: urllib.error.HTTPError) -> str:
    """GitHub's one-line reason for an answer, or the start of the answer's text."""
    text = answer.read().decode(errors="replace")
    try:
        said = json.loads(text).get("message")
    except (json.JSONDecodeError, AttributeError):
        said = None
    return " ".join(str(said or text).split())[:300] or "(no message)"


if __name__ == "__main__":
    sys.exit(main())
