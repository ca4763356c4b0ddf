"""`lambda-fix probe --template template.yaml`: probe every Python function a SAM or CloudFormation
template defines, each from its own code directory, with its own environment variables, timeout and
events, and report per function.

A function's events are, in this order: the files `lambda-fix-probe.toml` beside the template names
for it (`[events]`, `OrdersFunction = ["events/orders/*.json"]`); the JSON files of `events/<LogicalId>/`;
the files of `events/` whose name holds the function's logical id (less a `Function` suffix) or its
handler module's name; every file of `events/` when the template defines one function. A function
with none is reported as not probed, with how to name its events.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import probe as probing
from .files import read_regular
from .templates import loader

SETTINGS_FILE = "lambda-fix-probe.toml"
_LAMBDA_DEFAULT_TIMEOUT = 3.0  # seconds, when neither the function nor Globals sets one
_MAX_SIZE = 16 * 1024 * 1024
# Handler modules too many functions are named alike for their name to pick events.
_GENERIC_MODULES = frozenset({"app", "handler", "handlers", "main", "index", "lambdafunction", "function", "lambda"})


@dataclass(frozen=True)
class TemplateFunction:
    name: str  # the logical id
    handler: str  # as the template spells it
    root: str  # the code directory the handler is imported from
    target: str  # module:function
    environment: dict[str, str]
    timeout: float
    events: tuple[str, ...]  # event files, relative to the template's directory
    skipped: str | None = None  # why it is not probed


@dataclass(frozen=True)
class FunctionProbe:
    function: TemplateFunction
    report: probing.ProbeReport | None = None
    error: str | None = None


class TemplateError(probing.ProbeError):
    """The template cannot be read, or defines no Python function."""


def functions_of(template: str) -> list[TemplateFunction]:
    import yaml

    path = Path(template)
    try:
        data = yaml.load(read_regular(path, _MAX_SIZE).decode("utf-8"), Loader=loader())  # noqa: S506 - SafeLoader
    except OSError as exc:
        raise TemplateError(f"{template}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TemplateError(f"{template}: not a template: {reason}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{template}: no Resources: not a SAM or CloudFormation template")
    defaults = _mapping(_mapping(data.get("Globals")).get("Function"))
    settings = _settings(path.parent)
    found = []
    for name, resource in data["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") not in ("AWS::Serverless::Function",
                                                                          "AWS::Lambda::Function"):
            continue
        properties = {**defaults, **_mapping(resource.get("Properties"))}
        runtime, handler = properties.get("Runtime"), properties.get("Handler")
        if not (isinstance(runtime, str) and runtime.startswith("python")) or not isinstance(handler, str) \
                or "." not in handler:
            continue  # another language's, or an image: nothing here to import
        code = properties.get("CodeUri") if resource["Type"] == "AWS::Serverless::Function" else properties.get("Code")
        root = os.path.normpath(path.parent.resolve() / code) if isinstance(code, str) else str(path.parent.resolve())
        module, _, function = handler.rpartition(".")
        environment = {**_variables(defaults), **_variables(_mapping(resource.get("Properties")))}
        timeout = properties.get("Timeout")
        timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else _LAMBDA_DEFAULT_TIMEOUT
        events = _events(path.parent, str(name), module, settings, single=False)
        found.append(TemplateFunction(str(name), handler, root, f"{module.replace('/', '.')}:{function}",
                                      environment, timeout, events))
    if not found:
        raise TemplateError(f"{template}: defines no Python function with a handler")
    if len(found) == 1 and not found[0].events:
        only = found[0]
        found = [dataclasses.replace(only, events=_events(path.parent, only.name, only.target.partition(":")[0],
                                                          settings, single=True))]
    return [f if f.events else dataclasses.replace(
        f, skipped=f"no events: put them in events/{f.name}/, or name them in {SETTINGS_FILE} beside the "
                   f"template ([events] {f.name} = [\"events/....json\"])") for f in found]


def probe_template(template: str, repeat: int = 1, python: str | None = None, setup: str | None = None,
                   after: bool = False, only: str | None = None) -> list[FunctionProbe]:
    """Each function of the template probed (or the one named only), in the template's order."""
    functions = functions_of(template)
    if only is not None:
        functions = [f for f in functions if f.name == only]
        if not functions:
            raise TemplateError(f"{template}: no Python function {only!r}")
    base = Path(template).parent
    done: list[FunctionProbe] = []
    findings: dict[str, probing.Found] = {}
    for function in functions:
        if function.skipped:
            done.append(FunctionProbe(function))
            continue
        try:
            events, _ = probing.load_events(None, tuple(str(base / e) for e in function.events))
            names = list(function.events)  # as the template's directory spells them
            options: dict[str, Any] = dict(repeat=repeat, root=function.root, setup=setup, timeout=function.timeout,
                                           environment=function.environment)
            if python:
                options["python"] = python
            if after:
                report = probing.probe_rewrite(function.target, events, names, **options)
            else:
                report = probing.probe(function.target, events, names, findings=False, **options)
                project = probing.project_around(function.root)
                if project not in findings:
                    findings[project] = probing.project_findings(project)
                found, blind = probing.relative_findings(findings[project], function.root)
                report = dataclasses.replace(report, findings=found, unfollowed=blind)
        except probing.ProbeError as exc:
            done.append(FunctionProbe(function, error=str(exc)))
            continue
        done.append(FunctionProbe(function, report))
    return done


