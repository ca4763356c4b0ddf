"""How one module spells another module's state: the names it already has, or an import to add."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable

from .module import ModuleInfo, resolve_relative

if TYPE_CHECKING:
    from .project import Project


def name_taken(module: ModuleInfo, name: str, module_name: str) -> bool:
    ref = module.imports.get(name)
    if ref is not None:
        return not (ref.module == module_name and ref.attr is None)
    return bool(module.binding_counts.get(name))


def reference(module: ModuleInfo, owner: ModuleInfo, name: str, needs_module: bool,
              is_owners: Callable[[str], bool] = lambda dotted: False) -> tuple[str | None, str | None]:
    """How module can name owner's state, and an import to add when it needs one.
    is_owners: whether a dotted name module imports (`pkg.results`) is owner's state, re-exported."""
    if owner is module:
        return name, None
    for local, ref in module.imports.items():
        if ref.attr is None and ref.module == owner.name:
            return f"{local}.{name}", None
        if ref.attr is not None and f"{ref.module}.{ref.attr}" == owner.name:
            return f"{local}.{name}", None
        if ref.attr is None and owner.name.startswith(ref.module + ".") and local == ref.module.split(".")[0]:
            return f"{owner.name}.{name}", None  # `import pkg.mod` binds `pkg`
    if not needs_module:
        for local, ref in module.imports.items():
            if ref.attr is not None and (ref.module == owner.name and ref.attr == name or is_owners(ref.dotted)):
                return local, None
    # Add an import the same way the module already imports from owner.
    for stmt in ast.walk(module.tree):
        if isinstance(stmt, ast.ImportFrom) and stmt.col_offset == 0:
            resolved = _resolved_from(module, stmt)
            if resolved != owner.name:
                continue
            last = owner.name.rsplit(".", 1)[-1]
            if module.binding_counts.get(last) or last in module.imports:
                return None, f"the name `{last}` is taken in the handler's module"
            if stmt.level:
                package = stmt.module.rsplit(".", 1)[0] if stmt.module and "." in stmt.module else ""
                parent = "." * stmt.level + package
                return f"{last}.{name}", f"from {parent} import {last}"
            if "." in owner.name:
                parent, _, last = owner.name.rpartition(".")
                return f"{last}.{name}", f"from {parent} import {last}"
            return f"{owner.name}.{name}", f"import {owner.name}"
    return None, f"the handler's module does not import {owner.name}"


def _resolved_from(module: ModuleInfo, stmt: ast.ImportFrom) -> str | None:
    package = module.name if module.path.endswith("__init__.py") else module.name.rpartition(".")[0]
    return resolve_relative(package, stmt.module, stmt.level)


def reexported(project: Project, module: ModuleInfo, owner: ModuleInfo, name: str) -> Callable[[str], bool]:
    """For `reference` and `spellings`: is a dotted name module imports owner's state `name`, which a
    package's `__init__.py` re-exports (`from pkg import results` for pkg/core.py's `results`)?"""
    def is_owners(dotted_name: str) -> bool:
        found = project.resolve_attribute(dotted_name, module)
        return found is not None and found[0].path == owner.path and found[1] == name
    return is_owners


def spellings(module: ModuleInfo, owner: ModuleInfo, name: str,
              is_owners: Callable[[str], bool] = lambda dotted: False) -> set[str]:
    """Every way module's code may spell owner's state."""
    spellings = {name} if owner is module else set()
    for local, ref in module.imports.items():
        if ref.attr is not None and ref.module != owner.name and is_owners(ref.dotted):
            spellings.add(local)
        elif ref.attr is None and ref.module == owner.name:
            spellings.add(f"{local}.{name}")
        elif ref.attr is not None and f"{ref.module}.{ref.attr}" == owner.name:
            spellings.add(f"{local}.{name}")
        elif ref.attr == name and ref.module == owner.name:
            spellings.add(local)
        elif ref.attr is None and owner.name.startswith(ref.module + "."):
            spellings.add(f"{owner.name}.{name}")
    return spellings


def dotted(expr: ast.expr) -> str | None:
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        return ".".join([expr.id, *reversed(parts)])
    return None
