"""`ast.walk` for the analysis' hot paths: the same nodes in the same order, as a list, without the
context and operator markers (`Load`, `Store`, `Add`, `Eq`, ...) that no fact is read from.

The analysis walks every function of every candidate file several times; `ast.walk` builds a
generator per node and yields a `Load` or `Store` for every name. A plain loop filling a list, with
each node type's fields looked up once, takes a third less time.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

_MARKERS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
# Fields that never hold a node that is not a marker: skipped without a look.
_SKIPPED = frozenset({"ctx", "op", "ops", "id", "attr", "name", "arg", "asname", "module", "level", "kind",
                      "conversion", "is_async", "simple", "type_comment"})
_FIELDS: dict[type, tuple[str, ...]] = {}
_AST = ast.AST


def children(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes(node), markers left out, as a list."""
    found: list[ast.AST] = []
    _add_children(node, found)
    return found


def nodes(root: ast.AST) -> list[ast.AST]:
    """Every node under root (root first), breadth first as ast.walk, markers left out."""
    found = [root]
    index = 0
    while index < len(found):
        _add_children(found[index], found)
        index += 1
    return found


def _add_children(node: ast.AST, found: list[ast.AST]) -> None:
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _SKIPPED)
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(item for item in value if isinstance(item, _AST) and not isinstance(item, _MARKERS))
        elif isinstance(value, _AST) and not isinstance(value, _MARKERS):
            found.append(value)


_MEMO = "_lambda_fix_cache"


def remembered(node: ast.AST, key: str, compute: Callable[[], Any]) -> Any:
    """compute(), the first time key is asked of node; kept on the node itself. For facts no walk
    changes, about nodes the analysis visits again and again (a function is walked many times)."""
    memo = node.__dict__.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


# What is remembered about a module's nodes that depends on other modules: how its calls resolve and
# what its functions' walks saw (flow.py), classes' MROs and shared attributes, module-level objects
# (classes.py), and LF001/LF002's first test. The rest is the module's own.
LEARNT_FROM_OTHER_MODULES = frozenset({"resolved", "walks", "mro", "shared_attributes", "module_objects",
                                       "state_may_find"})


def forget_learnt(root: ast.AST) -> None:
    """Drop what is remembered about root's nodes from other modules, when one of them changed (a
    rewrite being checked): the module's own facts stay, and it need not be parsed again."""
    for node in (root, *every_node(root)):
        memo = node.__dict__.get(_MEMO)
        if memo:
            for key in LEARNT_FROM_OTHER_MODULES & memo.keys():
                del memo[key]


def every_node(root: ast.AST) -> list[ast.AST]:
    """nodes(root), kept on root: for the functions and modules that several decisions walk in turn."""
    return remembered(root, "nodes", lambda: nodes(root))  # type: ignore[no-any-return]
