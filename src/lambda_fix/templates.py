"""Handlers and runtimes named in deployment definitions: AWS SAM / CloudFormation templates, the
Serverless Framework, and the runtimes of a CDK app.

A template says which module and function the runtime calls (`Handler: app.lambda_handler`), so
handlers with names lambda-fix would not guess are found too, and which Python runs them
(`Runtime: python3.8`), which the fixes must run on (target.py). Templates are read, never trusted:
one that does not parse gives a warning and is otherwise ignored.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import target
from .files import read_regular
from .target import Declared

SAM_NAMES = ("template.yaml", "template.yml")
SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml")
_MAX_SIZE = 16 * 1024 * 1024  # far above any real template
_FUNCTION_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
CDK_MARKER = "cdk.json"
_CDK_SOURCES = (".py", ".ts", ".js")
_CDK_SKIPPED = frozenset({"node_modules", "cdk.out", "__pycache__", "venv", "site-packages", "dist", "build"})
_CDK_MAX_FILES = 5000  # a CDK app is tens of files; a tree this large is not one to read whole


@dataclass(frozen=True)
class TemplateHandlers:
    entries: tuple[str, ...]  # "/abs/path/to/module.py:function"
    warnings: tuple[str, ...]
    runtimes: tuple[Declared, ...] = ()  # the Python each function's code runs on


@functools.cache
def loader() -> Any:
    """SafeLoader that reads CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) as plain values; on
    libyaml's parser when PyYAML was built with it (several times faster on a repository's templates).

    Built on first use: most runs have no template, and importing yaml would slow every start."""
    import yaml

    class TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    def any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]

    TemplateLoader.add_multi_constructor("!", any_tag)
    return TemplateLoader


def find(paths: Iterable[str], files: Iterable[str] = ()) -> TemplateHandlers:
    """Templates in the given directories, in the directories of the files a walk found, and in the
    directories above them, up to the working directory: a run from a monorepo's root reads each
    service's template.yaml, and a run on one service reads the template above it."""
    entries: list[str] = []
    warnings: list[str] = []
    runtimes: list[Declared] = []
    directories = _directories(paths, files)
    for template in _templates(directories):
        import yaml

        try:
            text = read_regular(template, _MAX_SIZE).decode("utf-8")
            if ("functions" if template.name in SERVERLESS_NAMES else "Resources") not in text:
                continue  # a file of that name that defines no function (a package's own template, say)
            data = yaml.load(text, Loader=loader())  # noqa: S506 - SafeLoader
        except (RecursionError, MemoryError):
            warnings.append(f"{template}: warning: template not read (nested too deeply to parse); "
                            "its handlers are not known")
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            reason = getattr(exc, "strerror", None) or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            if isinstance(exc, yaml.YAMLError) and "while increasing" in str(exc):
                reason = "nested too deeply to parse"  # libyaml's limit: "while increasing flow level"
            warnings.append(f"{template}: warning: template not read ({reason}); its handlers are not known")
            continue
        if not isinstance(data, dict):
            continue
        read = _serverless if template.name in SERVERLESS_NAMES else _sam
        found = read(template, data, runtimes)
        entries.extend(found)
    for directory in directories:
        if (directory / CDK_MARKER).is_file():
            runtimes.extend(_cdk(directory))
    return TemplateHandlers(tuple(dict.fromkeys(entries)), tuple(warnings), tuple(dict.fromkeys(runtimes)))


def _directories(paths: Iterable[str], files: Iterable[str] = ()) -> list[Path]:
    """The given directories (a file's own), the directories of files, and those above them, up to
    the working directory; each once, and each looked at once."""
    cwd = Path.cwd().resolve()
    directories: dict[Path, None] = {}
    starts: list[Path] = []
    for raw in paths:
        try:
            path = Path(raw).resolve()
        except (OSError, RuntimeError):  # a symbolic link loop: discovery reports the path
            continue
        starts.append(path if path.is_dir() else path.parent)
    # Found by the walk under the given paths: their real directories, resolved once each.
    for directory in dict.fromkeys(os.path.dirname(os.path.abspath(f)) for f in files):
        starts.append(Path(os.path.realpath(directory)))
    for start in starts:
        for directory in (start, *start.parents):
            if directory in directories:
                break  # and every directory above it
            directories[directory] = None
            if directory == cwd or not directory.is_relative_to(cwd):
                break
    return list(directories)


