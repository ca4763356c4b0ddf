"""Module state a handler already resets itself: what LF001 and LF002 leave alone.

A handler resets a piece of module state when no invocation can see what an earlier one left in it:

- at entry: on every path through the handler, before anything reads or writes the state (the
  handler, or a function it calls that uses it), a statement empties it or gives it a value that owes
  nothing to earlier invocations: `S.clear()`, `del S[:]`, `S[:] = [...]`, `global S; S = [...]`
  (a new object, not another piece of module state), `if S: S.clear()`, a rebinding wholesale to
  any value that reads nothing of S and is no other module state, nor taken out of one
  (`global S; S = json.loads(body)`, not `S = S + [x]`, `S = f(S)` or `S = CACHE.get(k)`), or a
  call of a function of the module that does so on every way out of it (`reset_state()`,
  `load_config(bucket, key)`, its arguments reading nothing of S). An invocation that raises
  leaves its data, and the next one throws it away first (a rebinding whose value raises leaves S
  as it was, and the exception goes on: nothing reads it, unless an `except` of the handler goes
  on to, which the order analysis sees);
- on every way out: after the last write, on every `return`, at the end of the body and whenever an
  exception leaves the handler (a `finally`, or an `except` that catches everything and goes on to
  the reset), the state gets its initial value back: `.clear()` or `del S[:]` for one created empty,
  or the initial expression assigned again. The value the handler returns must not be the state
  itself, or the reset empties what the caller receives: nothing leaks then, but the handler does
  not do what it seems to, and that is reported, not fixed (a copy would change what the caller
  receives).

Reset before every return but not when an exception leaves the handler is not enough: an invocation
that fails half-way leaves its records, and a retry of the same event in the same environment (which
Lambda does for asynchronous events) counts them twice. That is reported, with a message that says so,
and the fix only adds the reset at entry (no copy of the returned value: the handler's own reset
already runs before it returns).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.aliasing import READ_ONLY_CALLS, returns_may_reference
from ..analysis.control import Effect, reset_first, reset_last
from ..analysis.flow import FunctionKey, HandlerFlow, StateKey
from ..analysis.module import ModuleInfo, StateBinding
from ..analysis.project import Project
from ..analysis.references import dotted, reexported, spellings
from ..analysis.scopes import scope_bindings
from ..analysis.walk import every_node, nodes, remembered

_CONTAINERS = frozenset({"list", "dict", "set", "deque"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LAZY = (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.Await)
# Calls whose result is a new object: a rebinding to one gives each invocation its own.
_NEW_OBJECTS = frozenset({"list", "dict", "set", "tuple", "frozenset", "copy.copy", "copy.deepcopy",
                          "collections.defaultdict", "collections.deque", "collections.OrderedDict",
                          "collections.Counter", "defaultdict", "deque", "OrderedDict", "Counter"})


@dataclass(frozen=True)
class HandlerReset:
    """What the handler does itself to put a piece of module state back."""

    every_path: bool  # at entry, or on every way out: nothing leaks
    on_return: tuple[int, ...] = ()  # lines of resets that run before every return, not when it raises
    # Lines of resets that run on every way out, after the value returned, which may be the state itself:
    # nothing leaks, but the caller receives it emptied. Reported: a copy would change what it receives.
    empties_returned: tuple[int, ...] = ()
    # The line of a function or lambda nested in the handler that uses the state: it may run after the
    # invocation (a callback, a returned closure), so no reset in the handler is known to cover it.
    nested_use: int | None = None


def handler_reset(project: Project, module: ModuleInfo, flow: HandlerFlow, owner: ModuleInfo,
                  binding: StateBinding) -> HandlerReset:
    handler = flow.reached[flow.handler]
    body = _without_docstring(handler.body)
    subject = _Subject(project, module, flow, owner, binding)
    if subject.nested_use:
        # A nested function or lambda may write it whenever it is called.
        return HandlerReset(False, nested_use=subject.nested_use)
    if reset_first(body, subject.at_entry, subject.guard) and subject.seen_reset:
        return HandlerReset(True)
    subject.seen_reset = False
    exits = reset_last(body, subject.at_exit, subject.exit_guard)
    if not exits.resets or not exits.returned or not subject.seen_reset:
        return HandlerReset(False)
    if not exits.raised:
        return HandlerReset(False, exits.resets)
    if returns_may_reference(project, module, flow, handler, binding, owner):
        return HandlerReset(False, empties_returned=exits.resets)
    return HandlerReset(True)


class _Subject:
    """The classifier of the handler's steps for one piece of module state."""

    def __init__(self, project: Project, module: ModuleInfo, flow: HandlerFlow, owner: ModuleInfo,
                 binding: StateBinding, at: FunctionKey | None = None, depth: int = 0) -> None:
        self.project, self.flow, self.module, self.owner, self.binding = project, flow, module, owner, binding
        self.at = at or flow.handler  # the function whose steps are classified: the handler, or a helper
        self.depth = depth
        bindings = scope_bindings(flow.reached[self.at])
        self.local_names = bindings.local
        self.spelled = spellings(module, owner, binding.name, reexported(project, module, owner, binding.name))
        if binding.name in bindings.local and binding.name not in bindings.declared_global:
            self.spelled.discard(binding.name)  # the handler's own local of that name
        # A bare name rebinds the state only in its own module, declared global there.
        self.rebindable = {s for s in self.spelled if "." in s}
        if owner is module and binding.name in bindings.declared_global:
            self.rebindable.add(binding.name)
        state: StateKey = (owner.path, binding.name)
        self.marks = [(m.line, m.column) for m in flow.mutations if m.state == state and m.function == self.at]
        writers = _closed(flow, {m.function for m in flow.mutations if m.state == state})
        users = _closed(flow, writers | {k for k, f in flow.reached.items() if _names(f, binding.name)})
        self.write_lines = _call_lines(flow, writers, self.at)
        self.use_lines = _call_lines(flow, users, self.at)
        self.writer_names = {k[1] for k in writers if k[0] == module.path and k != flow.handler}
        self.user_names = {k[1] for k in users if k[0] == module.path and k != flow.handler}
        self.seen_reset = False
        function = flow.reached[self.at]
        self.nested_use = next((scope.lineno for scope in nodes(function)  # type: ignore[attr-defined]
                                if scope is not function and isinstance(scope, _NESTED)
                                and any(self._is_state(n) for n in nodes(scope))), None)

    # -- what a step does ------------------------------------------------------------------------
    def at_entry(self, node: ast.AST) -> Effect:
        if self._entry_reset(node) or self._helper_resets(node, entry=True):
            self.seen_reset = True
            return Effect.RESET
        return self._touch(node)

    def at_exit(self, node: ast.AST) -> Effect:
        if self._exit_reset(node) or self._helper_resets(node, entry=False):
            self.seen_reset = True
            return Effect.RESET
        return self._touch(node)

    def _touch(self, node: ast.AST) -> Effect:
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)  # type: ignore[attr-defined]
        if any(line in self.write_lines for line in lines):
            return Effect.WRITE  # a call of a function that writes it, which may fail half-way
        start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        if any(start <= mark <= end for mark in self.marks):  # type: ignore[operator]
            if any(isinstance(sub, _LAZY) for sub in every_node(node)):
                return Effect.WRITE  # `S.extend(f(x) for x in xs)`: filled item by item, may fail half-way
            return Effect.STORE  # the function's own write: `S.append(x)`, `S[k] = v`
        read = any(line in self.use_lines for line in lines)
        for sub in every_node(node):  # kept: each piece of state asks of every step
            if isinstance(sub, ast.Call) and self.module.qualified_name(sub.func) not in READ_ONLY_CALLS \
                    and any(self._is_state(a) for a in [*sub.args, *(k.value for k in sub.keywords)]):
                return Effect.WRITE  # handed to code that may change it
            if isinstance(sub, ast.Name) and sub.id in self.writer_names:
                return Effect.WRITE  # a function that writes it, called or handed on
            if isinstance(sub, ast.Name) and sub.id in self.user_names or self._is_state(sub):
                read = True
            if isinstance(sub, (ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom)):
                read = True
        return Effect.READ if read else Effect.NONE

    def _is_state(self, node: ast.AST) -> bool:
        return isinstance(node, (ast.Name, ast.Attribute)) and dotted(node) in self.spelled  # type: ignore[arg-type]

    # -- resets ----------------------------------------------------------------------------------
    def _helper_resets(self, node: ast.AST, entry: bool) -> bool:
        """`reset_state()`, `load_config(bucket, key)`: a call of a function of the module that resets the
        state on every way out of it (first thing, for a reset at entry), its arguments reading nothing
        of the state."""
        if self.depth >= 2 or not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return False
        call = node.value
        if not isinstance(call.func, ast.Name) or call.func.id in self.local_names \
                or not all(self._independent(a) for a in [*call.args, *(k.value for k in call.keywords)]):
            return False  # an argument that reads the state reads it before the reset
        key = (self.module.path, call.func.id)
        function = self.flow.reached.get(key)
        if function is None or key == self.at or isinstance(function, ast.AsyncFunctionDef):
            return False
        helper = _Subject(self.project, self.module, self.flow, self.owner, self.binding, key, self.depth + 1)
        if helper.nested_use:
            return False
        body = _without_docstring(function.body)
        if entry:
            return reset_first(body, helper.at_entry, helper.guard, every_exit=True)
        exits = reset_last(body, helper.at_exit, helper.exit_guard, written=True)
        return exits.returned and exits.raised

    def _emptied(self, node: ast.AST) -> bool:
        """`S.clear()`, `del S[:]`."""
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and not node.value.args \
                and not node.value.keywords and isinstance(node.value.func, ast.Attribute) \
                and node.value.func.attr == "clear":
            return self._is_state(node.value.func.value)
        if isinstance(node, ast.Delete) and len(node.targets) == 1:
            return _whole_slice(node.targets[0]) and self._is_state(node.targets[0].value)  # type: ignore[attr-defined]
        return False

    def _assigned(self, node: ast.AST) -> tuple[str, ast.expr] | None:
        """("slice", value) for `S[:] = value`, ("rebind", value) for `S = value`."""
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            return None
        target = node.targets[0]
        if _whole_slice(target) and self._is_state(target.value):  # type: ignore[attr-defined]
            return "slice", node.value
        if isinstance(target, (ast.Name, ast.Attribute)) and dotted(target) in self.rebindable:
            return "rebind", node.value
        return None

    def _entry_reset(self, node: ast.AST) -> bool:
        if self._emptied(node):
            return True
        assigned = self._assigned(node)
        if assigned is None:
            return False
        if assigned[0] == "rebind" and self._replaced(assigned[1]):
            return True
        if not self._independent(assigned[1]):
            return False
        return assigned[0] == "slice" or self._new_object(assigned[1])

    def _replaced(self, value: ast.expr) -> bool:
        """`global S; S = json.loads(body)`, `S = load(bucket)`: rebound wholesale to a value that owes
        nothing to what S held, whatever it is. The value must read nothing of S (`S + [x]` and `f(S)`
        keep what it held), call no function of the module that uses S, and be no other module-level
        object (`S = DEFAULTS` would make the handler's writes land there); nor may it come out of one
        (`CACHE.get(key)` hands back what an earlier invocation left)."""
        for sub in nodes(value):
            if self._is_state(sub) or isinstance(sub, (ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
            if isinstance(sub, ast.Name) and (sub.id in self.module.classes
                                              or (sub.id in self.module.functions and not self._leaves_alone(sub.id))):
                return False
        if isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)) and self._module_level(value):
            return False
        call = value
        while isinstance(call, (ast.Call, ast.Attribute, ast.Subscript)):
            call = call.func if isinstance(call, ast.Call) else call.value
            if isinstance(call, ast.Name) and call.id in self.module.state \
                    and self.module.state[call.id].kind in _CONTAINERS | {"namespace"}:
                return False
        return True

    def _leaves_alone(self, function: str) -> bool:
        """A function of the module that neither spells the state nor calls one that does."""
        return (self.module.path, function) in self.flow.reached and function not in self.user_names

    def _exit_reset(self, node: ast.AST) -> bool:
        """Puts the initial value back (the next invocation starts as a cold one)."""
        initial_empty = self.binding.init_empty and self.binding.kind in _CONTAINERS
        if self._emptied(node):
            return initial_empty
        assigned = self._assigned(node)
        if assigned is None or not self.binding.init_pure:
            return False
        value = assigned[1]
        same = ast.dump(value) == ast.dump(self.binding.init)
        return same and self._independent(value) and (assigned[0] == "slice" or self._new_object(value))

    def _independent(self, value: ast.expr) -> bool:
        """Evaluating value reads nothing of the state and runs no code of the module."""
        for sub in nodes(value):
            if self._is_state(sub):
                return False
            if isinstance(sub, ast.Name) and (sub.id in self.module.functions or sub.id in self.module.classes):
                return False
            if isinstance(sub, (ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
        return True

    def _new_object(self, value: ast.expr) -> bool:
        """A value no one else holds: a display, a comprehension, a literal, a copy or a constructor,
        or the initial expression again (evaluated anew, it gives an equal, fresh value)."""
        if self.binding.init_pure and ast.dump(value) == ast.dump(self.binding.init):
            return True
        if self.binding.kind not in _CONTAINERS:
            return not isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)) or not self._module_level(value)
        if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp, ast.SetComp,
                              ast.Constant)):
            return True
        return isinstance(value, ast.Call) and self.module.qualified_name(value.func) in _NEW_OBJECTS

    def _module_level(self, value: ast.expr) -> bool:
        root = value
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        return isinstance(root, ast.Name) and (root.id in self.module.state or root.id in self.module.imports)

    # -- tests that tell it is already reset -------------------------------------------------------
    def guard(self, test: ast.expr) -> bool | None:
        """`if S:` / `if len(S):` -> False (empty when false); `if not S:` -> True."""
        if self.binding.kind not in _CONTAINERS:
            return None
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        subject = test.operand if negated else test  # type: ignore[attr-defined]
        if isinstance(subject, ast.Call) and isinstance(subject.func, ast.Name) and subject.func.id == "len" \
                and len(subject.args) == 1 and not subject.keywords:
            subject = subject.args[0]
        return negated if self._is_state(subject) else None

    def exit_guard(self, test: ast.expr) -> bool | None:
        return self.guard(test) if self.binding.init_empty else None


def _whole_slice(target: ast.AST) -> bool:
    return isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice) \
        and target.slice.lower is None and target.slice.upper is None and target.slice.step is None


def _names(function: ast.AST, name: str) -> bool:
    """Does function spell name anywhere (as a name or an attribute)? Over-approximates its uses."""
    found = remembered(function, "spelled_names", lambda: frozenset(
        n.id if isinstance(n, ast.Name) else n.attr for n in every_node(function)
        if isinstance(n, (ast.Name, ast.Attribute))))
    return name in found


def _closed(flow: HandlerFlow, functions: set[FunctionKey]) -> set[FunctionKey]:
    """functions and every reached function that calls one of them, directly or not."""
    found = set(functions)
    changed = True
    while changed:
        changed = False
        for caller, callees in flow.calls.items():
            if caller not in found and callees & found:
                found.add(caller)
                changed = True
    found.discard(flow.handler)
    return found


def _call_lines(flow: HandlerFlow, functions: set[FunctionKey], at: FunctionKey) -> set[int]:
    """Lines of the function at that call one of functions."""
    return {line for callee in functions for caller, _, line in flow.call_sites.get(callee, []) if caller == at}


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body
