"""Each rule's module docstring is its documentation: fixed headings, and an Example the rule turns
into exactly its Use instead."""

from __future__ import annotations

import re

import pytest

from lambda_fix import Config, Status, check_source
from lambda_fix.codemods import RULES, Rule

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
    result = check_source(code_block(rule.doc, "## Example"), Config(select=(rule.code,)), path="example.py")
    assert result.status is Status.CHANGED, result
    assert [f.code for f in result.findings] == [rule.code]
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


def test_the_light_list_of_codes_matches_the_registry() -> None:
    """The command line checks --select against CODES without loading the rules (and libcst)."""
    from lambda_fix import codemods

    assert codemods.CODES == tuple(rule.code for rule in codemods.RULES)
