"""`lambda-fix probe --after` rewrites a copy of the project, never a file of the user's: not through a
symbolic link inside the project, a linked directory, or a link to a file outside it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What lambda-fix rewrites (LF001): state that grows from one invocation to the next.
LEAKY = '''seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    return {{"seen": list(seen), "from": {name!r}}}
'''
USES_ALL = '''import abs_link
import inner_link.inner_app
import outside_app
import outside_dir.lib_app


def lambda_handler(event, context):
    return [module.lambda_handler(event, context)
            for module in (abs_link, inner_link.inner_app, outside_app, outside_dir.lib_app)]
'''


def tree(top: Path) -> dict[str, str]:
    """Every entry under top, not following links: a file by its bytes' digest, a link by its target."""
    found = {}
    for directory, subdirs, names in os.walk(top):
        for name in subdirs + names:
            path = Path(directory, name)
            if path.is_symlink():
                found[str(path.relative_to(top))] = "link to " + os.readlink(path)
            elif path.is_file():
                found[str(path.relative_to(top))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose leaky modules are reached through links, and the directory outside it some point at."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    (outside / "lib").mkdir(parents=True)
    (outside / "lib" / "lib_app.py").write_text(LEAKY.format(name="a directory outside, linked"))
    (outside / "outside_app.py").write_text(LEAKY.format(name="a file outside, linked"))
    (project / "inner").mkdir(parents=True)
    (project / "real_app.py").write_text(LEAKY.format(name="a file inside, linked absolutely"))
    (project / "inner" / "inner_app.py").write_text(LEAKY.format(name="a directory inside, linked"))
    (project / "abs_link.py").symlink_to(project / "real_app.py")  # absolute, to a file of the project
    (project / "inner_link").symlink_to("inner", target_is_directory=True)
    (project / "outside_dir").symlink_to(outside / "lib", target_is_directory=True)
    (project / "outside_app.py").symlink_to(outside / "outside_app.py")
    (project / "app.py").write_text(USES_ALL)
    (project / "events.json").write_text(json.dumps([{"id": 1}, {"id": 2}]))
    return project, outside


def probe_after(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_fix", "probe", "app:lambda_handler", "--events",
                           "events.json", "--after", *args], cwd=project, capture_output=True, text=True,
                          check=False, timeout=300)


def test_after_writes_nothing_of_the_users_through_links(linked: tuple[Path, Path]) -> None:
    project, outside = linked
    before = tree(project), tree(outside)
    done = probe_after(project, "--format", "json")
    assert (tree(project), tree(outside)) == before, done.stdout + done.stderr
    report = json.loads(done.stdout)
    # Each leaky module was rewritten, in the copy: its warm results agree with the original's cold ones.
    assert sorted(report["rewritten"]) == ["abs_link.py", "inner/inner_app.py", "inner_link/inner_app.py",
                                           "outside_app.py", "outside_dir/lib_app.py", "real_app.py"]
    assert done.returncode == 0 and report["agrees"] and report["not_copied"] == [], done.stdout


def test_the_copy_holds_no_link_and_leaves_out_what_cannot_be_read_through_one(
        linked: tuple[Path, Path], tmp_path: Path) -> None:
    from lambda_fix.probe_copy import copy_project
    project, _ = linked
    os.mkfifo(project / "pipe")  # opening it to read would wait for a writer that never comes
    (project / "zeros").symlink_to("/dev/zero")  # reading it never ends
    (project / "loop").symlink_to("loop")
    (project / "nowhere.py").symlink_to(project / "no-such-file.py")
    (project / "inner" / "up").symlink_to("..", target_is_directory=True)  # the project again, inside itself
    (project / "parent").symlink_to(project.parent, target_is_directory=True)  # what holds the project
    copy = tmp_path / "copy"
    skipped = dict(copy_project(str(project), str(copy)))
    assert skipped == {
        "inner/up": "a symbolic link to a directory that holds it (a loop)",
        "inner_link/up": "a symbolic link to a directory that holds it (a loop)",
        "loop": "a symbolic link loop",
        "nowhere.py": "a symbolic link to nothing",
        "parent": "a symbolic link to a directory that holds it (a loop)",
        "pipe": "not a regular file or a directory (a FIFO, a device or a socket)",
        "zeros": "not a regular file or a directory (a FIFO, a device or a socket)",
    }
    links = [Path(d, n) for d, subdirs, names in os.walk(copy) for n in subdirs + names if Path(d, n).is_symlink()]
    assert links == []
    assert (copy / "outside_dir" / "lib_app.py").read_text() == LEAKY.format(name="a directory outside, linked")
    assert (copy / "abs_link.py").read_text() == (project / "real_app.py").read_text()


def test_after_says_what_it_left_out_of_the_copy(linked: tuple[Path, Path]) -> None:
    project, outside = linked
    os.mkfifo(project / "pipe")
    (project / "zeros").symlink_to("/dev/zero")
    before = tree(project), tree(outside)
    done = probe_after(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left out of the copy (the rewrite runs without them):\n  pipe: not a regular file or a directory (a " \
           "FIFO, a device or a socket)\n  zeros: not a regular file" in done.stdout
    assert (tree(project), tree(outside)) == before


def test_links_that_name_one_directory_many_times_over_are_bounded(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix import probe_copy
    project = tmp_path / "project"
    project.mkdir()
    for level in range(40):  # each level's two links name the next: 2 ** 40 directories to copy
        (project / f"level{level}").mkdir()
        for name in ("a", "b"):
            (project / f"level{level}" / name).symlink_to(project / f"level{level + 1}", target_is_directory=True)
    (project / "level40").mkdir()
    monkeypatch.setattr(probe_copy, "LIMIT_FILES", 1000)
    with pytest.raises(probe_copy.CopyError, match="more than 1000 files and directories"):
        probe_copy.copy_project(str(project), str(tmp_path / "copy"))


def test_a_project_too_large_to_copy_is_an_error(linked: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix import probe_copy
    from lambda_fix.probe import ProbeError, probe_rewrite
    project, _ = linked
    monkeypatch.setattr(probe_copy, "LIMIT_FILES", 3)
    with pytest.raises(ProbeError, match="the project copies to more than 3 files and directories"):
        probe_rewrite("app:lambda_handler", [{"id": 1}], ["e"], root=str(project))