def _templates(directories: list[Path]) -> list[Path]:
    return [d / name for d in directories for name in (*SAM_NAMES, *SERVERLESS_NAMES) if (d / name).is_file()]


def _declared(directory: Path, runtime: Any, where: str) -> list[Declared]:
    version = target.from_runtime(runtime)
    return [Declared(str(directory.resolve()), version, f"{where}: Runtime {runtime}")] if version else []


def _sam(template: Path, data: dict, runtimes: list[Declared]) -> list[str]:
    globals_ = data.get("Globals") if isinstance(data.get("Globals"), dict) else {}
    default_code = (globals_.get("Function") or {}).get("CodeUri") if isinstance(globals_.get("Function"), dict) \
        else None
    default_handler = (globals_.get("Function") or {}).get("Handler") if isinstance(globals_.get("Function"), dict) \
        else None
    default_runtime = (globals_.get("Function") or {}).get("Runtime") if isinstance(globals_.get("Function"), dict) \
        else None
    resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
    entries = []
    for resource in resources.values():
        if not isinstance(resource, dict) or resource.get("Type") not in _FUNCTION_TYPES:
            continue
        properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        if properties.get("PackageType") == "Image":
            continue  # an image names no handler module
        handler = properties.get("Handler", default_handler)
        code = properties.get("CodeUri", default_code)
        if resource.get("Type") == "AWS::Lambda::Function":
            # Its Code is an S3 location or inline (a local path only before `package` uploads it).
            code = properties.get("Code") if isinstance(properties.get("Code"), str) else None
        code_dir = template.parent / code if isinstance(code, str) else template.parent
        runtimes += _declared(code_dir, properties.get("Runtime", default_runtime), template.name)
        entry = _entry(code_dir, handler)
        if entry:
            entries.append(entry)
    return entries


def _serverless(template: Path, data: dict, runtimes: list[Declared]) -> list[str]:
    functions = data.get("functions") if isinstance(data.get("functions"), dict) else {}
    provider = data.get("provider") if isinstance(data.get("provider"), dict) else {}
    entries = []
    for function in functions.values():
        if isinstance(function, dict):
            runtimes += _declared(template.parent, function.get("runtime", provider.get("runtime")), template.name)
            entry = _entry(template.parent, function.get("handler"))
            if entry:
                entries.append(entry)
    return entries


def _cdk(app: Path) -> list[Declared]:
    """The Python runtimes a CDK app's sources name. Which function's code each one runs is a
    program's business, not a text's: every one applies to the whole app, so its oldest wins."""
    found = []
    for number, path in enumerate(_sources(app)):
        if number >= _CDK_MAX_FILES:
            break
        try:
            text = read_regular(path, _MAX_SIZE).decode("utf-8", errors="replace")
        except OSError:
            continue
        found += [Declared(str(app.resolve()), version, f"{path.relative_to(app)}: Runtime.PYTHON_"
                                                         f"{version[0]}_{version[1]}")
                  for version in target.cdk_runtimes(text)] if "Runtime.PYTHON_" in text else []
    return found


def _sources(app: Path) -> Iterable[Path]:
    for root, directories, names in os.walk(app):  # links are not followed
        directories[:] = sorted(d for d in directories if not d.startswith(".") and d not in _CDK_SKIPPED)
        yield from (Path(root, name) for name in sorted(names) if name.endswith(_CDK_SOURCES))


def _entry(code_dir: Path, handler: Any) -> str | None:
    """`app.lambda_handler`, `pkg.app.handler` or `src/app.handler` -> "/abs/.../app.py:handler"."""
    if not isinstance(handler, str) or "." not in handler:
        return None
    module, _, function = handler.rpartition(".")
    relative = module.replace(".", "/") if "/" not in module else module
    for candidate in (code_dir / f"{relative}.py", code_dir / relative / "__init__.py"):
        if candidate.is_file():
            return f"{candidate.resolve()}:{function}"
    return None
