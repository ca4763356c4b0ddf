"""Classes as Python resolves them: a name to the project class it means (in this module or imported
from another), a class's method resolution order across modules, a method found along it, and the
module-level objects made from project classes."""

from __future__ import annotations

import ast
from typing import Optional

from .module import ModuleInfo
from .project import Project
from .scopes import FunctionNode
from .walk import remembered

ClassRef = tuple[ModuleInfo, ast.ClassDef]
MethodRef = tuple[ModuleInfo, ast.ClassDef, FunctionNode]
# A base class the project does not hold (`Exception`, `BaseModel`, a library's class) ends the search
# for a method along that branch: what it defines is not known.
_DEPTH = 12


def class_of(project: Project, module: ModuleInfo, expr: ast.expr) -> ClassRef | None:
    """The project class that `expr` (a name or dotted name as written in module) names."""
    if isinstance(expr, ast.Name) and expr.id in module.classes and expr.id not in module.imports:
        return module, module.classes[expr.id]
    qualified = module.qualified_name(expr)
    if qualified is None or "." not in qualified:
        return None
    found = project.resolve_attribute(qualified, module)
    if found is None or found[1] not in found[0].classes:
        return None
    return found[0], found[0].classes[found[1]]


def mro(project: Project, module: ModuleInfo, cls: ast.ClassDef) -> list[ClassRef]:
    """The class and its project bases, in Python's method resolution order (C3; depth first when
    the bases cannot be linearised). Kept on the class node: every walk of a method asks again."""
    return remembered(cls, "mro", lambda: _linearise(project, module, cls, 0))  # type: ignore[no-any-return]


def _linearise(project: Project, module: ModuleInfo, cls: ast.ClassDef, depth: int) -> list[ClassRef]:
    if depth > _DEPTH:
        return [(module, cls)]
    bases = [class_of(project, module, base) for base in cls.bases]
    chains = [_linearise(project, *base, depth + 1) for base in bases if base is not None and base[1] is not cls]
    merged = _c3([list(chain) for chain in chains] + [[b for b in bases if b is not None]])
    if merged is None:  # an order Python itself would refuse: keep each class once, depth first
        merged = []
        for chain in chains:
            merged += [ref for ref in chain if all(ref[1] is not seen[1] for seen in merged)]
    return [(module, cls), *merged]


def _c3(sequences: list[list[ClassRef]]) -> list[ClassRef] | None:
    result: list[ClassRef] = []
    sequences = [s for s in sequences if s]
    while sequences:
        for sequence in sequences:
            head = sequence[0][1]
            if not any(head is ref[1] for other in sequences for ref in other[1:]):
                break
        else:
            return None
        result.append(sequence[0])
        sequences = [[ref for ref in s if ref[1] is not head] for s in sequences]
        sequences = [s for s in sequences if s]
    return result


def find_method(project: Project, module: ModuleInfo, cls: ast.ClassDef, name: str,
                after: ast.ClassDef | None = None) -> MethodRef | None:
    """The method `name` an instance of cls calls, along its MRO; after: start behind that class
    (`super().name`)."""
    chain = mro(project, module, cls)
    if after is not None:
        index = next((i for i, ref in enumerate(chain) if ref[1] is after), None)
        chain = chain[index + 1:] if index is not None else []
    for owner, candidate in chain:
        for statement in candidate.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
                return owner, candidate, statement
    return None


def class_attributes(project: Project, module: ModuleInfo, cls: ast.ClassDef) -> dict[str, ast.expr]:
    """Attributes the class body binds (`items = []`), along the MRO: shared by every instance."""
    found: dict[str, ast.expr] = {}
    for _, candidate in reversed(mro(project, module, cls)):
        for statement in candidate.body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None \
                    and isinstance(statement.target, ast.Name):
                found[statement.target.id] = statement.value
    return found


_MUTABLE_DISPLAYS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
_MUTABLE_MAKERS = frozenset({"list", "dict", "set", "collections.defaultdict", "collections.OrderedDict",
                             "collections.Counter", "collections.deque", "defaultdict", "OrderedDict", "Counter",
                             "deque"})


def shared_attribute(project: Project, module: ModuleInfo, cls: ast.ClassDef, name: str) -> ClassRef | None:
    """The class along cls's MRO whose body binds `name` to a mutable container (`items = []`) that no
    method shadows with an attribute of the instance (`self.items = ...`): one container that every
    instance, and the class, share for the life of the environment."""
    known = remembered(cls, "shared_attributes", dict)
    if name not in known:
        known[name] = _shared_attribute(project, module, cls, name)
    return known[name]  # type: ignore[no-any-return]


def _shared_attribute(project: Project, module: ModuleInfo, cls: ast.ClassDef, name: str) -> ClassRef | None:
    chain = mro(project, module, cls)
    for _, candidate in chain:
        for node in ast.walk(candidate):
            if isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id == "self":
                return None  # each instance gets its own
    for owner, candidate in chain:
        for statement in candidate.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else \
                [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value is not None else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                value = statement.value
                mutable = isinstance(value, _MUTABLE_DISPLAYS) or (
                    isinstance(value, ast.Call) and (owner.qualified_name(value.func) or "") in _MUTABLE_MAKERS)
                return (owner, candidate) if mutable else None
    return None


def module_objects(project: Project, module: ModuleInfo) -> dict[str, tuple[ast.stmt, ModuleInfo, ast.ClassDef]]:
    """Module-level names bound once to `C(...)` of a project class: (the binding, the class's module,
    the class). Objects made at import live as long as the environment."""
    def compute() -> dict[str, tuple[ast.stmt, ModuleInfo, ast.ClassDef]]:
        found = {}
        for stmt in module.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target = stmt.target
            else:
                continue
            value = stmt.value
            if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)
                    and module.binding_counts.get(target.id) == 1 and target.id not in module.state):
                continue
            cls = class_of(project, module, value.func)
            if cls is not None:
                found[target.id] = (stmt, *cls)
        return found
    return remembered(module.tree, "module_objects", compute)  # type: ignore[no-any-return]


def object_named(project: Project, module: ModuleInfo, name: str
                 ) -> Optional[tuple[ModuleInfo, str, ModuleInfo, ast.ClassDef]]:
    """The module-level object a global name of module stands for, here or imported from a project
    module (`from services import provider`): (its module, its name there, the class's module, class)."""
    here = module_objects(project, module).get(name)
    if here is not None and name not in module.imports:
        return module, name, here[1], here[2]
    ref = module.imports.get(name)
    if ref is None or ref.attr is None:
        return None
    found = project.resolve_attribute(ref.dotted, module)
    if found is None:
        return None
    owner, owner_name = found
    there = module_objects(project, owner).get(owner_name)
    return (owner, owner_name, there[1], there[2]) if there is not None else None
