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


def _files(root: Path, files: dict[str, str]) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    for name, text in files.items():
        (root / name).write_text(text)


def test_an_edit_two_imports_away_reaches_the_handler(tmp_path: Path) -> None:
    """app imports helpers, which imports store: what app learnt of store through helpers is forgotten
    when store changes, as a check from scratch would see it."""
    _files(tmp_path, {
        "app.py": "import helpers\n\n\ndef lambda_handler(event, context):\n    helpers.keep(event)\n"
                  "    return {'ok': True}\n",
        "helpers.py": "import store\n\n\ndef keep(event):\n    store.add(event.get('id'))\n",
        "store.py": "def add(value):\n    print(value)\n"})  # no state at all: nothing for app to look for
    app, store = str(tmp_path / "app.py"), str(tmp_path / "store.py")
    session = Session()
    assert _codes(session, app, (tmp_path / "app.py").read_text()) == []
    session.edited(store, "SEEN = []\n\n\ndef add(value):\n    SEEN.append(value)\n")
    assert _codes(session, app, (tmp_path / "app.py").read_text()) == ["LF002"]


def test_what_a_helper_learnt_of_a_handler_edited_again_and_again_does_not_pile_up(tmp_path: Path) -> None:
    """The handler's class extends the helper's: the helper's walk for that subclass is kept per
    version of the handler unless it is forgotten when the handler changes."""
    handler = ("import helpers\n\nSEEN = []\n\n\nclass Orders(helpers.Base):\n    def process(self, event):\n"
               "        SEEN.append(event)\n\n\nHANDLER = Orders()\n\n\ndef lambda_handler(event, context):\n"
               "    return HANDLER.handle(event)\n")
    _files(tmp_path, {"app.py": handler, "helpers.py": "class Base:\n    def handle(self, event):\n"
                                                         "        return self.process(event)\n"})
    app = str(tmp_path / "app.py")
    session = Session()
    [base] = [m for m in _checked_modules(session, app, handler) if m.path.endswith("helpers.py")]
    handle = base.classes["Base"].body[0]
    for number in range(5):
        edited = handler + f"# edit {number}\n"
        session.edited(app, edited)
        assert _codes(session, app, edited) == ["LF002"]
    learnt = handle.__dict__.get("_lambda_fix_cache", {})
    assert all(len(learnt.get(key, {})) <= 1 for key in ("walks", "resolved"))


def _checked_modules(session: Session, path: str, text: str) -> list:
    session.check(path, text, Settings(), fixes=False)
    return session.project_of(path).parsed_modules()


def test_a_helper_fixed_on_disk_after_a_syntax_error_is_read_again(tmp_path: Path) -> None:
    good = "SEEN = []\n\n\ndef collect(event):\n    SEEN.append(event.get('id'))\n"
    _files(tmp_path, {"app.py": "import helpers\n\n\ndef lambda_handler(event, context):\n"
                                "    helpers.collect(event)\n    return {'ok': True}\n",
                      "helpers.py": good.replace("def collect(event):", "def collect(event)")})
    app = str(tmp_path / "app.py")
    session = Session()
    assert _codes(session, app, (tmp_path / "app.py").read_text()) == []
    (tmp_path / "helpers.py").write_text(good)
    os.utime(tmp_path / "helpers.py", ns=(1, 1))
    assert _codes(session, app, (tmp_path / "app.py").read_text()) == ["LF002"]


def test_which_handler_a_helpers_finding_names_does_not_change_with_an_edit(tmp_path: Path) -> None:
    """Two handlers reach the helper; the finding names the first as the command line does, before and
    after an edit of that handler (the index of importers keeps the files' order)."""
    handler = "import helpers\n\n\ndef lambda_handler(event, context):\n    helpers.make_client()\n    return {}\n"
    _files(tmp_path, {"a_app.py": handler, "b_app.py": handler.replace("lambda_handler", "handler"),
                      "helpers.py": "import boto3\n\n\ndef make_client():\n    return boto3.client('s3')\n"})
    helpers = str(tmp_path / "helpers.py")
    session = Session()

    def message() -> str:
        [finding] = session.check(helpers, (tmp_path / "helpers.py").read_text(), Settings(), fixes=False).findings
        return finding.message

    first = message()
    assert "of `a_app`" in first
    session.edited(str(tmp_path / "a_app.py"), handler + "# edited\n")
    assert message() == first


def test_a_template_beside_the_code_names_its_handler(tmp_path: Path) -> None:
    """The template lives in `infra/`, the code in `functions/`: found through the project, as
    `lambda-fix functions/orders.py` finds it, it makes `record` a handler."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "functions").mkdir()
    (tmp_path / "infra").mkdir()
    code = "ORDERS = []\n\n\ndef record(body, meta):\n    ORDERS.append(body)\n    return len(ORDERS)\n"
    (tmp_path / "functions" / "orders.py").write_text(code)
    (tmp_path / "infra" / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Orders:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: ../functions\n      Handler: orders.record\n      Runtime: python3.12\n")
    session = Session((str(tmp_path),))
    assert _codes(session, str(tmp_path / "functions" / "orders.py"), code) == ["LF001"]


def test_a_generated_module_is_skipped_as_a_run_skips_it(tmp_path: Path) -> None:
    app, _ = _project(tmp_path)
    generated = "# @generated by a tool\n" + HANDLER
    result = Session().check(app, generated, Settings(), fixes=False)
    assert result.findings == () and "generated" in (result.error or "")
