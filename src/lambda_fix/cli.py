"""The command line: options -> Config -> engine -> a format -> exit code. Only this module uses click."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from typing import NoReturn, TextIO

import click

from . import __version__, codes, engine
from .config import Config, ConfigError, Settings, load
from .formats import DETAILED, NAMES, WITH_FIX_EDITS, renderer
from .formats import diff as diff_format
from .formats import text as text_format
from .formats._names import one_line, shown
from .model import RunSummary, Status
from .pull_request import GitError, lines_changed_since
from .source import SourceError, decode, encode
from .target import parse_setting as parse_target

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    given = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    unknown = codes.unknown_codes(given)
    if unknown:
        raise click.BadParameter(f"unknown code {unknown[0]!r} (known: {', '.join(codes.CODES)})")
    return given


_EPILOG = """\b
Modes: without --check or --diff, files are rewritten in place, and a --format of json, sarif,
rdjson or github reports what was fixed and what is left; github-review needs --check.
\b
Exit status:
  0    nothing left to fix (with --check or --diff: nothing would change)
  1    findings remain, or (with --check or --diff) a file would change
  2    a file could not be processed (syntax error, unreadable, ...), or bad usage or settings
  130  interrupted; every file is either unchanged or completely rewritten
"""


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the fixes; write nothing.")
@click.option("--output-format", "--format", "output_format", type=click.Choice(sorted(NAMES)), default=None,
              help="How to report: text (default), diff (same as --diff), json, sarif, github, rdjson, github-review. "
                   "--format is the same option.")
@click.option("--diff-base", metavar="REF",
              help="Report only on lines changed since the merge base of REF (a git ref such as origin/main).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (errors still exit 2).")
@click.option("--explain", metavar="CODE",
              help="Print the documentation of a rule (LF001 ...) and exit; `lambda-fix rule --all` prints "
                   "every rule's.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when any file would change or a finding remains.")
@click.option("--fix", "fix", is_flag=True,
              help="Rewrite the files in place: what a run does without --check or --diff, spelled out.")
@click.option("--select", help="Only these codes (comma-separated prefixes, e.g. LF001,LF002).")
@click.option("--ignore", help="Leave out these codes (comma-separated prefixes).")
@click.option("--extend-select", help="Add these codes to those selected (by --select or the settings).")
@click.option("--extend-ignore", help="Leave out these codes too, besides those the settings ignore.")
@click.option("--statistics", is_flag=True, help="Print how many findings each code has, instead of each finding.")
@click.option("--show-fixes/--no-show-fixes", default=False,
              help="After the findings, list the fixes applied (or, with --check or --diff, available), by file.")
@click.option("--handler", "handlers", multiple=True, metavar="NAME",
              help="Another handler: a function name, or module:function. Repeatable.")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes marked unsafe.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes (0: one per core).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=None, metavar="KIB",
              help="Refuse larger files (default 256 KiB).")
@click.option("--no-cache", is_flag=True, envvar="LAMBDA_FIX_NO_CACHE",
              help="Analyse every file afresh; neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="LAMBDA_FIX_CACHE_DIR",
              help="Where to keep the cache (default: .lambda-fix-cache beside pyproject.toml, else here).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="Read settings from this pyproject.toml instead of the nearest one.")
@click.option("--target-version", metavar="VERSION",
              help="The Python the fixes must run on (py38, 3.8); default: each function's runtime, else "
                   "requires-python, else python3.6.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print which Python each file's fixes are written for, and why.")
@click.option("--stdin-filename", help="The path to report for code read from '-'.")
@click.version_option(__version__, prog_name="lambda-fix")
def main(paths: tuple[str, ...], show_diff: bool, output_format: str | None, diff_base: str | None, exit_zero: bool,
         explain: str | None,
         check: bool, fix: bool, select: str | None, ignore: str | None, extend_select: str | None,
         extend_ignore: str | None, statistics: bool, show_fixes: bool, handlers: tuple[str, ...],
         unsafe_fixes: bool | None,
         jobs: int | None, max_file_size: int | None, no_cache: bool, cache_dir: str | None,
         config_path: str | None, target_version: str | None, verbose: bool,
         stdin_filename: str | None) -> None:
    """Make AWS Lambda handlers safe for warm starts.

    Rewrites PATHS (files or directories) in place; '-' reads one module from standard input
    and writes the result to standard output.

    `lambda-fix probe MODULE:FUNCTION --events FILE` runs a handler warm and cold and compares
    (it runs your code; see `lambda-fix probe --help`). `lambda-fix rule --all` prints every rule's
    documentation, `lambda-fix rule CODE` one. `lambda-fix server` is the language server an editor
    starts (docs/editors.md).
    """
    from pathlib import Path

    if explain is not None:
        from .rule_docs import render as rule_page

        rule = codes.BY_CODE.get(explain.strip().upper())
        if rule is None:
            raise click.BadParameter(f"unknown code {explain!r} (known: {', '.join(codes.CODES)})",
                                     param_hint="--explain")
        click.echo(rule_page(rule), nl=False)
        sys.exit(EXIT_OK)
    if not paths:
        raise click.UsageError("give at least one PATH (or '-' for standard input)")
    if fix and (check or show_diff or output_format == "diff"):
        raise click.UsageError("--fix rewrites files in place: it cannot be combined with --check or --diff")
    if output_format == "github-review" and not check:
        # A review proposes changes; a run that has already written them has nothing to propose.
        raise click.UsageError("--format github-review describes what a run would change: use it with --check")
    show_diff = show_diff or output_format == "diff"
    output_format = output_format or ("diff" if show_diff else "text")
    _stop_on_sigterm()
    flags = dict(select=_codes(select), ignore=_codes(ignore), extend_select=_codes(extend_select),
                 extend_ignore=_codes(extend_ignore), unsafe_fixes=unsafe_fixes, jobs=jobs,
                 max_file_size=max_file_size,
                 cache=not no_cache, cache_dir=cache_dir, target_version=_target_version(target_version))
    config: Config | Settings
    try:
        # Each file gets its own project's settings, or with --config one file's for every path; then
        # the flags, and the codes its per-file-ignores leave out.
        fixed = load(Path(config_path), required=True) if config_path else None
        config = Settings(flags, extra_handlers=handlers, fixed=fixed)
        if paths == (engine.STDIN,):
            config = config.for_path(stdin_filename or os.path.join(os.getcwd(), engine.STDIN))
    except ConfigError as exc:
        _config_error(exc)
    if paths == (engine.STDIN,):
        assert isinstance(config, Config)
        if output_format not in ("text", "diff") or statistics:
            # Standard input gives back the module (or its diff): a report in another format would be
            # mixed into it.
            raise click.UsageError(f"--format {output_format} and --statistics are not available with standard "
                                   "input ('-'): name the file, or use --diff")
        code = _run_stdin(config, show_diff, check, stdin_filename or engine.STDIN, show_fixes)
        sys.exit(EXIT_OK if exit_zero and code == EXIT_FINDINGS else code)
    if engine.STDIN in paths:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    mode = engine.Mode.DIFF if show_diff else engine.Mode.CHECK if check else engine.Mode.WRITE
    progress = _progress_bar() if output_format in ("text", "diff") else None
    try:
        summary = engine.run(paths, config, mode, progress=progress, details=output_format in DETAILED,
                             fix_edits=output_format in WITH_FIX_EDITS)
    except ConfigError as exc:  # a project's settings file, found before any file was read
        _config_error(exc)
    except KeyboardInterrupt:
        # Writes are atomic renames: every file is either as it was or fully rewritten.
        click.echo("\nlambda-fix: interrupted; each file is either unchanged or completely rewritten", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if progress is not None:
            progress(0, 0)
    if diff_base is not None:
        try:
            summary = engine.limit_to_pull_request(summary, lines_changed_since(diff_base))
        except GitError as exc:
            click.echo(f"lambda-fix: error: --diff-base {one_line(diff_base)}: {one_line(str(exc))}", err=True)
            sys.exit(EXIT_ERROR)
    unmatched = engine.unmatched_handlers(handlers, [r.path for r in summary.results])
    if unmatched:
        summary = dataclasses.replace(summary, warnings=summary.warnings + tuple(
            f"warning: --handler {entry} matches no function of the files checked" for entry in unmatched))
    wrote = mode is engine.Mode.WRITE
    if verbose:
        click.echo(_targets(summary) + text_format.unfollowed(summary), nl=False, err=True)
    if statistics and output_format == "text":
        color = _color(sys.stdout)
        click.echo(text_format.statistics(summary, wrote, color, show_fixes), nl=False, color=color)
    elif output_format == "text":
        color = _color(sys.stdout)
        click.echo(text_format.render(summary, wrote, color, show_fixes), nl=False, color=color)
    else:
        # stdout carries only the diff or the machine-readable output; what a person reads goes to
        # stderr: with a diff, every finding as `text` shows it; else the errors and the summary.
        click.echo(renderer(output_format)(summary, wrote), nl=False)
        if output_format == "diff":
            color = _color(sys.stderr)
            click.echo(text_format.render(summary, wrote, color, show_fixes), nl=False, err=True, color=color)
        else:
            click.echo(text_format.problems(summary), nl=False, err=True)
            fixes = text_format.fixes(summary, wrote) if show_fixes else ""
            click.echo(fixes + text_format.summary_line(summary, wrote), err=True)
    code = exit_code(summary, pending_is_failure=not wrote)
    sys.exit(EXIT_OK if exit_zero and code == EXIT_FINDINGS else code)


def _target_version(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    version = parse_target(value)
    if version is None:
        raise click.BadParameter(f"not a Python version: {value!r} (write it as py38 or 3.8)",
                                 param_hint="--target-version")
    return version


def _targets(summary: RunSummary) -> str:
    """Each file checked, with the Python its fixes are written for and why (--verbose)."""
    by_directory = {directory: (version, why) for directory, version, why in summary.targets}
    lines = []
    for result in summary.results:
        found = by_directory.get(os.path.dirname(os.path.abspath(result.path)))
        if found is not None:
            version, why = found
            lines.append(f"{shown(result.path)}: target Python {version[0]}.{version[1]} ({one_line(why)})\n")
    return "".join(lines)


def _color(stream: TextIO) -> bool:
    """Colour for a person at a terminal: NO_COLOR (any value but empty) turns it off, else FORCE_COLOR
    (any value but empty) turns it on even when the stream is not a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def _config_error(exc: ConfigError) -> NoReturn:
    # The settings file's path is the repository's to choose: one line, whatever it holds.
    click.echo(f"lambda-fix: error: {one_line(str(exc))}", err=True)
    sys.exit(EXIT_ERROR)


