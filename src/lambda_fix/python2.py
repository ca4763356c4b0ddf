"""Code that only Python 2 runs: no Python 3 Lambda runtime can run it, so it is not code lambda-fix
can fix, and saying so beats a syntax error or a rewrite that mixes two languages.

Only signs that mean Python 2 and nothing else count: CPython 3's own messages for a `print` or
`exec` statement and for an old octal literal, and the dict methods Python 3 removed
(`.iteritems()`, `.iterkeys()`, `.itervalues()`) called on a dict: one the module builds or decodes
from JSON, `os.environ`, or a handler's `event`. A comma in
`except E, e:` is not one: Python 3.14 reads it as two exception types.
"""

from __future__ import annotations

import ast

_STATEMENTS = {
    "Missing parentheses in call to 'print'": "a print statement",
    "Missing parentheses in call to 'exec'": "an exec statement",
    "leading zeros in decimal integer literals are not permitted": "an octal literal without 0o",
}
_DICT_METHODS = frozenset({"iteritems", "iterkeys", "itervalues", "viewitems", "viewkeys", "viewvalues"})


def python2_syntax(error: SyntaxError) -> str | None:
    """What makes this syntax error Python 2 code, as the report says it; None for any other error."""
    message = str(error.msg)
    for start, what in _STATEMENTS.items():
        if message.startswith(start):
            return f"{what} at line {error.lineno}"
    return None


def python2_only(tree: ast.Module) -> str | None:
    """A Python 2 dict method called on a dict: a literal, `dict(...)`, `json.loads(...)`, a name the
    module binds only to dicts, or a parameter of a module function that some call of it, in the
    module, passes such a dict (through any number of calls). Other objects may define such methods
    (a six-style shim, a mapping class, pandas before 2.0), so nothing else counts."""
    module_dicts = _names_bound_only_to_dicts(tree)
    functions = {f.name: f for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    dict_parameters: dict[str, set[str]] = {name: set() for name in functions}

    def dicts_in(name: str | None) -> set[str]:
        if name is None:
            return module_dicts
        return module_dicts | _names_bound_only_to_dicts(functions[name]) | dict_parameters[name]

    def scopes() -> list[tuple[str | None, ast.AST]]:
        return [(None, tree), *functions.items()]

    changed = True
    while changed:  # each round marks at least one more parameter, so it ends
        changed = False
        for owner, scope in scopes():
            known = dicts_in(owner)
            for call in _calls(scope, owner is None):
                callee = functions.get(call.func.id) if isinstance(call.func, ast.Name) else None
                if callee is None:
                    continue
                for parameter, argument in _bound_arguments(callee, call):
                    if parameter not in dict_parameters[callee.name] and _is_dict(argument, known):
                        dict_parameters[callee.name].add(parameter)
                        changed = True
    for owner, scope in scopes():
        known = dicts_in(owner)
        for node in _calls(scope, owner is None):
            if (not node.args and not node.keywords and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _DICT_METHODS and _is_dict(node.func.value, known)):
                return f"`.{node.func.attr}()` at line {node.lineno}"
    return None


def _calls(scope: ast.AST, module_level: bool) -> list[ast.Call]:
    """The calls in scope; for the module, those outside its top-level functions (which are scopes
    of their own)."""
    if not module_level:
        return [n for n in ast.walk(scope) if isinstance(n, ast.Call)]
    return [n for stmt in scope.body if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))  # type: ignore[attr-defined]
            for n in ast.walk(stmt) if isinstance(n, ast.Call)]


def _bound_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> list[tuple[str, ast.expr]]:
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    bound = [(name, value) for name, value in zip(positional, call.args) if not isinstance(value, ast.Starred)]
    return bound + [(k.arg, k.value) for k in call.keywords if k.arg is not None]


def _is_dict(node: ast.expr, dicts: set[str]) -> bool:
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return True
    if isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
            and node.value.id == "os":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("loads", "load") \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "json":
        return True  # a JSON object; a JSON array has no such method either
    return isinstance(node, ast.Name) and node.id in dicts


def _names_bound_only_to_dicts(tree: ast.Module) -> set[str]:
    """Names every assignment of which, anywhere in the module, is a dict display or `dict(...)`."""
    dicts: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    (dicts if _is_dict(node.value, set()) else other).add(target.id)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name):
            value = getattr(node, "value", None)
            (dicts if value is not None and _is_dict(value, set()) else other).add(node.target.id)
        elif isinstance(node, (ast.For, ast.comprehension, ast.With, ast.arg, ast.FunctionDef, ast.Import)):
            other.update(_bound_by(node))
    return (dicts - other) | ({"event"} if _EVENT in other else set())


_EVENT = "\0event"  # a parameter named event: what Lambda passes there is a dict decoded from JSON


def _bound_by(node: ast.AST) -> set[str]:
    if isinstance(node, ast.arg):
        return {node.arg, _EVENT} if node.arg == "event" else {node.arg}
    if isinstance(node, ast.FunctionDef):
        return {node.name}
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, (ast.For, ast.comprehension)):
        return {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    if isinstance(node, ast.With):
        return {n.id for item in node.items if item.optional_vars is not None
                for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
    return set()
