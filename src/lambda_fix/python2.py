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
    """A Python 2 dict method called on a dict: a literal, `dict(...)`, or a name the module binds
    only to dicts. Other objects may define such methods (a six-style shim, a mapping class), so
    nothing else counts."""
    dicts = _names_bound_only_to_dicts(tree)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and not node.args and not node.keywords
                and isinstance(node.func, ast.Attribute) and node.func.attr in _DICT_METHODS
                and _is_dict(node.func.value, dicts)):
            return f"`.{node.func.attr}()` at line {node.lineno}"
    return None


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
