"""The cache: an unchanged file is not processed again, and a result is never reused when anything
it depends on changed (the file, a module it imports, a file that appeared where an import looked,
another file of the run, the settings). Concurrent runs and broken caches are safe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lambda_fix.worker as worker
from lambda_fix import Config, Mode, cache_key, run
from lambda_fix.cache import DIRECTORY_NAME
from lambda_fix.model import Status

FIXTURES = Path(__file__).parent / "fixtures"

LEAKY = '''results = []


def collect(item):
    results.append(item)


def lambda_handler(event, context):
    collect(event["item"])
    return len(results)
'''


# A finding without a fix: a generator handler's state cannot be reset around the invocation.
REPORTED_ONLY = (FIXTURES / "LF002" / "report_generator_handler.py").read_text()


@pytest.fixture
def processed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths a worker processed (in this process: the runs below are small)."""
    seen: list[str] = []
    original = worker.process_file

    def counting(path: str):  # noqa: ANN202
        seen.append(path)
        return original(path)

    monkeypatch.setattr(worker, "process_file", counting)
    return seen


def _config(cache_dir: Path, **overrides: object) -> Config:
    return Config(cache=True, cache_dir=str(cache_dir), jobs=1, **overrides)  # type: ignore[arg-type]


def _old(path: Path, seconds: int = 60) -> None:
    """Date a file back, as files are that were not edited in the last moments."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        _old(path)


def test_an_unchanged_tree_is_not_processed_again(tmp_path: Path, processed: list[str]) -> None:
    shutil.copytree(FIXTURES, tmp_path / "code")
    for path in (tmp_path / "code").rglob("*"):
        _old(path)
    config = _config(tmp_path / "cache")
    first = run([str(tmp_path / "code")], config, Mode.DIFF)
    assert processed
    processed.clear()
    second = run([str(tmp_path / "code")], config, Mode.DIFF)
    # The cache holds no source text: only the files whose fixes the diff shows are rewritten again.
    assert sorted(processed) == sorted(r.path for r in first.results if r.status is Status.CHANGED)
    assert second == first  # findings, diffs, errors: all the same
    processed.clear()
    assert run([str(tmp_path / "code")], config, Mode.CHECK) == run([str(tmp_path / "code")], config, Mode.CHECK)
    processed.clear()
    run([str(tmp_path / "code")], config, Mode.CHECK)
    assert processed == []


def test_json_details_are_cached_apart_and_equal(tmp_path: Path, processed: list[str]) -> None:
    _tree(tmp_path / "code", {"app.py": LEAKY})
    config = _config(tmp_path / "cache")
    plain = run([str(tmp_path / "code")], config, Mode.DIFF)
    detailed = run([str(tmp_path / "code")], config, Mode.DIFF, details=True)
    assert len(processed) == 2  # other settings, another cache file
    assert detailed.results[0].findings[0].fix.edits and not plain.results[0].findings[0].fix.edits
    assert run([str(tmp_path / "code")], config, Mode.DIFF, details=True) == detailed
    assert len(processed) == 3  # a fix's edits are source text, which the cache never holds


def test_writing_after_a_cached_run_writes_the_same_file(tmp_path: Path, processed: list[str]) -> None:
    for name in ("cached", "fresh"):
        _tree(tmp_path / name, {"app.py": LEAKY})
    config = _config(tmp_path / "cache")
    run([str(tmp_path / "cached")], config, Mode.DIFF)  # fills the cache
    processed.clear()
    run([str(tmp_path / "cached")], config, Mode.WRITE)  # the new source is never taken from it
    assert processed == [str(tmp_path / "cached" / "app.py")]
    run([str(tmp_path / "fresh")], Config(jobs=1), Mode.WRITE)
    assert (tmp_path / "cached" / "app.py").read_text() == (tmp_path / "fresh" / "app.py").read_text() != LEAKY


def test_a_check_without_new_sources_serves_checks_only(tmp_path: Path, processed: list[str]) -> None:
    """`--check` does not build the fixed source: a later write processes those files again, and
    takes the rest (here, a file with nothing to fix) from the cache."""
    _tree(tmp_path / "code", {"app.py": LEAKY, "clean.py": LEAKY.replace("results.append(item)", "print(item)")})
    config = _config(tmp_path / "cache")
    checked = run([str(tmp_path / "code")], config, Mode.CHECK)
    assert [r.status.value for r in checked.results] == ["changed", "unchanged"]
    processed.clear()
    assert run([str(tmp_path / "code")], config, Mode.CHECK) == checked
    assert processed == []
    run([str(tmp_path / "code")], config, Mode.WRITE)
    assert processed == [str(tmp_path / "code" / "app.py")]
    assert (tmp_path / "code" / "app.py").read_text() != LEAKY


def test_a_changed_file_is_processed_again(tmp_path: Path, processed: list[str]) -> None:
    _tree(tmp_path, {"app.py": LEAKY, "other.py": LEAKY})
    config = _config(tmp_path / "cache")
    run([str(tmp_path / "app.py"), str(tmp_path / "other.py")], config, Mode.CHECK)
    (tmp_path / "app.py").write_text(LEAKY.replace("results.append(item)", "print(item)"))
    processed.clear()
    summary = run([str(tmp_path / "app.py"), str(tmp_path / "other.py")], config, Mode.CHECK)
    assert processed == [str(tmp_path / "app.py")]
    assert [len(r.findings) for r in summary.results] == [0, 1]


def test_a_racily_clean_file_is_read_again(tmp_path: Path) -> None:
    """Modified within the timestamp's resolution: same size, same time, new content."""
    path = tmp_path / "app.py"
    path.write_text(LEAKY)
    config = _config(tmp_path / "cache")
    assert run([str(path)], config, Mode.CHECK).results[0].findings
    stat = path.stat()
    path.write_text(LEAKY.replace("results.append(item)", "print(item)  # same."))
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not run([str(path)], config, Mode.CHECK).results[0].findings


