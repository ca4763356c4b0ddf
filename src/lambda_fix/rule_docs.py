"""Rule documentation pages, generated from each codemod's module docstring.

    python -m lambda_fix.rule_docs docs/rules    # rewrite docs/rules/LF00N.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from .codemods import RULES, Rule


def render(rule: Rule) -> str:
    header = f"# {rule.code} {rule.name}\n\n{rule.summary[0].upper()}{rule.summary[1:]}.\n\n"
    footer = ("\n## Suppressing it\n\nPut `# lambda-fix: ignore[" + rule.code + "]` or `# noqa: " + rule.code +
              "` on the line that binds the state, or name the state in `allow-state` "
              "(see [configuration](../configuration.md)).\n")
    return header + rule.doc.strip() + "\n" + footer


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in RULES:
        path = directory / f"{rule.code}.md"
        path.write_text(render(rule), encoding="utf-8")
        written.append(path)
    return written


def sections(rule: Rule) -> dict[str, str]:
    """The docstring's sections by heading: "What it does", "Why is this bad?", ..."""
    found: dict[str, str] = {}
    current = None
    for line in rule.doc.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return {heading: text.strip() for heading, text in found.items()}


if __name__ == "__main__":  # pragma: no cover
    for page in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")):
        print(page)
