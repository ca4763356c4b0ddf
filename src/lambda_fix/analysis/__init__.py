"""Pure facts about modules and projects, computed on the standard `ast`.

libcst is reserved for files that will be rewritten: parsing with `ast` is several times cheaper, and
the analysis needs names, scopes and positions only. Codemods consume these facts by name.
"""

from __future__ import annotations

from typing import Callable

from . import flow, handlers, leaks
from .leaks import Leak
from .module import ModuleInfo
from .project import Project


def analyze_module(project: Project, module: ModuleInfo, extra_handlers: tuple[str, ...] = (),
                   allow_state: tuple[str, ...] = (),
                   enabled: Callable[[str], bool] = lambda code: True) -> list[Leak]:
    """Every leak fixable or reportable in module, in source order."""
    found = handlers.find_handlers(module, extra_handlers)
    if not found:
        return []
    flows = [flow.analyze(project, module, handler) for handler in found]
    return sorted(leaks.find_leaks(project, module, flows, allow_state, enabled), key=lambda l: (l.line, l.column, l.code))
