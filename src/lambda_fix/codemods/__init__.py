"""The rules, in the order their fixes are applied. Codes are never renumbered or reused.

Importing this package is cheap: the rule modules, and libcst with them, load on first use of
RULES, BY_CODE or apply(), so a run that rewrites nothing (a cached one) never pays for libcst.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import libcst as cst

# Every code, in registry order (a test checks it against RULES).
CODES = ("LF001", "LF002", "LF003", "LF004", "LF005")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    module: ModuleType  # its docstring is the rule's documentation
    transformer: Any  # a PlanCodemod taking (context, plans)

    @property
    def doc(self) -> str:
        return self.module.__doc__ or ""


@functools.cache
def _registry() -> tuple[Rule, ...]:
    from . import (fixed_tmp_path, handler_state_at_module_level, mutable_default_argument, per_invocation_client,
                   shared_state_leak)

    return (
        Rule(handler_state_at_module_level.CODE, handler_state_at_module_level.NAME,
             handler_state_at_module_level.SUMMARY, handler_state_at_module_level,
             handler_state_at_module_level.MoveStateIntoHandler),
        Rule(shared_state_leak.CODE, shared_state_leak.NAME, shared_state_leak.SUMMARY, shared_state_leak,
             shared_state_leak.ResetSharedState),
        Rule(fixed_tmp_path.CODE, fixed_tmp_path.NAME, fixed_tmp_path.SUMMARY, fixed_tmp_path,
             fixed_tmp_path.PerInvocationTmpPath),
        Rule(per_invocation_client.CODE, per_invocation_client.NAME, per_invocation_client.SUMMARY,
             per_invocation_client, per_invocation_client.HoistClient),
        Rule(mutable_default_argument.CODE, mutable_default_argument.NAME, mutable_default_argument.SUMMARY,
             mutable_default_argument, mutable_default_argument.CreateDefaultPerCall),
    )


def __getattr__(name: str) -> Any:
    """RULES and BY_CODE, built when first asked for (PEP 562)."""
    if name not in ("RULES", "BY_CODE"):
        raise AttributeError(name)
    rules = _registry()
    globals().update(RULES=rules, BY_CODE={rule.code: rule for rule in rules})
    return globals()[name]


def apply(tree: cst.Module, plans: dict[str, Sequence[Any]]) -> cst.Module:
    """Run each rule's codemod over tree with its plans, in registry order."""
    from libcst.codemod import CodemodContext

    for rule in _registry():
        if plans.get(rule.code):
            # transform_module_impl, not transform_module: the latter deep-copies the tree for metadata
            # that no rule uses, which costs more than the rewrite itself.
            tree = rule.transformer(CodemodContext(), plans[rule.code]).transform_module_impl(tree)
    return tree
