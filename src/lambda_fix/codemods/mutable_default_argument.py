"""The fix of LF005: the default becomes None, and the body creates the value on each call."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..rules.mutable_default_argument import DefaultPlan
from ._edit import PlanCodemod, ScopedTransformer, add_module_statements, as_block, grouped, split_preamble, statement


class _CreateDefault(ScopedTransformer):
    def __init__(self, plans: Sequence[DefaultPlan]) -> None:
        self.by_function = grouped(plans, lambda plan: plan.function)
        super().__init__(within={function.split(".")[0] for function in self.by_function})

    def leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, qualified: str,
                       kinds: tuple[str, ...]) -> cst.FunctionDef:
        plans = self.by_function.get(qualified) if len(kinds) <= 2 else None  # a function or a method
        if not plans:
            return updated_node
        wanted = {plan.parameter: plan for plan in plans}

        def rewrite(param: cst.Param) -> cst.Param:
            plan = wanted.get(param.name.value)
            if plan is None or param.default is None:
                return param
            changes: dict[str, object] = {"default": cst.Name("None")}
            if plan.annotation is not None and param.annotation is not None:
                changes["annotation"] = param.annotation.with_changes(
                    annotation=cst.parse_expression(plan.annotation))
            return param.with_changes(**changes)

        params = updated_node.params
        params = params.with_changes(
            params=[rewrite(p) for p in params.params],
            kwonly_params=[rewrite(p) for p in params.kwonly_params],
            posonly_params=[rewrite(p) for p in params.posonly_params],
        )
        block = as_block(updated_node.body)
        preamble, rest = split_preamble(block.body)
        created = [statement(f"if {plan.parameter} is None:\n    {plan.parameter} = {plan.default_source}\n")
                   for plan in plans]
        return updated_node.with_changes(params=params, body=block.with_changes(body=[*preamble, *created, *rest]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        imports = sorted({p.typing_import for ps in self.by_function.values() for p in ps if p.typing_import})
        return add_module_statements(updated_node, imports)


class Fix(PlanCodemod):
    DESCRIPTION = "Replace mutable default arguments with None and create the value in the body."
    TRANSFORMER = _CreateDefault
