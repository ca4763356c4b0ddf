"""Pure facts about modules and projects, computed on the standard `ast`.

libcst is reserved for files that will be rewritten: parsing with `ast` is several times cheaper, and
the analysis needs names, scopes and positions only. Codemods consume these facts by name.
"""

from __future__ import annotations

from typing import Callable

from .diagnosis import Diagnosis
from .module import ModuleInfo
from .project import Project


def analyze_module(project: Project, module: ModuleInfo, extra_handlers: tuple[str, ...] = (),
                   allow_state: tuple[str, ...] = (),
                   enabled: Callable[[str], bool] = lambda code: True) -> list[Diagnosis]:
    """Everything fixable or reportable in module, in source order."""
    # Imported here, not above: the prefilter and a cached run need handlers and project only.
    from . import client_reuse, defaults, flow, handlers, leaks, tmp_paths

    found = handlers.find_handlers(module, extra_handlers)
    names = {f.name for f in found}
    routes = [f for f in handlers.framework_entries(module) if f.name not in names]
    if not found and not routes:
        return []
    if not _may_find(project, module, enabled):
        return []  # nothing any rule looks for: the flow analysis, most of the cost, is not needed
    flows = [flow.analyze(project, module, handler) for handler in found]
    flows += [flow.analyze(project, module, route, framework=True) for route in routes]
    results: list[Diagnosis] = list(leaks.find_leaks(project, module, flows, allow_state, enabled))
    if enabled(tmp_paths.CODE):
        results.extend(tmp_paths.find_fixed_tmp_paths(project, module, flows))
    if enabled(client_reuse.CODE):
        results.extend(client_reuse.find_per_invocation_clients(module, flows))
    if enabled(defaults.CODE):
        results.extend(defaults.find_mutable_defaults(module, flows))
    return sorted(results, key=lambda d: (d.line, d.column, d.code))


def _may_find(project: Project, module: ModuleInfo, enabled: Callable[[str], bool]) -> bool:
    """Could any enabled rule find something for module's handlers? Each rule's cheap first test."""
    from . import client_reuse, defaults, leaks, tmp_paths

    return (enabled(tmp_paths.CODE) and tmp_paths.may_find(module)
            or enabled(client_reuse.CODE) and client_reuse.may_find(module)
            or enabled(defaults.CODE) and defaults.may_find(module)
            or (enabled(leaks.MOVE) or enabled(leaks.RESET)) and leaks.may_find(project, module))