def _progress_bar():  # noqa: ANN202 - a progress callback, or None
    """A one-line counter on a terminal; nothing in CI logs or when stderr is not a terminal."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    shown = [False]

    def show(done: int, total: int) -> None:
        if total == 0:  # the end: clear the line if anything was shown
            if shown[0]:
                sys.stderr.write("\r\033[K")
            return
        if total >= 50 and (done == total or done % 25 == 0):
            shown[0] = True
            sys.stderr.write(f"\rlambda-fix: {done}/{total} files")
            sys.stderr.flush()
    return show


def _stop_on_sigterm() -> None:
    """SIGTERM stops the run like Ctrl-C, so a file being written is finished or left as it was."""
    def interrupt(signum, frame):  # noqa: ANN001, ARG001
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def exit_code(summary: RunSummary, pending_is_failure: bool) -> int:
    if summary.failed:
        return EXIT_ERROR
    if pending_is_failure and summary.changed:
        return EXIT_FINDINGS
    if any(not f.applied for r in summary.results for f in r.findings):
        return EXIT_FINDINGS
    return EXIT_OK


def _run_stdin(config: Config, show_diff: bool, check: bool, name: str, show_fixes: bool = False) -> int:
    data = sys.stdin.buffer.read()
    try:
        decoded = decode(data)
    except SourceError as exc:
        click.echo(f"{one_line(name)}: error: {exc}", err=True)
        sys.stdout.buffer.write(data)  # a filter must not swallow its input
        return EXIT_ERROR
    result = engine.check_source(decoded.text, config, path=name)
    summary = RunSummary((result,))
    if show_diff:
        click.echo(diff_format.render(summary), nl=False)
    elif not check:
        new = result.new_source if result.status is Status.CHANGED and result.new_source is not None else None
        sys.stdout.buffer.write(encode(new, decoded) if new is not None else data)
        sys.stdout.buffer.flush()
    color = _color(sys.stderr)
    click.echo(text_format.render(summary, wrote=False, color=color, show_fixes=show_fixes), nl=False, err=True,
               color=color)
    return exit_code(summary, pending_is_failure=show_diff or check)


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog="""\b
Exit status:
  0    warm and cold results agree
  1    some invocation's warm result differs from its cold one
  1    with --after: also, the rewrite fails where the original runs
  2    the probe could not run (bad target or event file, a setup module that raises,
       a handler that cannot be imported); with --template: no function differs, and
       one could not be probed
