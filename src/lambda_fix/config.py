"""Settings: `[tool.lambda-fix]` in pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older interpreters only
    import tomli as tomllib

SECTION = "lambda-fix"


class ConfigError(Exception):
    """A setting is wrong; names the file and the key so the user can find it."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        super().__init__(f"{path}: [tool.{SECTION}] {key}: {reason}")
        self.path = path
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()  # empty: every code
    ignore: tuple[str, ...] = ()
    handlers: tuple[str, ...] = ()  # extra handler names, "name" or "module:name"
    allow_state: tuple[str, ...] = ()  # state kept per environment on purpose, "name" or "module:name"
    exclude: tuple[str, ...] = ()  # gitignore-style patterns, on top of the built-in ones
    unsafe_fixes: bool = False
    jobs: int = 0  # 0: one process per core
    source: str | None = None  # the pyproject.toml the settings came from
    # Reuse results of earlier runs (the command line does unless --no-cache; the Python API only when asked).
    cache: bool = False
    cache_dir: str | None = None  # default: .lambda-fix-cache beside the settings file, else in the working directory

    def enabled(self, code: str) -> bool:
        selected = not self.select or any(code.startswith(s) for s in self.select)
        return selected and not any(code.startswith(i) for i in self.ignore)

    def merged(self, **overrides: Any) -> "Config":
        """Flags win over the file; None means the flag was not given."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **given)


# key in the file -> (field, expected type)
_KEYS: dict[str, tuple[str, type]] = {
    "select": ("select", list),
    "ignore": ("ignore", list),
    "handlers": ("handlers", list),
    "allow-state": ("allow_state", list),
    "exclude": ("exclude", list),
    "unsafe-fixes": ("unsafe_fixes", bool),
    "jobs": ("jobs", int),
    "cache-dir": ("cache_dir", str),
}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.lambda-fix] table, walking up from start."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for directory in (current, *current.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if SECTION in data.get("tool", {}):
                return candidate
    return None


def load(path: Path) -> Config:
    """Read one pyproject.toml; every unknown key or wrong type raises ConfigError."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "-", f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "-", f"not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get(SECTION, {})
    if not isinstance(table, dict):
        raise ConfigError(where, SECTION, "must be a table")
    values: dict[str, Any] = {"source": where}
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(where, key, f"unknown key (known keys: {known})")
        name, expected = _KEYS[key]
        values[name] = _check(where, key, value, expected)
    if "cache_dir" in values:  # relative to the file that names it, like every path in it
        values["cache_dir"] = str(path.parent / values["cache_dir"])
    return Config(**values)


def _check(where: str, key: str, value: Any, expected: type) -> Any:
    if expected is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(where, key, "must be a list of strings")
        return tuple(value)
    if expected is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(where, key, "must be a non-empty string")
        return value
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(where, key, "must be true or false")
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(where, key, "must be a whole number, 0 or more")
    return value


def discover(paths: Iterable[str]) -> Config:
    """Settings for a run over paths: from the pyproject.toml nearest the first path, else defaults."""
    first = next(iter(paths), None)
    start = Path(first) if first and first != "-" else Path(os.getcwd())
    found = find_pyproject(start if start.exists() else Path(os.getcwd()))
    return load(found) if found else Config()
