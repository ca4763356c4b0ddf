"""The handlers of other modules of the run that call into a module that holds none (a helper module
with a `get_table()`): what a fix in that module must keep working for."""

from __future__ import annotations

from . import handlers
from .module import ModuleInfo
from .project import Project
from .scopes import FunctionNode

# How many imports away a handler may be: handler -> service -> repository is common, more is rare
# and each level loads every importer of the one below.
_DEPTH = 3


def entries_into(project: Project, module: ModuleInfo,
                 extra: tuple[str, ...] = ()) -> list[tuple[ModuleInfo, FunctionNode, bool]]:
    """(the handler's module, the handler, whether a framework calls it) for every entry point of a
    module of the run that imports module, directly or through up to _DEPTH - 1 other modules. The
    caller keeps the ones whose flow reaches module's functions."""
    found: list[tuple[ModuleInfo, FunctionNode, bool]] = []
    seen = {project.resolved(module.path)}
    level = [module]
    for _ in range(_DEPTH):
        following: list[ModuleInfo] = []
        for imported in level:
            stem = imported.name.rsplit(".", 1)[-1] if imported.name else ""
            for path in project.importers_of(imported.path, stem):
                key = project.resolved(path)
                # What its text spells decides before anything is parsed (Project.may_name).
                importer = project.module_at(path) if key not in seen and project.may_name(path, imported.path) \
                    else None
                seen.add(key)
                if importer is None or all(project.resolved(other.path) != project.resolved(imported.path)
                                           for other in imported_modules(project, importer)):
                    continue  # the name is another module's (one `utils.py` per function, say)
                entries = handlers.find_handlers(importer, extra)
                names = {f.name for f in entries}
                found += [(importer, f, False) for f in entries]
                routes = handlers.framework_entries(importer, handlers.adapted(project, importer))
                found += [(importer, f, True) for f in routes if f.name not in names]
                if not entries:
                    following.append(importer)
        level = following
    return found


def imported_modules(project: Project, module: ModuleInfo) -> list[ModuleInfo]:
    """The project modules module's imports name directly (`import lib.db`, `from lib import db`,
    `from lib.db import get_table`: each the longest prefix that is a module of the project)."""
    found = []
    for ref in module.imports.values():
        parts = ref.dotted.split(".")
        for cut in range(len(parts), 0, -1):
            other = project.resolve(".".join(parts[:cut]), module)
            if other is not None and other.path != module.path:
                found.append(other)
                break
    return found
