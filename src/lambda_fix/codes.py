"""The table of rules: each code written once, with what every other layer needs to know about it.

Formats, docs, config validation, the command line and the registries of decisions (`rules/`) and
fixes (`codemods/`) read this table. It imports nothing of lambda-fix's and no libcst, so a run
answered from the cache, in any output format, never loads the analysis or the rewriting stack.
Codes are never renumbered or reused.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Iterable


class FixSafety(enum.Enum):
    """What a rule's fixes are, as its page's "Fix safety" section explains."""

    SAFE = "safe"
    SOMETIMES_UNSAFE = "safe, or unsafe in the cases its page names (applied with --unsafe-fixes)"


@dataclass(frozen=True)
class RuleInfo:
    code: str  # "LF001"
    name: str  # the bad pattern, kebab-case
    summary: str  # one line: the problem, then the action
    fix_safety: FixSafety
    suppression: str  # where `# lambda-fix: ignore[CODE]` goes, completing "Put it ..."
    # rules/<module>.py decides (its docstring is the rule's documentation); codemods/<module>.py fixes.
    module: str
    fixable: bool = True
    allow_state: bool = False  # the `allow-state` setting also silences it

    @property
    def doc(self) -> str:
        """The decision module's docstring, read without importing the module (or the analysis)."""
        return _docstring(self.module)


RULES: tuple[RuleInfo, ...] = (
    RuleInfo("LF001", "handler-state-at-module-level",
             "module-level state written per request, used only by the handler: make it in each invocation",
             FixSafety.SAFE, "on the line that binds the state", "handler_state_at_module_level",
             allow_state=True),
    RuleInfo("LF002", "shared-state-leak",
             "module state written per request that cannot move: reset it when the handler starts",
             FixSafety.SOMETIMES_UNSAFE, "on the line that binds the state", "shared_state_leak",
             allow_state=True),
    RuleInfo("LF003", "fixed-tmp-path",
             "a fixed path under /tmp written per invocation: name it per invocation and remove it",
             FixSafety.SAFE, "on the line of the first call that writes the path", "fixed_tmp_path"),
    RuleInfo("LF004", "per-invocation-client",
             "a client built on every invocation from fixed settings: build it once per environment",
             FixSafety.SOMETIMES_UNSAFE, "on the line of the call that builds the client", "per_invocation_client"),
    RuleInfo("LF005", "mutable-default-argument",
             "a mutable default that the function changes or hands out: create it on each call",
             FixSafety.SOMETIMES_UNSAFE, "on the line of the default, or on the `def` line",
             "mutable_default_argument"),
    RuleInfo("LF006", "log-handler-per-invocation",
             "a log handler added to a logger on every invocation: set the logger up once per environment",
             FixSafety.SAFE, "on the line of the call that adds the handler", "log_handler_per_invocation"),
    RuleInfo("LF007", "environment-written-per-request",
             "the process environment written with request data: pass the value, or restore the variable",
             FixSafety.SOMETIMES_UNSAFE, "on the line of the write", "environment_written_per_request"),
    RuleInfo("LF008", "unbounded-memo-on-request-data",
             "a function cached without a bound and called with request data: bound the cache",
             FixSafety.SAFE, "on the line of the `def`", "unbounded_memo_on_request_data", fixable=False),
    RuleInfo("LF009", "work-outliving-invocation",
             "a thread, task, process or submitted work left running when the handler returns: wait for it",
             FixSafety.SAFE, "on the line of the call that starts it", "work_outliving_invocation",
             fixable=False),
    RuleInfo("LF010", "temporary-file-never-removed",
             "a temporary file or directory made per invocation that nothing removes: remove it",
             FixSafety.SAFE, "on the line of the call that makes it", "temporary_file_never_removed"),
)
BY_CODE: dict[str, RuleInfo] = {rule.code: rule for rule in RULES}
CODES: tuple[str, ...] = tuple(BY_CODE)


def code_of(module: str) -> str:
    """The code of the rule whose decision or fix is module (`__name__` or its last part): each code
    is written once, in the table."""
    name = module.rpartition(".")[2]
    return next(rule.code for rule in RULES if rule.module == name)


def unknown_codes(prefixes: Iterable[str]) -> list[str]:
    """The prefixes (as `select` and `ignore` take them: "LF00", "LF003") that match no code."""
    return [prefix for prefix in prefixes if not any(code.startswith(prefix) for code in CODES)]


@functools.cache
def _docstring(module: str) -> str:
    import ast  # only for the docs (SARIF, --explain): a run needs names and summaries alone
    import importlib.util

    spec = importlib.util.find_spec(f"{__package__}.rules.{module}")
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as stream:
        return ast.get_docstring(ast.parse(stream.read()), clean=False) or ""