""")
@click.argument("target", metavar="MODULE:FUNCTION", required=False)
@click.option("--template", "template", metavar="FILE",
              help="Probe every Python function this SAM or CloudFormation template defines, each with its "
                   "code directory, environment, timeout and events (events/<LogicalId>/, files of events/ "
                   "named after it, or lambda-fix-probe.toml beside the template); TARGET then picks one "
                   "function by its logical id.")
@click.option("--events", "events_file", metavar="FILE", help="A JSON array of events, invoked in order.")
@click.option("--event", "event_files", multiple=True, metavar="FILE",
              help="One event per file (SAM's events/*.json); repeatable, after --events.")
@click.option("--repeat", type=click.IntRange(min=1), default=None,
              help="Run the sequence of events N times [default: 1; with --template: 2, so that a function "
                   "with one event is invoked warm too].")
@click.option("--after", is_flag=True,
              help="Probe lambda-fix's rewrite of the project, made in a temporary copy (the project is not "
                   "touched): its warm results against the original's cold ones.")
@click.option("--setup", metavar="MODULE",
              help="A module each interpreter imports before the handler's (start mocks there: moto's mock_aws).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              metavar="SECONDS", help="The function's timeout: an invocation that runs longer times out and, as "
                                      "in Lambda, ends its execution environment.")
@click.option("--python", "python", metavar="PATH", default=sys.executable, show_default="this interpreter",
              help="The interpreter that runs the handler: the project's virtual environment's, with its "
                   "dependencies (it needs nothing of lambda-fix).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def probe_command(target: str | None, template: str | None, events_file: str | None, event_files: tuple[str, ...],
                  repeat: int | None, after: bool, setup: str | None, timeout: float, python: str,
                  output_format: str) -> None:
    """Invoke a handler as one execution environment does (imported once, called with each event in
    turn), then each invocation cold in a fresh interpreter, and show where the results differ.

    This RUNS THE PROJECT'S CODE, with the events given: it is opt-in, and --check, the pre-commit
    hooks and the pull-request bot never run it. Run it from the directory the handler's module is
    imported from.
    """
    from . import probe, probe_report

    if template is not None:
        _probe_template(template, target, events_file, event_files, repeat or 2, after, setup, python, output_format)
    if target is None:
        raise click.UsageError("give the handler as MODULE:FUNCTION, or --template FILE")
    try:
        events, names = probe.load_events(events_file, event_files)
        run = probe.probe_rewrite if after else probe.probe
        report = run(target, events, names, repeat=repeat or 1, setup=setup, timeout=timeout, python=python)
    except probe.RewriteFails as exc:
        click.echo(f"lambda-fix probe: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    except probe.ProbeError as exc:
        click.echo(f"lambda-fix probe: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    render = probe_report.render_json if output_format == "json" else probe_report.render_text
    click.echo(render(report), nl=False)
    sys.exit(EXIT_OK if report.agrees else EXIT_FINDINGS)


def _probe_template(template: str, function: str | None, events_file: str | None, event_files: tuple[str, ...],
                    repeat: int, after: bool, setup: str | None, python: str, output_format: str) -> None:
    """`probe --template`: every function of the template, each with its own events; exits."""
    from . import probe_template

    if events_file or event_files:
        raise click.UsageError("with --template each function's events come from events/ or lambda-fix-probe.toml")
    try:
        probes = probe_template.probe_template(template, repeat=repeat, python=python, setup=setup, after=after,
                                               only=function)
    except probe_template.TemplateError as exc:
        click.echo(f"lambda-fix probe: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    render = probe_template.render_json if output_format == "json" else probe_template.render_text
    click.echo(render(probes), nl=False)
    sys.exit(probe_template.exit_status(probes))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code", required=False)
@click.option("--all", "every", is_flag=True, help="Every rule, in the order of their codes.")
@click.option("--output-format", "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              help="text: each rule's page in Markdown (as --explain prints it); json: its fields and page.")
def rule_command(code: str | None, every: bool, output_format: str) -> None:
    """Print the documentation of the rule CODE (as `lambda-fix --explain CODE` does), or with --all
    of every rule."""
    from .rule_docs import fields, render

    if every == (code is not None):
        raise click.UsageError("give one CODE, or --all")
    if code is not None and code.strip().upper() not in codes.BY_CODE:
        raise click.BadParameter(f"unknown code {code!r} (known: {', '.join(codes.CODES)})", param_hint="CODE")
    chosen = codes.RULES if every else (codes.BY_CODE[code.strip().upper()],)  # type: ignore[union-attr]
    if output_format == "json":
        import json

        data = [fields(rule) for rule in chosen]
        click.echo(json.dumps(data if every else data[0], indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(render(rule) for rule in chosen), nl=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def server_command() -> None:
    """Run the language server over standard input and output, for an editor to start (see
    docs/editors.md). It shows findings as you type and offers their fixes; it never runs your code."""
    try:
        from .server import main as serve
    except ImportError as exc:
        click.echo(f"lambda-fix server: error: {exc.msg}; install it with `pip install 'lambda-fix[server]'`",
                   err=True)
        sys.exit(EXIT_ERROR)
    serve()


def entry() -> None:
    """The `lambda-fix` command: `lambda-fix probe ...` is the probe, `lambda-fix rule ...` the rules'
    documentation, `lambda-fix server` the language server; anything else names paths (a path called
    `probe`, `rule` or `server` is `./probe`, `./rule`, `./server`)."""
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        probe_command(args=sys.argv[2:], prog_name="lambda-fix probe")
    if len(sys.argv) > 1 and sys.argv[1] == "rule":
        rule_command(args=sys.argv[2:], prog_name="lambda-fix rule")
    if len(sys.argv) > 1 and sys.argv[1] == "server":
        server_command(args=sys.argv[2:], prog_name="lambda-fix server")
    main(prog_name="lambda-fix")
