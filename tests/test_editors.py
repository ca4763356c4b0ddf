"""`lambda-fix server` in a real editor run headless: Neovim's built-in LSP client opens a leaky
handler, receives the diagnostics, applies the fix-all action and saves; the saved file equals what
`lambda-fix FILE` writes. A command of its own (`pytest -m editor`), which CI runs after installing
Debian's neovim."""

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
