"""The rules, in the order their fixes are applied. Codes are never renumbered or reused."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Sequence

import libcst as cst
from libcst.codemod import CodemodContext

from . import (fixed_tmp_path, handler_state_at_module_level, mutable_default_argument, per_invocation_client,
               shared_state_leak)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    module: ModuleType  # its docstring is the rule's documentation
    transformer: Any  # a VisitorBasedCodemodCommand taking (context, plans)

    @property
    def doc(self) -> str:
        return self.module.__doc__ or ""


RULES: tuple[Rule, ...] = (
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
BY_CODE = {rule.code: rule for rule in RULES}


def apply(tree: cst.Module, plans: dict[str, Sequence[Any]]) -> cst.Module:
    """Run each rule's codemod over tree with its plans, in registry order."""
    for rule in RULES:
        if plans.get(rule.code):
            tree = rule.transformer(CodemodContext(), plans[rule.code]).transform_module(tree)
    return tree
