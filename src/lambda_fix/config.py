"""Settings: `[tool.lambda-fix]` in pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import target
from .codes import CODES, unknown_codes
from .files import read_regular


SECTION = "lambda-fix"
# The most a settings file (which a pull request can change) may ask a run to parse: about 100 s and
# 1 GB of memory per file (docs/performance.md). The command line may ask for more.
MAX_FILE_SIZE_IN_SETTINGS = 1024  # KiB
_MAX_SIZE = 4 * 1024 * 1024  # of a pyproject.toml


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
    # Larger files are refused: a rewrite costs about 0.1 s and 1 MB of memory per KiB of source
    # (benchmarks/large_file.py), so 256 KiB keeps a run under 300 MB; real handlers are under 50 KiB.
    max_file_size: int = 256  # KiB
    source: str | None = None  # the pyproject.toml the settings came from
    # Reuse results of earlier runs (the command line does unless --no-cache; the Python API only when asked).
    cache: bool = False
    cache_dir: str | None = None  # default: .lambda-fix-cache beside the settings file, else in the working directory
    # The cache_dir came from a settings file, which a pull request can change: it must stay inside
    # the settings file's directory (the command line and the environment may put it anywhere).
    cache_dir_from_settings: bool = False
    # `per-file-ignores` and `extend-per-file-ignores`: (glob, codes), as Ruff's; see `for_file`.
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The Python the fixes are written for (target.py): `target-version`, else per directory, from what
    # the project declares (filled by the engine: (directory, version, why)).
    target_version: tuple[int, int] | None = None
    targets: tuple[tuple[str, tuple[int, int], str], ...] = ()

    def enabled(self, code: str) -> bool:
        selected = not self.select or any(code.startswith(s) for s in self.select)
        return selected and not any(code.startswith(i) for i in self.ignore)

    def merged(self, **overrides: Any) -> "Config":
        """Flags win over the file; None means the flag was not given. `extend_select` and
        `extend_ignore` add to the codes the file (or `select`/`ignore`) chose, as Ruff's do."""
        extend_select = overrides.pop("extend_select", None) or ()
        extend_ignore = overrides.pop("extend_ignore", None) or ()
        given = {k: v for k, v in overrides.items() if v is not None}
        if "cache_dir" in given:
            given["cache_dir_from_settings"] = False
        config = dataclasses.replace(self, **given)
        if extend_select and config.select:  # an empty select is every code already
            config = dataclasses.replace(config, select=config.select + tuple(extend_select))
        if extend_ignore:
            config = dataclasses.replace(config, ignore=config.ignore + tuple(extend_ignore))
        return config

    def ignored_in(self, path: str) -> tuple[str, ...]:
        """The codes `per-file-ignores` leaves out of path, in the order the settings give them.

        As in Ruff, a glob applies when it matches the file's name, or its path when the glob is taken
        relative to the settings file's directory (the project root); `*` also matches `/`, `**/` any
        number of directories, `{a,b}` either; a glob that starts with `!` applies where it does not
        match."""
        if not self.per_file_ignores:
            return ()
        root = os.path.dirname(os.path.abspath(self.source)) if self.source else os.getcwd()
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, root)  # the root's own name may hold `[` or `*`
        name = os.path.basename(absolute)
        codes: list[str] = []
        for pattern, ignored in self.per_file_ignores:
            negated = pattern.startswith("!")
            glob = pattern[1:] if negated else pattern
            whole = (glob, absolute) if os.path.isabs(glob) else (os.path.normpath(glob), relative)
            matches = _glob_matches(glob, name) or _glob_matches(*whole)
            if matches != negated:
                codes.extend(code for code in ignored if code not in codes)
        return tuple(codes)

    def for_file(self, path: str) -> Config:
        """These settings as they apply to path: its `per-file-ignores` added to `ignore` (so a file
        gets the same results, and the same cache, as with `ignore` naming those codes)."""
        extra = tuple(code for code in self.ignored_in(path) if code not in self.ignore)
        return dataclasses.replace(self, ignore=self.ignore + extra) if extra else self


