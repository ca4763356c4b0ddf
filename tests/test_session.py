"""The projects the language server keeps between checks (session.py): what is parsed again after an
edit, a file changed on disk, a change tried, and that nothing piles up over a long session."""

from __future__ import annotations

import os
from pathlib import Path

from test_server import HANDLER, HELPERS

from lambda_fix.config import Settings
from lambda_fix.session import Session


def _project(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    (tmp_path / "app.py").write_text(HANDLER)
    (tmp_path / "helpers.py").write_text(HELPERS)
    return str(tmp_path / "app.py"), str(tmp_path / "helpers.py")


def _codes(session: Session, path: str, text: str) -> list[str]:
    return sorted(f.code for f in session.check(path, text, Settings(), fixes=False).findings)


def test_a_helper_is_parsed_once_for_every_edit_of_its_handler(tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    session = Session()
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]
    project = session.project_of(app)
    [helper_module] = [m for m in project.parsed_modules() if m.path.endswith("helpers.py")]
    for number in range(3):
        edited = HANDLER + f"# edit {number}\n"
        session.edited(app, edited)
        assert _codes(session, app, edited) == ["LF002", "LF004"]
    assert [m for m in project.parsed_modules() if m.path.endswith("helpers.py")] == [helper_module]
    assert project.questions == []  # a session keeps no record for a cache: nothing piles up


def test_an_edited_helper_buffer_is_what_its_handler_reaches(tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    session = Session()
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]
    session.edited(helpers, HELPERS.replace("SEEN.append(", "print("))
    assert _codes(session, app, HANDLER) == ["LF004"]
    session.edited(helpers, None)  # closed unsaved: the file on disk again
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]


def test_a_file_changed_on_disk_unannounced_is_read_again(tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    session = Session()
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]
    Path(helpers).write_text(HELPERS.replace("SEEN.append(", "print("))
    os.utime(helpers, ns=(1, 1))  # a time of its own, however coarse the file system's clock
    assert _codes(session, app, HANDLER) == ["LF004"]


def test_a_change_tried_is_not_left_for_the_next_check(tmp_path: Path) -> None:
    app, helpers = _project(tmp_path)
    session = Session()
    tried = HELPERS.replace("SEEN.append(", "print(")
    session.check(helpers, tried, Settings(), fixes=False, trial=True)
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]


def test_a_check_with_fixes_leaves_the_buffer_not_the_rewrite(tmp_path: Path) -> None:
    """Verifying a rewrite puts the rewritten module in the project; the next check of another module
    reads the buffer again."""
    app, helpers = _project(tmp_path)
    session = Session()
    fixed = session.check(helpers, HELPERS, Settings(), fixes=True)
    assert fixed.new_source and fixed.new_source != HELPERS
    kept = [m.source for m in session.project_of(app).parsed_modules() if m.path.endswith("helpers.py")]
    assert kept in ([], [HELPERS])
    assert _codes(session, app, HANDLER) == ["LF002", "LF004"]


def test_no_project_reaches_above_the_editors_workspace(tmp_path: Path) -> None:
    """A `.git` in a home directory: a file of the workspace below it gets the workspace's project, not
    every file of the home directory."""
    home = tmp_path / "home"
    (home / ".git").mkdir(parents=True)
    (home / "other").mkdir()
    (home / "other" / "unrelated.py").write_text("import helpers\n")
    workspace = home / "orders"
    workspace.mkdir()
    app, _ = _project(workspace)
    assert Session().project_of(app).files != Session((str(workspace),)).project_of(app).files
    files = Session((str(workspace),)).project_of(app).files
    assert sorted(Path(f).name for f in files) == ["app.py", "helpers.py"]
