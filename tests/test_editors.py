"""`lambda-fix server` in real editors run headless: Neovim's built-in LSP client and Emacs's Eglot
open a leaky handler, receive the diagnostics, apply a code action as the editor applies one (the
fix-all of the buffer, or a quick fix made in a helper module) and save; the saved files equal what
`lambda-fix FILE` writes. A command of its own (`pytest -m editor`), which CI runs after installing
Debian's neovim, emacs-nox and elpa-eglot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_server import LEAKY  # the same leaky handler the LSP client tests open

SCRIPT = Path(__file__).parent / "editors" / "neovim_fix_all.lua"
@pytest.mark.editor
def test_neovim_applies_the_fix_all_action_as_the_command_line_writes(tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    assert nvim, "the editor tests need Neovim (Debian: apt-get install neovim)"
    (tmp_path / "editor").mkdir()
    (tmp_path / "cli").mkdir()
    edited, expected = tmp_path / "editor" / "app.py", tmp_path / "cli" / "app.py"
    edited.write_text(LEAKY)
    expected.write_text(LEAKY)
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", str(expected)], check=True,
                   capture_output=True)
    done = subprocess.run([nvim, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {SCRIPT}", str(edited)],
                          cwd=edited.parent, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LAMBDA_FIX_PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "diagnostics: LF001,LF004" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert edited.read_text() == expected.read_text() != LEAKY


ELSEWHERE = Path(__file__).parent / "editors" / "neovim_fix_elsewhere.lua"


@pytest.mark.editor
def test_neovim_applies_a_fix_made_in_another_module_as_the_command_line_writes(tmp_path: Path) -> None:
    """From the handler's diagnostic on a client its helper builds, the quick fix edits helpers.py,
    which Neovim opens, changes and writes: it equals what `lambda-fix helpers.py` writes."""
    from test_server import HANDLER, HELPERS

    nvim = shutil.which("nvim")
    assert nvim, "the editor tests need Neovim (Debian: apt-get install neovim)"
    for side in ("editor", "cli"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
        (tmp_path / side / "app.py").write_text(HANDLER)
        (tmp_path / side / "helpers.py").write_text(HELPERS)
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "helpers.py"], cwd=tmp_path / "cli",
                   check=False, capture_output=True)
    done = subprocess.run([nvim, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {ELSEWHERE}", "app.py"],
                          cwd=tmp_path / "editor", capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LAMBDA_FIX_PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(in helpers.py)" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "editor" / "helpers.py").read_text() == (tmp_path / "cli" / "helpers.py").read_text() != HELPERS
    assert (tmp_path / "editor" / "app.py").read_text() == HANDLER


EMACS = Path(__file__).parent / "editors" / "emacs_eglot.el"


def _emacs(directory: Path, action: str) -> subprocess.CompletedProcess[str]:
    emacs = shutil.which("emacs")
    assert emacs, "the editor tests need Emacs and Eglot (Debian: apt-get install emacs-nox elpa-eglot)"
    return subprocess.run([emacs, "--batch", "-Q", "-l", str(EMACS), "app.py"], cwd=directory,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LAMBDA_FIX_PYTHON": sys.executable, "LAMBDA_FIX_ACTION": action})


@pytest.mark.editor
def test_emacs_eglot_applies_the_fix_all_action_as_the_command_line_writes(tmp_path: Path) -> None:
    for side in ("editor", "cli"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "app.py").write_text(LEAKY)
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "app.py"], cwd=tmp_path / "cli",
                   check=False, capture_output=True)
    done = _emacs(tmp_path / "editor", "fix-all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[LF001]" in done.stdout and "[LF004]" in done.stdout and "written" in done.stdout, done.stdout
    assert (tmp_path / "editor" / "app.py").read_text() == (tmp_path / "cli" / "app.py").read_text() != LEAKY


@pytest.mark.editor
def test_emacs_eglot_applies_a_fix_made_in_another_module_as_the_command_line_writes(tmp_path: Path) -> None:
    from test_server import HANDLER, HELPERS

    for side in ("editor", "cli"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
        (tmp_path / side / "app.py").write_text(HANDLER)
        (tmp_path / side / "helpers.py").write_text(HELPERS)
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "helpers.py"], cwd=tmp_path / "cli",
                   check=False, capture_output=True)
    done = _emacs(tmp_path / "editor", "elsewhere")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(in helpers.py)" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "editor" / "helpers.py").read_text() == (tmp_path / "cli" / "helpers.py").read_text() != HELPERS
    assert (tmp_path / "editor" / "app.py").read_text() == HANDLER