def exit_status(probes: list[FunctionProbe]) -> int:
    """1 when a function's warm results differ from its cold ones (or its rewrite fails), else 2 when
    one was not probed (it could not run, or has no events: a function nobody probes is not shown
    safe), else 0."""
    if any(p.report is not None and not p.report.agrees for p in probes):
        return 1
    return 2 if any(p.report is None for p in probes) else 0


def render_text(probes: list[FunctionProbe]) -> str:
    from .probe_report import render_text as one

    parts = []
    for entry in probes:
        function = entry.function
        heading = f"== {function.name} ({function.handler}, from {os.path.relpath(function.root)}) =="
        if entry.report is not None:
            parts.append(f"{heading}\n{one(entry.report)}")
        else:
            parts.append(f"{heading}\nnot probed: {function.skipped or entry.error}\n")
    probed = [p for p in probes if p.report is not None]
    differ = [p.function.name for p in probed if not p.report.agrees]  # type: ignore[union-attr]
    summary = (f"{len(probed)} of {len(probes)} function(s) probed; "
               + (f"warm differs from cold in {', '.join(differ)}" if differ else "warm and cold agree in each"))
    return "\n".join(parts) + "\n" + summary + "\n"


def render_json(probes: list[FunctionProbe]) -> str:
    from .probe_report import render_json as one

    document = {"agrees": exit_status(probes) == 0, "functions": [
        {"function": p.function.name, "handler": p.function.handler, "root": p.function.root,
         "events": list(p.function.events), "report": json.loads(one(p.report)) if p.report else None,
         "not_probed": None if p.report else (p.function.skipped or p.error)} for p in probes]}
    return json.dumps(document, indent=2) + "\n"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _variables(properties: dict[str, Any]) -> dict[str, str]:
    """Environment: Variables, each a string; a value the template computes at deploy time (`!Ref
    Table`, `!GetAtt Queue.Arn`, `Fn::ImportValue`) stands as what it names, or as the variable's name."""
    variables = _mapping(_mapping(properties.get("Environment")).get("Variables"))
    found = {}
    for name, value in variables.items():
        if isinstance(value, bool):
            found[str(name)] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            found[str(name)] = str(value)
        else:
            found[str(name)] = f"probe-{str(name).lower()}"
    return found


def _settings(directory: Path) -> dict[str, list[str]]:
    path = directory / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(read_regular(path, _MAX_SIZE).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"{path}: {exc}") from None
    events = _mapping(data.get("events"))
    return {str(k): [v] if isinstance(v, str) else [str(p) for p in v] for k, v in events.items()
            if isinstance(v, (str, list))}


def _events(directory: Path, name: str, module: str, settings: dict[str, list[str]], single: bool) -> tuple[str, ...]:
    """The event files for the function, relative to directory (the module doc says which)."""
    def relative(paths: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(os.path.relpath(p, directory) for p in paths if os.path.isfile(p)))

    if name in settings:  # in the order given: create before update
        return relative([p for pattern in settings[name] for p in sorted(glob.glob(str(directory / pattern)))])
    events = directory / "events"
    own = [d for d in (events.iterdir() if events.is_dir() else ()) if d.is_dir() and d.name.lower() == name.lower()]
    if own:
        return relative(sorted(glob.glob(str(own[0] / "*.json"))))
    files = sorted(glob.glob(str(events / "*.json")))
    if single:
        return relative(files)
    keys = {_key(name.removesuffix("Function")), _key(module.rpartition("/")[2].rpartition(".")[2])} \
        - {"", *_GENERIC_MODULES}
    return relative([f for f in files if any(key in _key(Path(f).stem) for key in keys)])


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())
