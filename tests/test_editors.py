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
from test_server import HANDLER, HELPERS, LEAKY  # the modules the LSP client tests open

SCRIPTS = Path(__file__).parent / "editors"
ONE_MODULE = {"app.py": LEAKY}
A_PROJECT = {"pyproject.toml": "[project]\nname = 'orders'\n", "app.py": HANDLER, "helpers.py": HELPERS}


def _two_copies(tmp_path: Path, files: dict[str, str], fixed: str) -> tuple[Path, Path]:
    """The files twice: one copy for the editor, and one that `lambda-fix FIXED` rewrites, to compare."""
    for side in ("editor", "cli"):
        (tmp_path / side).mkdir()
        for name, text in files.items():
            (tmp_path / side / name).write_text(text)
    subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", fixed], cwd=tmp_path / "cli", check=False,
                   capture_output=True)
    return tmp_path / "editor", tmp_path / "cli"


def _neovim(directory: Path, script: str) -> subprocess.CompletedProcess[str]:
    nvim = shutil.which("nvim")
    assert nvim, "the editor tests need Neovim (Debian: apt-get install neovim)"
    return subprocess.run([nvim, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {SCRIPTS / script}",
                           "app.py"], cwd=directory, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LAMBDA_FIX_PYTHON": sys.executable})


def _emacs(directory: Path, action: str) -> subprocess.CompletedProcess[str]:
    emacs = shutil.which("emacs")
    assert emacs, "the editor tests need Emacs and Eglot (Debian: apt-get install emacs-nox elpa-eglot)"
    return subprocess.run([emacs, "--batch", "-Q", "-l", str(SCRIPTS / "emacs_eglot.el"), "app.py"], cwd=directory,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LAMBDA_FIX_PYTHON": sys.executable, "LAMBDA_FIX_ACTION": action})


@pytest.mark.editor
def test_neovim_applies_the_fix_all_action_as_the_command_line_writes(tmp_path: Path) -> None:
    editor, cli = _two_copies(tmp_path, ONE_MODULE, "app.py")
    done = _neovim(editor, "neovim_fix_all.lua")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "diagnostics: LF001,LF004" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert (editor / "app.py").read_text() == (cli / "app.py").read_text() != LEAKY


@pytest.mark.editor
def test_neovim_applies_a_fix_made_in_another_module_as_the_command_line_writes(tmp_path: Path) -> None:
    """From the handler's diagnostic on a client its helper builds, the quick fix edits helpers.py,
    which Neovim opens, changes and writes: it equals what `lambda-fix helpers.py` writes."""
    editor, cli = _two_copies(tmp_path, A_PROJECT, "helpers.py")
    done = _neovim(editor, "neovim_fix_elsewhere.lua")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(in helpers.py)" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert (editor / "helpers.py").read_text() == (cli / "helpers.py").read_text() != HELPERS
    assert (editor / "app.py").read_text() == HANDLER


@pytest.mark.editor
def test_emacs_eglot_applies_the_fix_all_action_as_the_command_line_writes(tmp_path: Path) -> None:
    editor, cli = _two_copies(tmp_path, ONE_MODULE, "app.py")
    done = _emacs(editor, "fix-all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[LF001]" in done.stdout and "[LF004]" in done.stdout and "written" in done.stdout, done.stdout
    assert (editor / "app.py").read_text() == (cli / "app.py").read_text() != LEAKY


@pytest.mark.editor
def test_emacs_eglot_applies_a_fix_made_in_another_module_as_the_command_line_writes(tmp_path: Path) -> None:
    editor, cli = _two_copies(tmp_path, A_PROJECT, "helpers.py")
    done = _emacs(editor, "elsewhere")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(in helpers.py)" in done.stdout and "written" in done.stdout, done.stdout + done.stderr
    assert (editor / "helpers.py").read_text() == (cli / "helpers.py").read_text() != HELPERS
    assert (editor / "app.py").read_text() == HANDLER
