"""LF003's test of a fixed /tmp path the handler already empties itself.

Lambda runs one invocation at a time in an execution environment, so a fixed path is shared with
the environment's later invocations only, never with one running beside it (Lambda Managed
Instances, which run several at once, are not told apart). A handler that removes
the path, or a directory holding it, before anything uses it on every path (`shutil.rmtree(WORK,
ignore_errors=True)`, or `if os.path.exists(WORK): shutil.rmtree(WORK)`, then `os.makedirs(WORK)`,
or a call of a function of the module that does so, given the path or not)
starts every invocation as a cold one: nothing an earlier invocation left there shows. So does a
handler that removes it after its last use on every way out, exceptions included (in a `finally`).
Removed before every return but not when an exception leaves the handler, it still carries what a
failed invocation left to the next one: that is reported, and the message says so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from ..analysis.control import Effect, reset_first, reset_last
from ..analysis.flow import FunctionKey, HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.scopes import FunctionNode, scope_bindings
from ..analysis.walk import nodes

# Calls that remove a path whole: what empties a fixed path for the next use.
_REMOVERS = frozenset({"shutil.rmtree", "os.remove", "os.unlink"})
_PATH_REMOVERS = frozenset({"unlink"})  # `Path(p).unlink(missing_ok=True)`
_EXISTS = frozenset({"os.path.exists", "os.path.isdir", "os.path.isfile", "os.path.lexists"})
_PATH_EXISTS = frozenset({"exists", "is_dir", "is_file"})
# Calls that only build a path: naming it is not using it.
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_BUILDERS = frozenset({"os.path.join", "pathlib.Path", "Path", "str", "os.fspath", "os.path.abspath"})


@dataclass(frozen=True)
class TmpReset:
    every_path: bool  # removed at entry, or on every way out: nothing carries over
    on_return: tuple[int, ...] = ()  # lines of removals that run before every return, not when it raises


Aliases = Callable[[FunctionNode], "dict[str, ast.AST]"]


def handler_resets(module: ModuleInfo, flow: HandlerFlow, value: str, by_node: dict[int, str],
                   aliases_of: Aliases, users: set[str]) -> TmpReset:
    """by_node: id of each node that spells a fixed /tmp path -> the path; aliases_of: a function's
    locals assigned once from one; users: the module's functions that spell a path related to value."""
    handler = flow.reached[flow.handler]
    if flow.handler[0] != module.path:
        return TmpReset(False)
    subject = _Path(module, flow, value, by_node, aliases_of, users, flow.handler)
    if subject.nested_use:
        return TmpReset(False)  # a nested function or lambda may use it whenever it is called
    if reset_first(handler.body, subject.at_entry, subject.guard):
        return TmpReset(True)
    exits = reset_last(handler.body, subject.at_exit, subject.guard)
    if not exits.resets or not exits.returned:
        return TmpReset(False)
    return TmpReset(True) if exits.raised else TmpReset(False, exits.resets)


def related(one: str, other: str) -> bool:
    """Is one path the other, or inside it, or around it?"""
    return one == other or one.startswith(other.rstrip("/") + "/") or other.startswith(one.rstrip("/") + "/")


