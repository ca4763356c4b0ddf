"""Output formats: one module each, every one a pure `render(summary, wrote) -> str`."""

from __future__ import annotations

from . import diff, text

FORMATS = {"text": text.render, "diff": diff.render}
