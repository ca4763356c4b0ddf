"""Each rule's module docstring is its documentation: fixed headings, and an Example the rule turns
into exactly its Use instead."""

from __future__ import annotations

import re

import pytest

from lambda_fix import Config, Status, check_source
from lambda_fix.codes import RULES
from lambda_fix.codes import RuleInfo as Rule

HEADINGS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"]


def code_block(doc: str, heading: str) -> str:
    section = doc.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {heading}"
    return match.group(1)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_headings_in_order(rule: Rule) -> None:
    positions = [rule.doc.find(h) for h in HEADINGS]
    assert -1 not in positions, f"{rule.code} misses a heading"
    assert positions == sorted(positions)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_example_becomes_use_instead(rule: Rule) -> None:
    # The pages show the fixes written for a current Python (for an older target, a fix may spell
    # itself the older way, as the page's Fix safety section says).
    result = check_source(code_block(rule.doc, "## Example"), Config(select=(rule.code,), target_version=(3, 13)),
                          path="example.py")
    assert [f.code for f in result.findings] == [rule.code]
    if not rule.fixable:  # reported only: the page's Use instead is what the user writes, which it accepts
        assert result.status is Status.UNCHANGED, result
        accepted = check_source(code_block(rule.doc, "## Use instead"),
                                Config(select=(rule.code,), target_version=(3, 13)), path="example.py")
        assert accepted.findings == (), accepted
        return
    assert result.status is Status.CHANGED, result
    assert result.new_source == code_block(rule.doc, "## Use instead")


def test_codes_are_unique_and_in_order() -> None:
    codes = [r.code for r in RULES]
    assert codes == sorted(set(codes))


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_docs_pages_are_generated_from_the_docstrings(rule: Rule) -> None:
    from pathlib import Path

    from lambda_fix.rule_docs import render

    page = Path(__file__).parent.parent / "docs" / "rules" / f"{rule.code}.md"
    assert page.read_text(encoding="utf-8") == render(rule), "run: python -m lambda_fix.rule_docs docs/rules"


def test_every_row_has_a_decision_and_a_fix_of_its_name() -> None:
    import importlib

    for rule in RULES:
        decision = importlib.import_module(f"lambda_fix.rules.{rule.module}")
        assert callable(decision.may_find) and callable(decision.find) and decision.CODE == rule.code
        assert decision.__doc__ == rule.doc  # the page is read without importing the module
        if rule.fixable:
            fix = importlib.import_module(f"lambda_fix.codemods.{rule.module}")
            assert fix.Fix.DESCRIPTION


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_suppression_text_is_the_rules_own(rule: Rule) -> None:
    from lambda_fix.rule_docs import render

    page = render(rule)
    assert rule.suppression in page
    assert ("allow-state" in page.split("## Suppressing it")[1]) is rule.allow_state


def test_the_readme_table_of_codes_is_generated_from_the_table() -> None:
    from pathlib import Path

    from lambda_fix.rule_docs import with_table

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert with_table(readme) == readme, "run: python -m lambda_fix.rule_docs"
    for rule in RULES:
        assert rule.summary[1:] in readme