class _Path:
    """The classifier of one function's steps (the handler's, or a helper's it calls) for one path."""

    def __init__(self, module: ModuleInfo, flow: HandlerFlow, value: str, by_node: dict[int, str],
                 aliases_of: Aliases, users: set[str], at: FunctionKey, depth: int = 0,
                 given: dict[str, str] | None = None) -> None:
        self.module, self.flow, self.at, self.depth = module, flow, at, depth
        self.by_node, self.aliases_of = by_node, aliases_of
        self.value = value
        function = flow.reached[at]
        self.aliases = {name: by_node[id(node)] for name, node in aliases_of(function).items() if id(node) in by_node}
        self.aliases.update(given or {})  # parameters the caller passed the path to
        helpers = {(module.path, name) for name in users}
        self.use_lines = {line for callee in helpers for caller, _, line in flow.call_sites.get(callee, [])
                          if caller == at}
        self.users = users
        self.local_names = scope_bindings(function).local
        self.nested_use = any(self._spells_related(n) for scope in nodes(function)
                              if scope is not function and isinstance(scope, _NESTED) for n in nodes(scope))

    def _spells_related(self, node: ast.AST) -> bool:
        path = self.path_of(node)
        return path is not None and related(path, self.value)

    def _helper_removes(self, node: ast.AST, entry: bool) -> bool:
        """`prepare(WORK)`, `clean_tmp()`: a call of a function of the module that removes the path on
        every way out of it (first thing, for a removal at entry); the path given or spelled there."""
        if self.depth >= 2 or not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return False
        call = node.value
        if not isinstance(call.func, ast.Name) or call.func.id in self.local_names:
            return False
        key = (self.module.path, call.func.id)
        function = self.flow.reached.get(key)
        if function is None or key == self.at or isinstance(function, ast.AsyncFunctionDef):
            return False
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        given = {}
        for name, argument in [*zip(params, call.args), *((k.arg, k.value) for k in call.keywords)]:
            path = self.path_of(argument)
            if name is not None and path is not None:
                given[name] = path
        helper = _Path(self.module, self.flow, self.value, self.by_node, self.aliases_of, self.users, key,
                       self.depth + 1, given)
        if helper.nested_use:
            return False
        body = function.body
        if entry:
            return reset_first(body, helper.at_entry, helper.guard, every_exit=True)
        exits = reset_last(body, helper.at_exit, helper.guard, written=True)
        return exits.returned and exits.raised

    def path_of(self, node: ast.AST) -> str | None:
        """The fixed path node spells, directly, through a local, or wrapped in `Path(...)`."""
        if isinstance(node, ast.Call) and self.module.qualified_name(node.func) in ("pathlib.Path", "Path") \
                and len(node.args) == 1:
            node = node.args[0]
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return self.aliases[node.id]
        return self.by_node.get(id(node))

    def _covers(self, node: ast.AST | None) -> bool:
        path = self.path_of(node) if node is not None else None
        return path is not None and (path == self.value or self.value.startswith(path.rstrip("/") + "/"))

    def _removal(self, node: ast.AST) -> bool:
        """`shutil.rmtree(p, ...)`, `os.remove(p)`, `Path(p).unlink(...)` of the path or a directory above it."""
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return False
        call = node.value
        name = self.module.qualified_name(call.func)
        if name in _REMOVERS:
            return bool(call.args) and self._covers(call.args[0])
        return isinstance(call.func, ast.Attribute) and call.func.attr in _PATH_REMOVERS \
            and self._covers(call.func.value)

    def at_entry(self, node: ast.AST) -> Effect:
        return Effect.RESET if self._removal(node) or self._helper_removes(node, entry=True) else self._touch(node)

    def at_exit(self, node: ast.AST) -> Effect:
        return Effect.RESET if self._removal(node) or self._helper_removes(node, entry=False) else self._touch(node)

    def _touch(self, node: ast.AST) -> Effect:
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)  # type: ignore[attr-defined]
        if any(line in self.use_lines for line in lines):
            return Effect.WRITE  # a helper that uses the path
        for sub in nodes(node):
            if isinstance(sub, ast.Name) and sub.id in self.users:
                return Effect.WRITE  # handed on, to be called later
            if not isinstance(sub, ast.Call) or self.module.qualified_name(sub.func) in _BUILDERS:
                continue
            used = [*sub.args, *(k.value for k in sub.keywords)]
            if isinstance(sub.func, ast.Attribute):
                used.append(sub.func.value)
            for part in used:
                for inner in nodes(part):
                    path = self.path_of(inner)
                    if path is not None and related(path, self.value):
                        return Effect.STORE  # a call given the path: `open(p, "w")`, `os.makedirs(p)`
        return Effect.NONE

    def guard(self, test: ast.expr) -> bool | None:
        """`if os.path.exists(p):` -> False (absent when false); `if not p.exists():` -> True."""
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        check = test.operand if negated else test  # type: ignore[attr-defined]
        if not isinstance(check, ast.Call):
            return None
        name = self.module.qualified_name(check.func)
        if name in _EXISTS and check.args:
            subject: ast.AST | None = check.args[0]
        elif isinstance(check.func, ast.Attribute) and check.func.attr in _PATH_EXISTS:
            subject = check.func.value
        else:
            return None
        return negated if self._covers(subject) else None
