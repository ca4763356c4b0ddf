"""Which helpers must gain a parameter to receive a value the handler now creates, and how."""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from typing import Optional

from .flow import FunctionKey, HandlerFlow
from .module import ModuleInfo
from .scopes import FunctionNode, scope_bindings
from .walk import every_node, remembered


class PassAs(enum.Enum):
    """How a helper receives a value the handler now creates."""

    POSITIONAL = "positional"  # appended to a plain signature and to every call
    KEYWORD = "keyword"  # a keyword-only parameter, passed as `name=name`


@dataclass(frozen=True)
class Threading:
    """A name the handler creates and passes down its call chain, instead of a module-level one."""

    name: str
    handler: str
    # Module-level functions that gain a `name` parameter, in source order, with how it is passed.
    threaded: tuple[tuple[str, PassAs], ...]
    # When set, the handler starts with this statement instead of the module-level binding of `name`
    # (which is removed if there is one): a value made fresh per invocation.
    created: Optional[str] = None


def threading_plan(module: ModuleInfo, flow: HandlerFlow, name: str,
                   users: set[str]) -> tuple[tuple[str, PassAs], ...] | str:
    """The module-level functions (and how each receives it) that must get `name` from the handler,
    given the functions that use it; or why it cannot be passed to them."""
    handler = flow.handler[1]
    needs = _callers_closure(module, flow, users)
    methods = sorted(n for n in needs if n not in module.functions)
    if methods:
        return f"the method `{methods[0]}` uses it"
    chain = needs | {handler}
    # Asked of every function that would gain the parameter: found once, not once per function (a
    # handler that calls a hundred helpers asked ten thousand times).
    local_in = {}
    # The first in order wins. A handler that is an object (`functools.partial(process, ...)`) is no
    # function of the module, and has no locals.
    for other in sorted((f for f in chain if f in module.functions), reverse=True):
        local_in.update(dict.fromkeys(scope_bindings(module.functions[other]).local, other))
    called_from_elsewhere = {callee for caller, callees in flow.calls.items() if caller[0] != module.path
                             for callee in callees}
    for function_name in sorted(needs - {handler}):
        problem = _threading_problem(module, flow, function_name, name, chain, local_in, called_from_elsewhere)
        if problem:
            return problem
    return tuple((f, _passing_mode(module, f)) for f in module.functions if f in needs and f != handler)


def _callers_closure(module: ModuleInfo, flow: HandlerFlow, users: set[str]) -> set[str]:
    """Functions of module on the handler's chain that use the state directly or call one that does."""
    needs = set(users)
    changed = True
    while changed:
        changed = False
        for caller, callees in flow.calls.items():
            if caller[0] == module.path and caller[1] not in needs and any(
                    c[0] == module.path and c[1] in needs for c in callees):
                needs.add(caller[1])
                changed = True
    return needs


def _threading_problem(module: ModuleInfo, flow: HandlerFlow, function_name: str, state: str,
                       chain: set[str], local_in: dict[str, str],
                       called_from_elsewhere: set[FunctionKey]) -> str | None:
    """Why function_name cannot gain the parameter, if it cannot. local_in: each local name of a
    function of the chain -> that function; called_from_elsewhere: functions another module calls."""
    node = module.functions[function_name]
    key: FunctionKey = (module.path, function_name)
    if key in flow.escaping:
        return f"`{function_name}` is passed around as a value, so its calls cannot all gain an argument"
    if node.decorator_list:
        return f"`{function_name}` is decorated, and the decorator may depend on its signature"
    if function_name in module.rebound_in.get(state, set()) and assigns(node, state):
        return f"`{function_name}` rebinds it with `global`"
    if _nested_global(node, state):
        return f"a function nested in `{function_name}` declares it `global`"
    if state in scope_bindings(node).params or (state in scope_bindings(node).local
                                                 and state not in scope_bindings(node).declared_global):
        return f"`{function_name}` has a parameter or local named `{state}`"
    if function_name in local_in:
        return f"`{local_in[function_name]}` has a local named `{function_name}`"
    for use in module.uses.get(function_name, []):
        if use.where != "function" or use.owner not in chain:
            return f"`{function_name}` is also used outside the handler's call chain"
        if id(use.node) not in _calls_by_callee(module):
            return f"`{function_name}` is referenced without being called in `{use.owner}`"
    if key in called_from_elsewhere:
        return f"`{function_name}` is called from another module"
    return None


def assigns(function: FunctionNode, name: str) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
    return False


def _nested_global(function: FunctionNode, name: str) -> bool:
    for node in every_node(function):
        if node is not function and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(isinstance(n, ast.Global) and name in n.names for n in every_node(node)):
                return True
    return False


def _passing_mode(module: ModuleInfo, function_name: str) -> PassAs:
    """Positional when the signature is plain and every call passes plain positional arguments."""
    args = module.functions[function_name].args
    if args.defaults or args.vararg or args.kwonlyargs or args.kwarg:
        return PassAs.KEYWORD
    calls = _calls_by_callee(module)
    for use in module.uses.get(function_name, []):
        node = calls.get(id(use.node))
        if node is not None and (node.keywords or any(isinstance(a, ast.Starred) for a in node.args)):
            return PassAs.KEYWORD
    return PassAs.POSITIONAL


def _calls_by_callee(module: ModuleInfo) -> dict[int, ast.Call]:
    """Each call of the module, by the node of what it calls: found once, not by walking a function for
    each use (a handler that calls a hundred helpers was walked a hundred times)."""
    return remembered(module.tree, "calls_by_callee",  # type: ignore[no-any-return]
                      lambda: {id(n.func): n for n in every_node(module.tree) if isinstance(n, ast.Call)})