def test_a_change_in_an_imported_module_is_seen(tmp_path: Path, processed: list[str]) -> None:
    _tree(tmp_path, {
        "helpers.py": "SEEN = []\n\n\ndef remember(item):\n    SEEN.append(item)\n",
        "app.py": "from helpers import remember\n\n\ndef lambda_handler(event, context):\n"
                  "    remember(event['id'])\n    return 'ok'\n",
    })
    config = _config(tmp_path / "cache")
    assert run([str(tmp_path / "app.py")], config, Mode.CHECK).results[0].findings
    (tmp_path / "helpers.py").write_text("def remember(item):\n    print(item)\n")
    processed.clear()
    assert not run([str(tmp_path / "app.py")], config, Mode.CHECK).results[0].findings
    assert processed == [str(tmp_path / "app.py")]


def test_a_module_created_where_an_import_looked_is_seen(tmp_path: Path) -> None:
    _tree(tmp_path, {"app.py": "from helpers import remember\n\n\ndef lambda_handler(event, context):\n"
                               "    remember(event['id'])\n    return 'ok'\n"})
    config = _config(tmp_path / "cache")
    assert not run([str(tmp_path / "app.py")], config, Mode.CHECK).results[0].findings
    _tree(tmp_path, {"helpers.py": "SEEN = []\n\n\ndef remember(item):\n    SEEN.append(item)\n"})
    assert run([str(tmp_path / "app.py")], config, Mode.CHECK).results[0].findings


def test_a_change_elsewhere_in_the_run_is_seen_when_the_result_asked_about_the_run(tmp_path: Path) -> None:
    """LF003 fixes a /tmp name only if no other file of the run mentions it."""
    _tree(tmp_path, {
        "app.py": "def lambda_handler(event, context):\n    with open('/tmp/out.json', 'w') as f:\n"
                  "        f.write(event['body'])\n    return 'ok'\n",
        "reader.py": "print('nothing here')\n",
    })
    config = _config(tmp_path / "cache")
    [app, _] = run([str(tmp_path)], config, Mode.CHECK).results
    assert app.findings[0].fix is not None
    (tmp_path / "reader.py").write_text("print(open('/tmp/out.json').read())\n")
    [app, _] = run([str(tmp_path)], config, Mode.CHECK).results
    assert app.findings[0].fix is None and "another file" in app.findings[0].message