# A settings file can come with a pull request: its globs are matched in time linear in their length
# and the path's (a set of positions, not a backtracking regex), and bounded in size.
_MAX_GLOB = 512  # characters
_MAX_ALTERNATIVES = 64  # of a glob's {a,b} groups, multiplied out
_Token = tuple[str, Any]  # ("char", "a"), ("any", None), ("star", None), ("dirs", None), ("class", (negated, ranges))


def _glob_matches(glob: str, text: str) -> bool:
    """Whether glob, as Ruff's per-file-ignores read it (globset: `*` matches `/` too, `**/` any number
    of directories, `?` one character, `[a-z]`/`[!a-z]` a class, `{a,b}` either), matches all of text."""
    return any(_tokens_match(tokens, text) for tokens in _compile_glob(glob))


def _tokens_match(tokens: tuple[_Token, ...], text: str) -> bool:
    positions = {0}  # where in text each way of matching the tokens so far has got to
    for kind, value in tokens:
        if kind == "star":
            reached = set(range(min(positions), len(text) + 1))
        elif kind == "dirs":  # nothing, or anything up to and including a `/`
            reached = set(positions)
            slashes = [k + 1 for k, c in enumerate(text) if c == "/"]
            reached.update(k for k in slashes if k > min(positions))
        else:
            reached = {p + 1 for p in positions if p < len(text) and _one(kind, value, text[p])}
        positions = reached
        if not positions:
            return False
    return len(text) in positions


def _one(kind: str, value: Any, char: str) -> bool:
    if kind == "char":
        return bool(char == value)
    if kind == "any":
        return True
    negated, ranges = value
    return any(low <= char <= high for low, high in ranges) != negated


@functools.lru_cache(maxsize=256)
def _compile_glob(glob: str) -> tuple[tuple[_Token, ...], ...]:
    """glob as sequences of tokens, one per way its `{a,b}` groups can be read; ValueError when it is
    too long or has too many."""
    if len(glob) > _MAX_GLOB:
        raise ValueError(f"a glob must be at most {_MAX_GLOB} characters")
    alternatives: list[list[_Token]] = [[]]
    i = 0
    while i < len(glob):
        char = glob[i]
        tokens: list[tuple[_Token, ...]]
        if glob.startswith("**/", i) and (i == 0 or glob[i - 1] == "/"):
            tokens, i = [(("dirs", None),)], i + 3
        elif char == "*":
            while i < len(glob) and glob[i] == "*" and not (glob.startswith("**/", i) and glob[i - 1] == "/"):
                i += 1
            tokens = [(("star", None),)]
        elif char == "?":
            tokens, i = [(("any", None),)], i + 1
        elif char == "[" and "]" in glob[i + 2:]:
            end = glob.index("]", i + 2)
            tokens, i = [(("class", _char_class(glob[i + 1:end])),)], end + 1
        elif char == "{" and "}" in glob[i:]:
            end = glob.index("}", i)
            if "{" in glob[i + 1:end]:
                raise ValueError("a glob's {a,b} groups cannot nest (nor can Ruff's)")
            tokens = [alternative for part in glob[i + 1:end].split(",")
                      for alternative in (_compile_glob(part) if part else ((),))]
            i = end + 1
        else:
            tokens, i = [(("char", char),)], i + 1
        alternatives = [[*before, *after] for before in alternatives for after in tokens]
        if len(alternatives) > _MAX_ALTERNATIVES:
            raise ValueError(f"a glob's {{a,b}} groups must make at most {_MAX_ALTERNATIVES} alternatives")
    return tuple(tuple(tokens) for tokens in alternatives)


