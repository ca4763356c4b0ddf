"""Fixes: one module per code, named as in the table of rules (codes.py), each the libcst fix of its
rule's plans. Each module has a `Fix` codemod command taking (context, plans) and, when its plans
replace expressions, `replacements(plans) -> [(Span, code)]`.

Fixes are applied in the table's order, after every rule's replacements (which point at positions in
the source as parsed, so they go first). Importing this package is cheap: the fix modules, and
libcst with them, load on first use of apply().
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Mapping, Sequence

from ..codes import RULES
from ..target import DEFAULT, Version

if TYPE_CHECKING:
    import libcst as cst


def fix_module(module_name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{module_name}")


def apply(tree: cst.Module, plans: Mapping[str, Sequence[object]], version: Version = DEFAULT) -> cst.Module:
    """Run each rule's fix over tree with its plans (by code), in the table's order; what the fixes
    write runs on Python version (target.py)."""
    from libcst.codemod import CodemodContext

    from ._edit import replace_spans

    fixes = [(fix_module(rule.module), plans[rule.code]) for rule in RULES if rule.fixable and plans.get(rule.code)]
    tree = replace_spans(tree, [edit for fix, its_plans in fixes if hasattr(fix, "replacements")
                                for edit in fix.replacements(its_plans)])
    for fix, its_plans in fixes:
        # transform_module_impl, not transform_module: the latter deep-copies the tree for metadata
        # that no rule uses, which costs more than the rewrite itself.
        tree = fix.Fix(CodemodContext(), its_plans, version).transform_module_impl(tree)
    return tree