def test_other_settings_never_see_each_others_results(tmp_path: Path) -> None:
    _tree(tmp_path, {"app.py": LEAKY})
    assert run([str(tmp_path / "app.py")], _config(tmp_path / "cache"), Mode.CHECK).results[0].findings
    ignored = _config(tmp_path / "cache", ignore=("LF001", "LF002"))
    assert not run([str(tmp_path / "app.py")], ignored, Mode.CHECK).results[0].findings


def _contents(cache_file: Path) -> dict:
    """The JSON of a cache file, after its signature line."""
    return json.loads(cache_file.read_bytes().partition(b"\n")[2])


def _signed(data: bytes) -> bytes:
    return cache_key.sign(data).encode() + b"\n" + data


def test_a_corrupt_cache_is_an_empty_one(tmp_path: Path, processed: list[str]) -> None:
    _tree(tmp_path, {"app.py": LEAKY})
    config = _config(tmp_path / "cache")
    first = run([str(tmp_path / "app.py")], config, Mode.CHECK)
    [cache_file] = (tmp_path / "cache").rglob("*.json")
    written = _contents(cache_file)
    [entry] = written["entries"].values()
    shaped = {"format": written["format"], "stats": {}, "dependency_lists": []}
    deep = b"[" * 100_000 + b"]" * 100_000
    for damage in (b"{not json", b"[]", json.dumps({**shaped, "entries": {"x": 3}}).encode(),
                   json.dumps({**shaped, "entries": {str(tmp_path / "app.py"): {"digest": 1}}}).encode(),
                   json.dumps({**shaped, "entries": {str(tmp_path / "app.py"): entry}}).encode(),  # no list 0
                   deep):
        for content in (damage, _signed(damage)):
            cache_file.write_bytes(content)
            processed.clear()
            assert run([str(tmp_path / "app.py")], config, Mode.CHECK) == first
            assert processed == [str(tmp_path / "app.py")]
            _contents(cache_file)  # rewritten whole


def test_a_cache_file_that_is_a_device_or_a_fifo_is_an_empty_one(tmp_path: Path, processed: list[str]) -> None:
    _tree(tmp_path, {"app.py": LEAKY})
    config = _config(tmp_path / "cache")
    first = run([str(tmp_path / "app.py")], config, Mode.CHECK)
    [cache_file] = (tmp_path / "cache").rglob("*.json")
    for make in (lambda: cache_file.symlink_to("/dev/zero"), lambda: os.mkfifo(cache_file)):
        cache_file.unlink()
        make()
        processed.clear()
        assert run([str(tmp_path / "app.py")], config, Mode.CHECK) == first
        assert processed == [str(tmp_path / "app.py")]


def test_an_unwritable_cache_is_a_warning(tmp_path: Path) -> None:
    _tree(tmp_path, {"app.py": LEAKY})
    (tmp_path / "cache").write_text("a file where the cache directory should be")
    summary = run([str(tmp_path / "app.py")], _config(tmp_path / "cache"), Mode.CHECK)
    assert summary.results[0].findings
    assert any("cannot write the cache" in w for w in summary.warnings)


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_FIX_") or k == "LAMBDA_FIX_KEY_DIR"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "lambda_fix", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_the_default_location_is_beside_the_settings_and_marked(tmp_path: Path) -> None:
    _tree(tmp_path / "project" / "src", {"app.py": LEAKY})
    (tmp_path / "project" / "pyproject.toml").write_text("[tool.lambda-fix]\n")
    _cli("--check", "src", cwd=tmp_path / "project")
    cache = tmp_path / "project" / DIRECTORY_NAME
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert list(cache.rglob("*.json"))


