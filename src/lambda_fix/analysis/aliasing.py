"""Could a value a handler returns be a piece of module state itself (so a reset would empty it)?"""

from __future__ import annotations

import ast

from .flow import HandlerFlow
from .module import ModuleInfo, StateBinding
from .project import Project
from .references import dotted, reexported, spellings
from .scopes import FunctionNode
from .walk import every_node, remembered

# Calls that build a new value from their arguments and never hand back the argument itself.
FRESH_VALUE_CALLS = frozenset({
    "len", "str", "repr", "int", "float", "bool", "sum", "sorted", "list", "dict", "set", "tuple",
    "frozenset", "min", "max", "any", "all", "abs", "round", "format", "hash", "isinstance", "type",
    "json.dumps", "copy.copy", "copy.deepcopy",
})
# Calls that read their arguments and neither change nor keep them.
READ_ONLY_CALLS = FRESH_VALUE_CALLS | {"print", "id", "iter", "enumerate", "zip", "reversed", "next", "callable"}
# Methods of a container that return an element or a new object, not the container.
ELEMENT_METHODS = frozenset({"copy", "get", "pop", "popitem", "count", "index", "popleft"})


def returns_may_reference(project: Project, module: ModuleInfo, flow: HandlerFlow, handler: FunctionNode,
                           binding: StateBinding, owner: ModuleInfo) -> bool:
    """Could a value the handler returns be, or contain, the state object itself?"""
    return _AliasCheck(project, binding, owner).returns_state(module, handler)


def _binding_steps(function: FunctionNode) -> tuple[list[ast.AST], list[ast.Return]]:
    """The assignments and loops of function, and its returns of a value: found once for every piece
    of state asked about (a handler that touches ten is walked once, not forty times)."""
    def find() -> tuple[list[ast.AST], list[ast.Return]]:
        found = every_node(function)
        return ([n for n in found if isinstance(n, (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor))],
                [n for n in found if isinstance(n, ast.Return) and n.value is not None])
    return remembered(function, "binding_steps", find)  # type: ignore[no-any-return]


class _AliasCheck:
    """Which expressions may evaluate to the state object (or a container holding it).

    Only the container is reset (cleared, refilled or rebound); its elements are never touched, so
    `S[k]`, `len(S)` or `list(S)` are safe to return. What is not: `S`, a local holding it, a display
    containing it, a lazy view or generator over it, and calls that may hand it back: unknown
    functions given the state, and project functions whose own returns may be the state.
    """

    def __init__(self, project: Project, binding: StateBinding, owner: ModuleInfo) -> None:
        self.project = project
        self.binding = binding
        self.owner = owner
        self._returns: dict[tuple[str, int], bool] = {}

    def returns_state(self, module: ModuleInfo, function: FunctionNode) -> bool:
        key = (module.path, id(function))
        if key in self._returns:
            return self._returns[key]
        self._returns[key] = False  # recursion: assume not while computing
        spelled = spellings(module, self.owner, self.binding.name,
                            reexported(self.project, module, self.owner, self.binding.name))
        holders: set[str] = set()
        steps, returns = _binding_steps(function)
        for _ in range(3):  # locals that may hold the state, through assignments and loops
            before = len(holders)
            for node in steps:
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                        and self.may_be_state(module, spelled, holders, node.value):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        holders.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                elif isinstance(node, (ast.For, ast.AsyncFor)) and self.may_be_state(module, spelled, holders,
                                                                                      node.iter):
                    holders.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
            if len(holders) == before:
                break  # nothing more can hold it
        result = any(self.may_be_state(module, spelled, holders, n.value) for n in returns)
        self._returns[key] = result
        return result

    def may_be_state(self, module: ModuleInfo, spellings: set[str], holders: set[str], expr: ast.AST) -> bool:
        def recurse(e: ast.AST) -> bool:
            return self.may_be_state(module, spellings, holders, e)

        def mentions(e: ast.AST) -> bool:
            return any(dotted(n) in spellings or (isinstance(n, ast.Name) and n.id in holders)
                       for n in ast.walk(e) if isinstance(n, (ast.Name, ast.Attribute)))

        if isinstance(expr, (ast.Name, ast.Attribute)):
            return mentions(expr) if isinstance(expr, ast.Name) or dotted(expr) is not None else recurse(expr.value)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return any(recurse(e) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            return any(recurse(v) for v in expr.values) or any(k is not None and recurse(k) for k in expr.keys)
        if isinstance(expr, (ast.Starred, ast.NamedExpr)):
            return recurse(expr.value)
        if isinstance(expr, ast.IfExp):
            return recurse(expr.body) or recurse(expr.orelse)
        if isinstance(expr, ast.BoolOp):
            return any(recurse(v) for v in expr.values)
        if isinstance(expr, (ast.ListComp, ast.SetComp)):
            return recurse(expr.elt)
        if isinstance(expr, ast.DictComp):
            return recurse(expr.key) or recurse(expr.value)
        if isinstance(expr, (ast.GeneratorExp, ast.Lambda, ast.Await)):
            return mentions(expr)  # evaluated later, after the reset
        if isinstance(expr, ast.Call):
            return self._call_may_return_state(module, expr, recurse, mentions)
        return False  # constants, arithmetic, comparisons, f-strings, subscripts (elements)

    def _call_may_return_state(self, module: ModuleInfo, call: ast.Call, recurse, mentions) -> bool:  # noqa: ANN001
        func = call.func
        if module.qualified_name(func) in FRESH_VALUE_CALLS:
            return False
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant) \
                and isinstance(func.value.value, str):
            return False  # `", ".join(S)`, `"{}".format(S)`: a method of a string makes a string
        if isinstance(func, ast.Attribute) and recurse(func.value):
            return func.attr not in ELEMENT_METHODS  # a view such as .items(), or a method handing it back
        target = self._project_function(module, func)
        if target is not None:
            return self.returns_state(*target)
        arguments = [*call.args, *(k.value for k in call.keywords)]
        return any(recurse(a) or (isinstance(a, (ast.GeneratorExp, ast.Lambda)) and mentions(a)) for a in arguments)

    def _project_function(self, module: ModuleInfo, func: ast.expr) -> tuple[ModuleInfo, FunctionNode] | None:
        if isinstance(func, ast.Name) and func.id in module.functions and func.id not in module.imports:
            return module, module.functions[func.id]
        qualified = module.qualified_name(func)
        found = self.project.resolve_attribute(qualified, module) if qualified and "." in qualified else None
        if found is not None and found[1] in found[0].functions:
            return found[0], found[0].functions[found[1]]
        return None