def _char_class(inner: str) -> tuple[bool, tuple[tuple[str, str], ...]]:
    negated = inner[:1] in ("!", "^")
    inner = inner[1:] if negated else inner
    ranges = []
    i = 0
    while i < len(inner):
        if i + 2 < len(inner) and inner[i + 1] == "-":
            ranges.append((inner[i], inner[i + 2]))
            i += 3
        else:
            ranges.append((inner[i], inner[i]))
            i += 1
    return negated, tuple(ranges)


# key in the file -> (field, expected type)
_KEYS: dict[str, tuple[str, type]] = {
    "select": ("select", list),
    "ignore": ("ignore", list),
    "handlers": ("handlers", list),
    "allow-state": ("allow_state", list),
    "exclude": ("exclude", list),
    "unsafe-fixes": ("unsafe_fixes", bool),
    "jobs": ("jobs", int),
    "max-file-size": ("max_file_size", int),
    "cache-dir": ("cache_dir", str),
    "target-version": ("target_version", str),
    "per-file-ignores": ("per_file_ignores", dict),
    "extend-per-file-ignores": ("per_file_ignores", dict),  # added to per-file-ignores, as in Ruff
}


def _tool_tables(path: Path) -> dict[str, Any]:
    """The [tool] table of a pyproject.toml; ConfigError when it cannot be read or parsed."""
    where = str(path)
    try:
        data = tomllib.loads(read_regular(path, _MAX_SIZE).decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "-", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "-", f"not valid TOML: {exc}") from exc
    except (RecursionError, MemoryError) as exc:
        raise ConfigError(where, "-", "not read: nested too deeply to parse") from exc
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def load(path: Path, required: bool = False) -> Config:
    """Read one pyproject.toml; every unknown key or wrong type raises ConfigError, and so does a file
    without the table when it is required (named with --config: its settings were meant to apply)."""
    where = str(path)
    tables = _tool_tables(path)
    if required and SECTION not in tables:
        raise ConfigError(where, SECTION, "no such table: the file given with --config holds no settings "
                                          f"for lambda-fix (add a [tool.{SECTION}] table)")
    table = tables.get(SECTION, {})
    if not isinstance(table, dict):
        raise ConfigError(where, SECTION, "must be a table")
    values: dict[str, Any] = {"source": where}
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(where, key, f"unknown key (known keys: {known})")
        name, expected = _KEYS[key]
        if expected is dict:
            values[name] = values.get(name, ()) + _per_file_ignores(where, key, value)
            continue
        values[name] = _check(where, key, value, expected)
        if key == "target-version":
            values[name] = target_version(where, value)
        if key in ("select", "ignore"):
            values[name] = tuple(code.strip().upper() for code in values[name])
            unknown = unknown_codes(values[name])
            if unknown:
                raise ConfigError(where, key, f"unknown code {unknown[0]!r} (known: {', '.join(CODES)})")
    if "cache_dir" in values:  # relative to the file that names it, like every path in it
        relative = os.path.normpath(values["cache_dir"])
        if (os.path.isabs(relative) or relative in (os.curdir, os.pardir)
                or relative.startswith(os.pardir + os.sep)):
            raise ConfigError(where, "cache-dir", "must be a directory inside the project (relative to this "
                                                  "file, without '..', not '.' itself); only --cache-dir or "
                                                  "LAMBDA_FIX_CACHE_DIR can put the cache elsewhere")
        values["cache_dir"] = str(path.parent / relative)
        values["cache_dir_from_settings"] = True
    return Config(**values)