def test_no_cache_reads_and_writes_none(tmp_path: Path) -> None:
    _tree(tmp_path, {"app.py": LEAKY})
    result = _cli("--check", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 1 and not (tmp_path / DIRECTORY_NAME).exists()
    _cli("--check", "app.py", cwd=tmp_path, env={"LAMBDA_FIX_NO_CACHE": "1"})
    assert not (tmp_path / DIRECTORY_NAME).exists()
    _cli("--check", "--cache-dir", "elsewhere", "app.py", cwd=tmp_path)
    assert (tmp_path / "elsewhere").is_dir() and not (tmp_path / DIRECTORY_NAME).exists()


def test_concurrent_runs_share_a_cache_safely(tmp_path: Path) -> None:
    _tree(tmp_path / "code", {f"pkg{i}/handler_{j}.py": LEAKY.replace("results", f"results_{j}")
                              for i in range(4) for j in range(10)})
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_FIX_") or k == "LAMBDA_FIX_KEY_DIR"}
    command = [sys.executable, "-m", "lambda_fix", "--check", "--cache-dir", "cache", "code"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, text=True)
            for _ in range(6)]
    outputs = [r.communicate(timeout=300)[0] for r in runs]
    assert [r.returncode for r in runs] == [1] * 6
    assert len(set(outputs)) == 1 and "40 files would change" in outputs[0]
    [cache_file] = (tmp_path / "cache").rglob("*.json")
    assert len(_contents(cache_file)["entries"]) == 40
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".lambda-fix")]
    again = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert again.stdout == outputs[0]


def test_the_cache_dir_setting_is_relative_to_its_file(tmp_path: Path) -> None:
    _tree(tmp_path / "project" / "src", {"app.py": LEAKY})
    (tmp_path / "project" / "pyproject.toml").write_text('[tool.lambda-fix]\ncache-dir = ".cache/lf"\n')
    _cli("--check", "project/src", cwd=tmp_path)
    assert list((tmp_path / "project" / ".cache" / "lf").rglob("*.json"))


@pytest.mark.parametrize("output", ["text", "json", "sarif", "rdjson", "github", "github-review"])
def test_a_run_answered_from_the_cache_loads_neither_the_analysis_nor_libcst(tmp_path: Path, output: str) -> None:
    """What keeps a cached run fast, in every format: the imports it never makes (rule names and docs
    come from the table of rules, not from the fixes). A file whose fix a format shows as edits is
    rewritten again (the cache holds no source text), so the file here has a finding and no fix."""
    _tree(tmp_path, {"app.py": LEAKY if output in ("text", "github") else REPORTED_ONLY})
    flags = ["--check", "--format", output, "--cache-dir", "cache", "app.py"]
    _cli(*flags, cwd=tmp_path)
    probe = ("import atexit, sys\n"
             "heavy = ('libcst', 'lambda_fix.worker', 'lambda_fix.analysis.flow', 'lambda_fix.codemods._edit', "
             "'lambda_fix.rules.shared_state_leak', 'yaml', 'pathspec')\n"
             "atexit.register(lambda: print([m for m in heavy if m in sys.modules], file=sys.stderr))\n"
             "from lambda_fix.cli import main\n"
             f"main({flags!r})\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_FIX_") or k == "LAMBDA_FIX_KEY_DIR"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and "LF00" in result.stdout, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_a_rewrite_that_keeps_size_and_modification_time_is_seen(tmp_path: Path) -> None:
    """rsync -t and touch -r set the modification time back; the change time tells."""
    _tree(tmp_path, {"app.py": LEAKY})
    path = tmp_path / "app.py"
    config = _config(tmp_path / "cache")
    assert run([str(path)], config, Mode.CHECK).results[0].findings
    stat = path.stat()
    time.sleep(0.01)
    path.write_text(LEAKY.replace("results.append(item)", "print(item)  # same."))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert not run([str(path)], config, Mode.CHECK).results[0].findings
