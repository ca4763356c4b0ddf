"""Output formats: one module each, every one a pure `render(summary, wrote) -> str`."""

from __future__ import annotations

import importlib
from typing import Callable

from ..model import RunSummary

# name -> module; a format's module (and what it needs, such as the rules' documentation) loads
# only when it is used, so a cached run starts fast.
_MODULES = {"text": "text", "diff": "diff", "json": "json", "sarif": "sarif", "github": "github",
            "rdjson": "rdjson", "github-review": "github_review"}
NAMES = tuple(_MODULES)
# Formats that need each finding's end, and those of them that need each fix on its own too.
DETAILED = frozenset({"json", "sarif", "github", "rdjson", "github-review"})
WITH_FIX_EDITS = DETAILED - {"github"}


def renderer(name: str) -> Callable[[RunSummary, bool], str]:
    return importlib.import_module(f"{__name__}.{_MODULES[name]}").render  # type: ignore[no-any-return]
