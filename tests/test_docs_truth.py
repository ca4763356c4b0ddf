"""What the docs say is what the project does: each claim below was once found wrong (issue 22, section 5)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
FIXTURES = Path(__file__).parent / "fixtures"


def section(page: str, heading: str) -> str:
    """The text of `heading` (a `## ` heading of `page` under docs/), up to the next heading of its level."""
    text = (DOCS / page).read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def fenced(text: str, language: str = "") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


# 1. pre-commit: a `rev` that exists, hooks that exist, and a local hook that runs without a download.


def pre_commit_configs() -> list[dict]:
    return [yaml.safe_load(block) for block in fenced(section("usage.md", "## pre-commit"), "yaml")]


def test_the_pre_commit_configs_name_hooks_the_repository_ships() -> None:
    shipped = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    configs = pre_commit_configs()
    remote = [repo for config in configs for repo in config["repos"] if repo["repo"] != "local"]
    local = [repo for config in configs for repo in config["repos"] if repo["repo"] == "local"]
    assert remote and local
    for repo in remote:
        assert {hook["id"] for hook in repo["hooks"]} <= shipped.keys()
    for repo in local:
        for hook in repo["hooks"]:
            # a local hook is the shipped one run from the installed console script
            assert hook["entry"] == shipped[hook["id"]]["entry"]
            assert hook["language"] == "system" and hook["types"] == shipped[hook["id"]]["types"]


def test_the_pre_commit_rev_is_a_commit_not_an_invented_tag() -> None:
    (repo,) = [repo for config in pre_commit_configs() for repo in config["repos"] if repo["repo"] != "local"]
    rev = str(repo["rev"])
    # a placeholder for a SHA, or a SHA: never a version tag that was never made
    assert re.fullmatch(r"<[^>]*commit SHA[^>]*>|[0-9a-f]{40}", rev), rev
    page = section("usage.md", "## pre-commit")
    if "has no release tags" in page and (ROOT / ".git").exists():
        tags = subprocess.run(["git", "-C", str(ROOT), "tag", "--list"], capture_output=True, text=True,
                              check=False)
        assert tags.returncode != 0 or tags.stdout.strip() == ""


def test_the_documented_local_hook_runs_in_pre_commit(tmp_path: Path) -> None:
    """The `repo: local` configuration, as the page shows it, in a real pre-commit run (it installs nothing)."""
    pytest.importorskip("pre_commit")
    if shutil.which("lambda-fix") is None or shutil.which("git") is None:
        pytest.skip("needs the lambda-fix console script and git")
    (local,) = [block for block in fenced(section("usage.md", "## pre-commit"), "yaml") if "repo: local" in block]
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(FIXTURES / "LF001" / "issue_example.py", repo / "app.py")
    (repo / ".pre-commit-config.yaml").write_text(local)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_NOSYSTEM": "1",
           "LAMBDA_FIX_NO_CACHE": "1"}
    for command in (["git", "init", "-q"], ["git", "add", "."]):
        subprocess.run(command, cwd=repo, check=True, env=env)
    before = (repo / "app.py").read_text()
    done = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr  # the hook fixed the file, so the commit stops
    assert "files were modified by this hook" in done.stdout
    assert "myresult = []" in (repo / "app.py").read_text() != before


# 2. The probe's `--python .venv/bin/python`, a relative name, in a real virtual environment without lambda-fix.


def test_the_probes_python_option_as_the_page_gives_it(tmp_path: Path) -> None:
    page = (DOCS / "probe.md").read_text()
    suggested = re.search(r"`--python (\S+)`", page)
    assert suggested and not Path(suggested.group(1)).is_absolute()
    interpreter = Path(suggested.group(1))
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / interpreter.parent.parent)],
                   check=True)
    (project / "app.py").write_text("seen = []\n\n\ndef lambda_handler(event, context):\n"
                                    "    seen.append(event['id'])\n    return {'seen': list(seen)}\n")
    (project / "events.json").write_text('[{"id": 1}, {"id": 2}]')
    # the page says what runs there needs nothing of lambda-fix: this environment does not have it
    assert subprocess.run([str(project / interpreter), "-c", "import lambda_fix"], cwd=tmp_path,
                          capture_output=True, check=False).returncode != 0
    for after, status in ((["--after"], 0), ([], 1)):  # the rewrite agrees with cold; the original differs
        done = subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "app:lambda_handler", "--events",
                               "events.json", "--python", str(interpreter), *after], cwd=project,
                              capture_output=True, text=True, timeout=300, check=False)
        assert "Traceback" not in done.stderr and done.returncode == status, done.stdout + done.stderr


# 3. The Python lambda-fix runs on (not the Python of the code it analyses), said once and the same everywhere.


def minimum_python() -> tuple[int, int]:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    found = re.fullmatch(r">=\s*3\.(\d+)", declared)
    assert found, f"requires-python is {declared!r}: a lower bound, as the docs state it"
    return 3, int(found.group(1))


def test_the_python_lambda_fix_runs_on_is_stated_one_way() -> None:
    major, minor = minimum_python()
    assert sys.version_info[:2] >= (major, minor)  # the tests (and CI) run on a Python the project declares
    readme = (ROOT / "README.md").read_text()
    assert f"lambda-fix running on Python {major}.{minor} or newer" in " ".join(readme.split())
    pages = {path.name: " ".join(path.read_text().split()) for path in [ROOT / "README.md", *DOCS.glob("*.md")]}
    # every place that says which Python lambda-fix itself runs on gives the declared minimum, and no
    # page promises an older one
    statements = {(name, found.group(0), found.group(1)) for name, text in pages.items()
                  for found in re.finditer(r"lambda-fix (?:running |runs )?on (?:Python )?(3\.\d+)", text)}
    assert statements
    assert [said for said in statements if said[2] != f"{major}.{minor}"] == []
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    default = tuple(int(part) for part in action["inputs"]["python-version"]["default"].split("."))
    assert default >= (major, minor)
    assert f"{major}.{minor} or newer" in pages["github-action.md"]


# 4. The usage page's `--format` row lists every format there is.


def test_the_format_option_lists_every_format() -> None:
    from lambda_fix.formats import NAMES

    (row,) = [line for line in (DOCS / "usage.md").read_text().splitlines() if line.startswith("| `--output-format")]
    assert [name for name in NAMES if f"`{name}`" not in row] == []
    output_formats = (DOCS / "output-formats.md").read_text()
    assert [name for name in NAMES if f"`{name}`" not in output_formats] == []


# 5. The usage page's errors for files that cannot be processed, as the tool prints them.


def run_lambda_fix(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_error_lines_are_what_the_tool_prints(tmp_path: Path) -> None:
    page = section("usage.md", "## Output")
    (block,) = [block for block in fenced(page) if "error:" in block]
    documented = block.splitlines()
    (tmp_path / "binary.py").write_bytes(b"x = 1\0\n")
    (tmp_path / "broken.py").write_text("x = 1\ny = (\n")
    # Latin-1 without a coding cookie, with `GREETING = "café"` on its third line, as the page says
    (tmp_path / "latin.py").write_bytes('import json\n\nGREETING = "café"\n'.encode("latin-1"))
    assert '(`GREETING = "café"` on its third line)' in " ".join(page.split())
    done = run_lambda_fix(tmp_path, *[line.split(":")[0] for line in documented])
    assert done.returncode == 2
    assert done.stdout.splitlines()[: len(documented)] == documented, done.stdout


def test_what_the_page_says_of_a_latin_1_file(tmp_path: Path) -> None:
    page = " ".join(section("usage.md", "## Output").split())
    cookie = re.search(r"\(`(# -\*- coding: latin-1 -\*-)`\)", page).group(1)
    top_message = re.search(r"the message is Python's: `([^`]+)`", page).group(1)
    (tmp_path / "cookie.py").write_bytes(f'{cookie}\nGREETING = "café"\n'.encode("latin-1"))
    (tmp_path / "top.py").write_bytes('GREETING = "café"\n'.encode("latin-1"))
    done = run_lambda_fix(tmp_path, "--check", "cookie.py", "top.py")
    assert done.stdout.splitlines()[0] == f"top.py: error: {top_message}", done.stdout
    assert "cookie.py" not in done.stdout


# 6. The bot's environment: every variable it reads is in the table of github-action.md, required as it says.


def variables_the_bot_reads() -> tuple[set[str], set[str]]:
    """(every name github_bot.py reads from its environment, the names it requires)."""
    import ast

    tree = ast.parse((ROOT / "src" / "lambda_fix" / "github_bot.py").read_text())
    read: set[str] = set()
    required: set[str] = set()
    def name(node: ast.expr) -> str | None:  # a literal name; `env.get(name)` inside _required is not a read
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            if isinstance(function, ast.Name) and function.id == "_required" and len(node.args) == 2:
                required.add(name(node.args[1]) or "")
            elif isinstance(function, ast.Attribute) and (
                    (function.attr == "get" and ast.unparse(function.value) in ("env", "os.environ"))
                    or ast.unparse(function) == "os.getenv"):
                read.add(name(node.args[0]) or "")
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("env", "os.environ"):
            read.add(name(node.slice) or "")
    read.discard("")
    assert "" not in required, "a required variable whose name is not a literal"
    return read | required, required


def test_the_bot_page_lists_every_variable_the_bot_reads() -> None:
    read, required = variables_the_bot_reads()
    assert {"GITHUB_TOKEN", "GITHUB_REPOSITORY", "HEAD_SHA", "BASE_SHA"} <= required and "GITHUB_API_URL" in read
    table = section("github-action.md", "## The environment the bot reads")
    rows = {found.group(1): found.group(0) for found in re.finditer(r"^\| `([A-Z_]+)` \|.*$", table, re.MULTILINE)}
    assert sorted(read - rows.keys()) == []
    # without PR_NUMBER, the bot has nothing to review and passes; every other required name stops it
    assert "exits 0" in rows["PR_NUMBER"] and "nothing to review" in rows["PR_NUMBER"]
    required = required - {"PR_NUMBER"}
    assert sorted(name for name in required if "| required" not in rows[name]) == []
    assert sorted(name for name, row in rows.items() if "| required" in row and name not in required) == []
    # and the Action's step sets each variable the page says it does
    (step,) = [step for step in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
               if step.get("run", "").strip() == "python -m lambda_fix.github_bot"]
    assert sorted(name for name, row in rows.items() if "the Action" in row and name not in step["env"]) == []
    assert sorted(name for name in step["env"] if name not in rows) == []


# 7. What the usage page says of the summary's counts, the size limit, the progress counter, and --config.

LEAKY = "seen = []\n\n\ndef lambda_handler(event, context):\n    seen.append(event)\n    return len(seen)\n"


def test_a_helper_over_the_size_limit_is_skipped_with_a_note_not_counted_as_checked(tmp_path: Path) -> None:
    page = " ".join((DOCS / "usage.md").read_text().split())
    (tmp_path / "app.py").write_text(LEAKY)
    (tmp_path / "plain.py").write_text("X = 1\n")  # nothing to analyse: read, and counted as checked
    (tmp_path / "helper.py").write_text("import boto3\n\n\ndef s3():\n    return boto3.client('s3')\n"
                                        + "".join(f"X{i} = {i}\n" for i in range(200)))
    done = run_lambda_fix(tmp_path, "--check", "--max-file-size", "1", ".")
    assert done.returncode == 1, done.stdout + done.stderr
    note = next(line for line in done.stdout.splitlines() if line.startswith("helper.py: note: "))
    documented = re.search(r"\(`(helper\.py: note: too large to process) \(\.\.\.\)(; it holds no handler: skipped)`\)",
                           page)
    assert documented and note.startswith(documented.group(1)) and note.endswith(documented.group(2)), note
    assert done.stdout.endswith("0 errors (2 files checked, 1 skipped)\n"), done.stdout
    assert "`(2 files checked, 1 skipped)`" in page
    summary = json.loads(run_lambda_fix(tmp_path, "--check", "--max-file-size", "1", "--format", "json", ".").stdout)
    assert (summary["summary"]["files_checked"], summary["summary"]["files_skipped"]) == (2, 1)
    assert '"files_skipped"' in (DOCS / "output-formats.md").read_text()
    # a file that may hold a handler and is too large is an error, not skipped
    (tmp_path / "app.py").write_text(LEAKY + "".join(f"Y{i} = {i}\n" for i in range(200)))
    done = run_lambda_fix(tmp_path, "--check", "--max-file-size", "1", ".")
    assert done.returncode == 2 and "app.py: error: too large to process" in done.stdout
    assert "1 error (1 file checked, 1 skipped)" in done.stdout


def stderr_on_a_terminal(cwd: Path, args: list[str], env: dict[str, str]) -> bytes:
    import pty

    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-m", "lambda_fix", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=follower, timeout=300, check=False)
    finally:
        os.close(follower)
    written = b""
    try:
        while chunk := os.read(leader, 65536):
            written += chunk
    except OSError:  # the terminal's other end is closed: all is read
        pass
    finally:
        os.close(leader)
    return written


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal as Linux has it")
def test_the_progress_counter_is_where_and_when_the_page_says(tmp_path: Path) -> None:
    page = " ".join((DOCS / "usage.md").read_text().split())
    facts = re.search(r"a run that analyses (\d+) files or more shows a counter on standard error "
                      r"\(`lambda-fix: (\d+)/(\d+) files`\), updated every (\d+) files", page)
    assert facts, "the usage page describes the counter"
    least, example, example_total, step = (int(n) for n in facts.groups())
    assert example % step == 0 and example_total >= least
    for number in range(example_total):
        (tmp_path / f"app{number}.py").write_text(LEAKY)
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    env |= {"LAMBDA_FIX_NO_CACHE": "1"}
    shown = stderr_on_a_terminal(tmp_path, ["--check", "-j", "1", "."], env)
    assert f"\rlambda-fix: {example}/{example_total} files".encode() in shown
    assert shown.endswith(b"\r\033[K")  # erased at the end
    assert b"lambda-fix: " not in stderr_on_a_terminal(tmp_path, ["--check", "-j", "1", "."], env | {"CI": "1"})
    assert b"lambda-fix: " not in stderr_on_a_terminal(
        tmp_path, ["--check", "-j", "1", "--format", "json", "."], env)
    for number in range(least - 1, example_total):  # one file fewer than the threshold: no counter
        (tmp_path / f"app{number}.py").unlink()
    assert b"files" not in stderr_on_a_terminal(tmp_path, ["--check", "-j", "1", "."], env)


def test_a_config_file_without_the_table_is_an_error_as_the_page_says(tmp_path: Path) -> None:
    page = " ".join((DOCS / "configuration.md").read_text().split())
    assert "`--config FILE` makes one file serve every path instead (a file without the table is then an error" in page
    (tmp_path / "app.py").write_text(LEAKY)
    (tmp_path / "other.toml").write_text("[tool.ruff]\nline-length = 100\n")
    done = run_lambda_fix(tmp_path, "--check", "--config", "other.toml", "app.py")
    assert done.returncode == 2 and "[tool.lambda-fix]" in done.stderr, done.stderr


# 8. SARIF points at no address that is not the project's: no package index page for an unpublished package.


def test_sarif_names_no_address_the_project_does_not_have() -> None:
    from lambda_fix.formats import renderer
    from lambda_fix.model import RunSummary

    driver = json.loads(renderer("sarif")(RunSummary(), False))["runs"][0]["tool"]["driver"]
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("urls", {})
    # an address, if ever given, is one the project declares in pyproject.toml's [project.urls]
    assert driver.get("informationUri") in (None, *urls.values())
    if "informationUri" not in driver:
        assert "no `informationUri`" in (DOCS / "output-formats.md").read_text()


def test_every_pin_of_this_repository_in_the_docs_is_a_commit() -> None:
    """The GitHub Action and pip's git URL, like pre-commit's rev: no tag exists to pin to."""
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    pins = [(page.name, found.group(1)) for page in pages
            for found in re.finditer(r"<this repository>@(<[^>]*>|[^\s\"`]+)", page.read_text())]
    assert pins
    assert [(name, pin) for name, pin in pins if not re.fullmatch(r"<full commit SHA>|[0-9a-f]{40}", pin)] == []
