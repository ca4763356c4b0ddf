"""Output formats: one module each, every one a pure `render(summary, wrote) -> str`."""

from __future__ import annotations

from . import diff, github, github_review, json, rdjson, sarif, text

FORMATS = {"text": text.render, "diff": diff.render, "json": json.render, "sarif": sarif.render,
           "github": github.render, "rdjson": rdjson.render, "github-review": github_review.render}
# Formats that need each finding's end and each fix on its own.
DETAILED = frozenset({"json", "sarif", "github", "rdjson", "github-review"})