def _per_file_ignores(where: str, key: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A table of glob -> list of codes (or prefixes), as Ruff's per-file-ignores."""
    if not isinstance(value, dict):
        raise ConfigError(where, key, 'must be a table of glob = ["CODE", ...]')
    entries = []
    for glob, codes in value.items():
        if not glob or glob == "!":
            raise ConfigError(where, key, "a glob must not be empty")
        try:
            _compile_glob(glob.removeprefix("!"))
        except ValueError as exc:
            raise ConfigError(where, f"{key}.{glob[:40]!r}", str(exc)) from None
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(where, f"{key}.{glob!r}", "must be a list of codes")
        codes = tuple(code.strip().upper() for code in codes)
        unknown = unknown_codes(codes)
        if unknown:
            raise ConfigError(where, f"{key}.{glob!r}", f"unknown code {unknown[0]!r} (known: {', '.join(CODES)})")
        entries.append((glob, codes))
    return tuple(entries)


def target_version(where: str, value: str) -> tuple[int, int]:
    """`py38` (as in Ruff), `3.8` or `python3.8`."""
    version = target.parse_setting(value)
    if version is None:
        raise ConfigError(where, "target-version", f"not a Python version: {value!r} (write it as py38 or 3.8)")
    return version


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
    if key == "max-file-size" and not 1 <= value <= MAX_FILE_SIZE_IN_SETTINGS:
        raise ConfigError(where, key, f"must be a whole number of KiB from 1 to {MAX_FILE_SIZE_IN_SETTINGS} "
                                      "(only --max-file-size can set more)")
    return value


class Settings:
    """Each file's settings: those of the nearest pyproject.toml with a [tool.lambda-fix] table above
    it (walking up), so each project of a monorepo keeps its own; then the command-line flags.

    Looked up once per directory, each file read once. Raises ConfigError as `load` does.

    fixed: the settings of one file for every path (`--config`), instead of each file's nearest.
    Either way a file's `per-file-ignores` are added to its `ignore` (Config.for_file)."""

    def __init__(self, flags: dict[str, Any] | None = None, extra_handlers: tuple[str, ...] = (),
                 fixed: Config | None = None) -> None:
        self.flags = dict(flags or {})  # Config fields given on the command line; None: not given
        self.extra_handlers = extra_handlers  # --handler: added to each file's own handlers
        self.fixed = fixed
        self._by_directory: dict[str, Config] = {}  # as the run spells it: files in it share the answer
        self._nearest: dict[str, Path | None] = {}  # absolute directory -> its settings file
        self._by_file: dict[Path | None, Config] = {}
        self._per_file: dict[tuple[int, tuple[str, ...]], Config] = {}  # (id of base, codes ignored) -> Config

    def for_path(self, path: str) -> Config:
        """The settings for path: the same object for every file that shares a settings file and the
        codes its `per-file-ignores` leave out (the run groups files, and their caches, by it)."""
        spelled = os.path.dirname(path)
        if spelled not in self._by_directory:
            found = None if self.fixed is not None else self._settings_file(os.path.abspath(spelled or "."))
            if found not in self._by_file:
                base = self.fixed if self.fixed is not None else load(found) if found else Config()
                handlers = base.handlers + self.extra_handlers if self.extra_handlers else None
                self._by_file[found] = base.merged(**self.flags, handlers=handlers)
            self._by_directory[spelled] = self._by_file[found]
        config = self._by_directory[spelled]
        if not config.per_file_ignores:
            return config
        key = (id(config), config.ignored_in(path))
        if key not in self._per_file:
            self._per_file[key] = config.for_file(path)
        return self._per_file[key]

    def _settings_file(self, directory: str) -> Path | None:
        """The nearest pyproject.toml with a [tool.lambda-fix] table at or above directory, up the path
        as the user sees it (a linked directory belongs to the project it sits in), one look per
        directory: siblings share their parents' answers. A pyproject.toml on the way that cannot be
        read or is not valid TOML is an error: it may hold an `exclude` that protects files."""
        if directory not in self._nearest:
            candidate = Path(directory, "pyproject.toml")
            if os.path.isfile(candidate) and SECTION in _tool_tables(candidate):
                self._nearest[directory] = candidate
            else:
                parent = os.path.dirname(directory)
                self._nearest[directory] = None if parent == directory else self._settings_file(parent)
        return self._nearest[directory]
