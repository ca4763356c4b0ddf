"""Which release of a library a project declares it runs with, read from the requirement files nearest
to a module: a fix that calls an API a library added in some release (Powertools' `clear_state`, from
1.17) is written only where the project's own requirements admit no older one.

Read, never trusted further than that: a file that cannot be read, or a requirement that cannot be
understood, proves nothing, and the fix is then reported instead.
"""

from __future__ import annotations

import os
import re

from ..files import read_regular

_FILES = ("requirements.txt", "requirements.in", "pyproject.toml", "Pipfile", "setup.cfg", "setup.py")
_LIMIT = 1024 * 1024
_LEVELS = 6  # directories looked at, the module's own and those above it
# A bound that raises the lowest admitted release: `>=1.17`, `==2.3.0`, `~=1.20`, Poetry's `^2` and `~2.1`.
_LOWER = re.compile(r"(?:===?|>=|~=|>|\^|~(?!=))\s*v?(\d+(?:\.\d+)*)")


def lowest_admitted(path: str, package: str) -> tuple[int, ...] | None:
    """The lowest release of package that the requirement nearest to path admits (its highest lower
    bound), or None when no requirement file up to the repository's top names it, or the one that does
    sets no lower bound."""
    spelled = "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]", package))  # as pip normalises it
    name = re.compile(rf"(?i)(?<![\w.-]){spelled}(?![\w.-])")
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(_LEVELS):
        spelled = [spec for file in _FILES for spec in _specs(os.path.join(directory, file), name)]
        if spelled:
            bounds = [tuple(int(part) for part in m.group(1).split(".")) for spec in spelled
                      for m in _LOWER.finditer(spec)]
            return max(bounds) if bounds else None
        if os.path.isdir(os.path.join(directory, ".git")) or os.path.dirname(directory) == directory:
            break
        directory = os.path.dirname(directory)
    return None


def _specs(file: str, name: re.Pattern[str]) -> list[str]:
    """What follows the package's name on each line of file that names it (its extras, version, marker)."""
    try:
        text = read_regular(file, _LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        match = name.search(line)
        if match:
            found.append(re.sub(r"^\[[^\]]*\]", "", line[match.end():].strip().lstrip("\"'")).split(";")[0])
    return found
