"""What a handler reaches, where per-request data flows, and every mutation of module state on the way.

The analysis is interprocedural over the project's modules: parameters of a helper are tainted when
any reached call passes per-request data (the event, the context, per-request credentials, or
anything derived from them) to them; a helper runs "under a per-request condition" when any reached
call to it does. It is flow-insensitive within a function and over-approximates: when in doubt a value
counts as per-request, which can only make lambda-fix report more, never rewrite less safely.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .classes import ClassRef, class_of, find_method, object_named, shared_attribute
from .clients import CLIENT_FACTORIES, CLIENT_METHODS, CREDENTIAL_METHODS, SESSION_FACTORIES, may_build_client
from .handlers import registered
from .module import ModuleInfo, statements_within
from .project import Project
from .scopes import FunctionNode, global_name_refs, scope_bindings
from .walk import children, every_node, remembered
from .walk import nodes as descendants

StateKey = tuple[str, str]  # (module path, name)
FunctionKey = tuple[str, str]  # (module path, function name)

MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove",
    "discard", "clear", "sort", "reverse", "appendleft", "extendleft", "popleft", "rotate",
    "difference_update", "intersection_update", "symmetric_difference_update", "__setitem__",
    "__delitem__", "subtract", "move_to_end",
})
# Mutations that grow the state on every call whatever the values: never a deliberate cache.
ACCUMULATING_METHODS = frozenset({"append", "extend", "insert", "appendleft", "extendleft"})
# Methods whose result is (part of) the receiver: a mutation of the result mutates the state.
_VIEW_METHODS = frozenset({"get", "setdefault", "__getitem__"})
# Functions that mutate their first argument.
MUTATING_FUNCTIONS = frozenset({
    "random.shuffle", "heapq.heappush", "heapq.heappop", "heapq.heapify", "heapq.heapreplace",
    "heapq.heappushpop", "bisect.insort", "bisect.insort_left", "bisect.insort_right",
})


@dataclass(frozen=True)
class Mutation:
    state: StateKey
    function: FunctionKey
    line: int
    column: int
    action: str  # "append", "item assignment", "rebinding", ...
    per_request_value: bool  # the value, key or argument written comes from the request
    per_request_condition: bool  # an `if`/loop/`except` in this function, on request data, guards it
    called_conditionally: bool  # the function runs only for some requests (a caller's condition)
    client_value: bool  # it stores a client, connection or session
    constant_value: bool  # it stores a literal (True, 0, "x", None)
    # Under an `if` on module state that the same block changes (`if not CACHE: CACHE.update(...)`,
    # `if is_cold_start: ...; is_cold_start = False`): the block runs once per environment.
    filled_once: bool = False
    # For a module-level object (`provider = Provider()`): the attribute written through
    # (`self.response["Data"][k] = v` writes `response`), and whether the write rebinds it whole.
    attribute: str | None = None
    rebinds_attribute: bool = False

    @property
    def leaks(self) -> bool:
        """Does this write carry one request's data into the next?

        A memo write (a request-free value under a request-free key) is transparent wherever it
        runs from: the cache answers what a fresh computation would. A flag set to a constant or a
        counter bumped by one is not: whether it changed depends on which requests came before, so
        a caller's per-request condition counts for those.
        """
        if self.client_value:
            return False  # a cache of clients is per-environment by design, even per tenant
        if self.filled_once and not self.per_request_value:
            return False  # filled once per environment, on purpose: a cache and its flag
        if self.per_request_value or self.per_request_condition:
            return True
        if self.action in ACCUMULATING_METHODS:
            return True  # grows on every call: never a cache
        signals = self.action == "augmented assignment" or (self.action == "rebinding" and self.constant_value)
        return signals and self.called_conditionally

    @property
    def why(self) -> str:
        if self.per_request_value:
            return f"{self.action} with per-request data"
        if self.per_request_condition:
            return f"{self.action} under a per-request condition"
        if self.called_conditionally:
            return f"{self.action} in a function called only for some requests"
        return f"{self.action} on every invocation"


@dataclass(frozen=True)
class Feed:
    """Request data handed to a method of a module-level object of a class lambda-fix cannot see into
    (a library's): `memory.save_context(...)`, `buffer.add(...)`. Whether it keeps what it is given
    is the class's business; the method's name says it stores."""

    state: StateKey  # the object: (the module that binds it, its name)
    function: FunctionKey
    line: int
    column: int
    method: str
    constructor: str  # the qualified name of what made it: "langchain.memory.ConversationBufferMemory"


@dataclass(frozen=True)
class Unfollowed:
    """A call that is given request data and that the analysis cannot resolve to code it can walk: a
    function picked at run time (`getattr(self, name)(event)`, `fn = TABLE[kind]; fn(event)`) or a method
    of a library's module-level object. What happens to the data there is not seen."""

    function: FunctionKey
    line: int
    what: str  # the called expression as written ("getattr(self, name)", "memory.invoke")


@dataclass(frozen=True)
class ClientCall:
    """A client, connection or session built in reached code."""

    function: FunctionKey
    node: ast.Call
    factory: str  # "boto3.client", "pymysql.connect", "session.client", ...
    per_request: bool  # an argument or the receiver carries per-request data


@dataclass
class _Summary:
    tainted_params: set[str] = field(default_factory=set)
    state_params: dict[str, StateKey] = field(default_factory=dict)
    control: bool = False
    returns_tainted: bool = False
    # A method's `self`: the class of the object it is called on, which may be a subclass of the class
    # that defines it (a base's `handle` calling `self.create()` that the subclass defines).
    self_class: ClassRef | None = None


@dataclass
class HandlerFlow:
    handler: FunctionKey
    reached: dict[FunctionKey, FunctionNode]
    calls: dict[FunctionKey, set[FunctionKey]]  # caller -> direct callees (project functions)
    escaping: set[FunctionKey]  # referenced as a value, not only called
    mutations: list[Mutation]
    # Writes into module-level objects of project classes (keys name the object), through their
    # methods' `self` or from outside: the object lives as long as the environment.
    object_mutations: list[Mutation] = field(default_factory=list)
    # Request data handed to methods of module-level objects of library classes whose names say they store.
    feeds: list[Feed] = field(default_factory=list)
    unfollowed: list[Unfollowed] = field(default_factory=list)
    # callee -> [(caller, repeated, line)]: repeated when the call sits in a loop, comprehension or lambda
    call_sites: dict[FunctionKey, list[tuple[FunctionKey, bool, int]]] = field(default_factory=dict)
    client_calls: list[ClientCall] = field(default_factory=list)
    # Per reached function: the names (parameters and locals) that hold request data somewhere in it.
    tainted_names: dict[FunctionKey, frozenset[str]] = field(default_factory=dict)

    def call_chain(self, function: FunctionKey) -> list[tuple[FunctionKey, FunctionKey, int]]:
        """The calls that lead from the handler to function: [(caller, callee, line of the call)]."""
        previous: dict[FunctionKey, tuple[FunctionKey, int]] = {}
        frontier, seen = [self.handler], {self.handler}
        while frontier and function not in seen:
            following = []
            for caller in frontier:
                for callee, sites in self.call_sites.items():
                    for site_caller, _, line in sites:
                        if site_caller == caller and callee not in seen:
                            seen.add(callee)
                            previous[callee] = (caller, line)
                            following.append(callee)
            frontier = following
        chain = []
        current = function
        while current in previous:
            caller, line = previous[current]
            chain.append((caller, current, line))
            current = caller
        return list(reversed(chain))

    def runs_at_most_once(self, function: FunctionKey, _seen: frozenset = frozenset()) -> bool:
        """Does function run at most once per invocation? (One call site, not repeated, in a
        function that itself runs at most once; the handler runs once.)"""
        if function == self.handler:
            return True
        sites = self.call_sites.get(function, [])
        if function in self.escaping or function in _seen or len(sites) != 1:
            return False
        caller, repeated, _ = sites[0]
        return not repeated and self.runs_at_most_once(caller, _seen | {function})


def analyze(project: Project, module: ModuleInfo, handler: FunctionNode, framework: bool = False,
            method_of: str | None = None) -> HandlerFlow:
    """framework: a function a framework calls per request (a route), all of whose parameters are the
    request's; a Lambda handler's request is its first two, the event and the context.
    method_of: the class of a handler that is a method (`handler = Service().handle`): its key is
    "Service.handle", and its request comes after `self`."""
    key = (module.path, f"{method_of}.{handler.name}" if method_of else handler.name)
    params = [a.arg for a in (*handler.args.posonlyargs, *handler.args.args)][1 if method_of else 0:]
    tainted = set(scope_bindings(handler).params) if framework else set(params[:2])
    summaries: dict[FunctionKey, _Summary] = {key: _Summary(tainted_params=tainted)}
    nodes: dict[FunctionKey, tuple[ModuleInfo, FunctionNode]] = {key: (module, handler)}
    # Depth first into callees (taken from the right); callers that must re-read a return value wait
    # at the left, once each, so a caller is walked again after its callees settle, not after each.
    pending = collections.deque([key])
    callers: dict[FunctionKey, set[FunctionKey]] = {}
    readers: dict[FunctionKey, set[FunctionKey]] = {}  # a function or attribute -> the walks that asked of it
    budget = 200 + 50 * len(module.functions)
    last: dict[FunctionKey, tuple[object, _FunctionWalk]] = {}  # the latest walk, and what it saw

    def stamp(function: FunctionKey, walk: _FunctionWalk) -> object:
        """What a walk's outcome depends on: its own summary, and which of the functions whose return
        value it looked at return request data."""
        summary = summaries[function]
        return (frozenset(summary.tainted_params), tuple(sorted(summary.state_params.items())), summary.control,
                _class_id(summary),
                frozenset(k for k in walk.consulted if k in summaries and summaries[k].returns_tainted))

    while pending and budget:
        budget -= 1
        current = pending.pop()
        walk = _walked(project, *nodes[current], summaries[current], summaries, current)
        last[current] = (stamp(current, walk), walk)
        if walk.returns_tainted and not summaries[current].returns_tainted:
            summaries[current].returns_tainted = True
            pending.extendleft(c for c in sorted(callers.get(current, ())) if c not in pending)
        for consulted in walk.consulted:
            readers.setdefault(consulted, set()).add(current)
        # An object's attribute that some method sets from request data: whoever reads it reads that.
        for attribute in walk.tainted_attributes:
            summary = summaries.setdefault(attribute, _Summary())
            if not summary.returns_tainted:
                summary.returns_tainted = True
                pending.extendleft(r for r in sorted(readers.get(attribute, ())) if r not in pending and r in nodes)
        for callee, (callee_module, callee_node), tainted, states, control, self_class in walk.calls:
            callers.setdefault(callee, set()).add(current)
            summary = summaries.setdefault(callee, _Summary())
            before = (set(summary.tainted_params), dict(summary.state_params), summary.control, summary.self_class)
            summary.tainted_params |= tainted
            summary.state_params.update(states)
            summary.control |= control
            summary.self_class = summary.self_class or self_class  # the first caller's object decides
            if callee not in nodes or before != (summary.tainted_params, summary.state_params, summary.control,
                                                 summary.self_class):
                nodes[callee] = (callee_module, callee_node)
                pending.append(callee)
    calls: dict[FunctionKey, set[FunctionKey]] = {}
    call_sites: dict[FunctionKey, list[tuple[FunctionKey, bool, int]]] = {}
    escaping: set[FunctionKey] = set()
    mutations: list[Mutation] = []
    object_mutations: list[Mutation] = []
    feeds: list[Feed] = []
    unfollowed: list[Unfollowed] = []
    client_calls: list[ClientCall] = []
    tainted_names: dict[FunctionKey, frozenset[str]] = {}
    for current, (mod, node) in nodes.items():
        seen, walk = last.get(current, (None, None))
        if walk is None or seen != stamp(current, walk):  # something it depends on changed since: walk again
            walk = _walked(project, mod, node, summaries[current], summaries, current)
        calls[current] = {c[0] for c in walk.calls if c[0] not in walk.escaping_keys}
        for callee, repeated, line in walk.sites:
            call_sites.setdefault(callee, []).append((current, repeated, line))
        escaping |= walk.escaping_keys
        mutations.extend(walk.mutations)
        object_mutations.extend(walk.object_mutations)
        feeds.extend(walk.feeds)
        unfollowed.extend(walk.unfollowed)
        client_calls.extend(walk.client_calls)
        tainted_names[current] = frozenset(walk.tainted)
    return HandlerFlow(
        handler=key,
        reached={k: n for k, (_, n) in nodes.items()},
        calls=calls,
        escaping=escaping,
        mutations=mutations,
        object_mutations=object_mutations,
        feeds=feeds,
        unfollowed=unfollowed,
        call_sites=call_sites,
        client_calls=client_calls,
        tainted_names=tainted_names,
    )


def _walked(project: Project, module: ModuleInfo, node: FunctionNode, summary: _Summary,
            summaries: dict[FunctionKey, _Summary], key: FunctionKey) -> _FunctionWalk:
    """A walk of node with this summary: an earlier one (of any handler's analysis) when it had the
    same summary and the functions whose return values it asked about still answer the same.

    A helper module shared by many handlers has its functions walked once per worker, not once per
    handler."""
    given = (frozenset(summary.tainted_params), tuple(sorted(summary.state_params.items())), summary.control,
             _class_id(summary))
    earlier = remembered(node, "walks", list)
    for walked_with, answers, walk in earlier:
        if walked_with == given and all(_returns_tainted(summaries, k) == v for k, v in answers.items()):
            return walk  # type: ignore[no-any-return]
    walk = _FunctionWalk(project, module, node, summary, summaries, key)
    walk.run()
    earlier.append((given, {k: _returns_tainted(summaries, k) for k in walk.consulted}, walk))
    return walk


def _class_id(summary: _Summary) -> int | None:
    return id(summary.self_class[1]) if summary.self_class is not None else None


def _returns_tainted(summaries: dict[FunctionKey, _Summary], key: FunctionKey) -> bool:
    summary = summaries.get(key)
    return summary is not None and summary.returns_tainted


class _FunctionWalk:
    """One pass over one function with the current taint summary."""

    def __init__(self, project: Project, module: ModuleInfo, node: FunctionNode, summary: _Summary,
                 summaries: dict[FunctionKey, _Summary], key: FunctionKey) -> None:
        self.project = project
        self.module = module
        self.node = node
        self.key = key
        # The class a method belongs to, and locals known to hold instances of project classes.
        self.own_class = self._class_named(key[1].split(".")[0]) if "." in key[1] and "<locals>" not in key[1] \
            else None
        self.self_class = summary.self_class or self.own_class
        self.instances: dict[str, tuple[ModuleInfo, ast.ClassDef]] = {}
        self.summary = summary
        self.summaries = summaries
        self.global_ids = _global_ids(node)
        self.called_ids, self.repeated_ids = _calls(node)
        self.sites: list[tuple[FunctionKey, bool, int]] = []
        self.tainted: set[str] = set(summary.tainted_params)
        self.aliases: dict[str, StateKey] = dict(summary.state_params)
        self.calls: list[tuple[FunctionKey, tuple[ModuleInfo, FunctionNode], set[str], dict[str, StateKey], bool,
                               ClassRef | None]] = []
        self.escaping_keys: set[FunctionKey] = set()
        self.mutations: list[Mutation] = []
        self.returns_tainted = False
        self.consulted: set[FunctionKey] = set()  # functions whose return value the walk asked about
        # Attributes of project classes (`_attribute_key`) this walk stores request data into.
        self.tainted_attributes: set[FunctionKey] = set()
        self._locals = scope_bindings(node).local
        params = scope_bindings(node).params
        if self.self_class is not None and params and not _is_static(node):
            self.instances[params[0]] = self.self_class  # self, or cls
        for statement in _assignments_from_calls(node):
            found = self.resolve_class(statement.value.func)  # type: ignore[attr-defined]
            if found is not None:
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self.instances[target.id] = found

    def run(self) -> None:
        # Taint of locals settles within a few passes (loops carry it backwards); record on the last.
        # Another pass is needed only if some read was answered before a later statement changed the
        # answer: a name read as clean and tainted afterwards, or a local's alias read and changed after.
        for _ in range(4):
            before = set(self.tainted)
            self._reset_records()
            self._read_clean: set[str] = set()
            self._read_aliases: set[str] = set()
            self._following: set[int] = set()  # comprehension variables being followed to their iterable
            self._stale = False
            self._block(self.node.body, False)
            if self.tainted == before or not self._stale:
                break

    def _taint(self, name: str) -> None:
        if name not in self.tainted:
            self.tainted.add(name)
            self._stale = self._stale or name in self._read_clean

    def _alias(self, name: str, state: StateKey) -> None:
        if self.aliases.get(name) != state:
            self.aliases[name] = state
            self._stale = self._stale or name in self._read_aliases

    def _reset_records(self) -> None:
        self.calls, self.mutations, self.escaping_keys, self.sites = [], [], set(), []
        self.object_mutations: list[Mutation] = []
        self.feeds: list[Feed] = []
        self.unfollowed: list[Unfollowed] = []
        self.client_calls: list[ClientCall] = []

    # ---- statements -------------------------------------------------------------------------

    def _block(self, body: list[ast.stmt], control: bool) -> None:
        # An early `return` on request data does not make what follows conditional: validation and
        # warm-up guards open almost every real handler, and what runs after them runs for every
        # request that does real work.
        for stmt in body:
            self._statement(stmt, control)

    def _statement(self, stmt: ast.stmt, control: bool) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Nested functions are closures: their body counts as part of this function.
            self._block(stmt.body, control)
            return
        if isinstance(stmt, ast.ClassDef):
            return
        if isinstance(stmt, ast.Assign):
            self._expression(stmt.value, control)
            for target in stmt.targets:
                self._store(target, stmt.value, control, "assignment")
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self._expression(stmt.value, control)
                self._store(stmt.target, stmt.value, control, "assignment")
        elif isinstance(stmt, ast.AugAssign):
            self._expression(stmt.value, control)
            self._store(stmt.target, stmt.value, control, "augmented assignment", augmented=True)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self._store(target, None, control, "deletion")
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._expression(stmt.iter, control)
            if self.is_tainted(stmt.iter):
                self._taint_target(stmt.target)
            inner = control or self.is_tainted(stmt.iter)
            self._block(stmt.body, inner)
            self._block(stmt.orelse, inner)
        elif isinstance(stmt, (ast.While, ast.If)):
            self._expression(stmt.test, control)
            test_tainted = self.is_tainted(stmt.test)
            inner = control or test_tainted
            guards = self._guard_states(stmt.test) if isinstance(stmt, ast.If) and not test_tainted else set()
            start = len(self.mutations)
            self._block(stmt.body, inner)
            if guards and any(m.state in guards for m in self.mutations[start:]):
                # The block changes what its test reads: once it has run, it does not run again.
                self.mutations[start:] = [dataclasses.replace(m, filled_once=True) for m in self.mutations[start:]]
            self._block(stmt.orelse, inner)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self._expression(item.context_expr, control)
                if item.optional_vars is not None and self.is_tainted(item.context_expr):
                    self._taint_target(item.optional_vars)
            self._block(stmt.body, control)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._block(stmt.body, control)
            # A handler runs when something in the body failed, often because of the request.
            failed = control or any(self.is_tainted(n) for n in _expressions(stmt.body))
            for handler in stmt.handlers:
                if handler.name and failed:
                    self._taint(handler.name)
                self._block(handler.body, failed)
            self._block(stmt.orelse, control)
            self._block(stmt.finalbody, control)
        elif type(stmt).__name__ == "Match":
            self._expression(stmt.subject, control)
            inner = control or self.is_tainted(stmt.subject)
            for case in stmt.cases:
                if inner:
                    for node in ast.walk(case.pattern):
                        name = getattr(node, "name", None) or getattr(node, "rest", None)
                        if isinstance(name, str):
                            self._taint(name)
                self._block(case.body, inner)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self._expression(stmt.value, control)
                if self.is_tainted(stmt.value):
                    self.returns_tainted = True
        else:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self._expression(child, control)

    def _taint_target(self, target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                self._taint(node.id)

    def _store(self, target: ast.AST, value: ast.expr | None, control: bool, action: str,
               augmented: bool = False) -> None:
        value_tainted = value is not None and self.is_tainted(value)
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._store(element, value, control, action)
            return
        if isinstance(target, ast.Starred):
            self._store(target.value, value, control, action)
            return
        if isinstance(target, ast.Name):
            if id(target) in self.global_ids:
                state = self._state_of_global(target.id)
                if state is not None:
                    self._mutation(state, target, "rebinding" if not augmented else action,
                                   value_tainted, control, value)
                return
            if value_tainted:
                self._taint(target.id)
            elif value is not None and not augmented:
                alias = self.state_root(value)
                if alias is not None and _is_plain_reference(value):
                    self._alias(target.id, alias)
            return
        # Subscript or attribute: the root decides whose object is written.
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            self._expression(target, control)
            if value_tainted and isinstance(target, ast.Attribute):
                attribute = self._attribute_key(target)
                if attribute is not None:
                    self.tainted_attributes.add(attribute)
            state = self.state_root(target.value)
            if state is None:
                if isinstance(target.value, ast.Name) and value_tainted:
                    self._taint(target.value.id)  # a local object now holds request data
                return
            key_tainted = isinstance(target, ast.Subscript) and self.is_tainted(target.slice)
            kind = "item" if isinstance(target, ast.Subscript) else "attribute"
            verb = {"deletion": "deletion", "augmented assignment": "augmented assignment"}.get(action, "assignment")
            self._mutation(state, target, f"{kind} {verb}", value_tainted or key_tainted, control, value, target)

    # ---- expressions ------------------------------------------------------------------------

    def _expression(self, expr: ast.expr, control: bool) -> None:
        for node in _expression_events(self.node, expr, self.global_ids):
            if isinstance(node, ast.NamedExpr) and self.is_tainted(node.value):
                self._taint(node.target.id)
            elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                for gen in node.generators:
                    if self.is_tainted(gen.iter):
                        self._taint_target(gen.target)
            elif isinstance(node, ast.Call):
                self._call(node, control)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) in self.global_ids:
                self._maybe_escaping(node)

    def _call(self, call: ast.Call, control: bool) -> None:
        func = call.func
        args_tainted = any(self.is_tainted(a) for a in call.args) or \
            any(self.is_tainted(k.value) for k in call.keywords)
        target = self.resolve_function(func)
        if isinstance(func, ast.Attribute):
            state = self.state_root(func.value)
            if state is not None and func.attr in MUTATING_METHODS and target is None:
                self._mutation(state, call, func.attr, args_tainted, control, call.args[-1] if call.args else None,
                               func)
            elif isinstance(func.value, ast.Name) and args_tainted and func.attr in MUTATING_METHODS \
                    and id(func.value) not in self.global_ids:
                self._taint(func.value.id)  # a local container now holds request data
        qualified = self.module.qualified_name(func)
        factory = self._client_factory(call)
        if factory is not None:
            per_request = args_tainted or (isinstance(func, ast.Attribute) and self.is_tainted(func.value))
            self.client_calls.append(ClientCall(self.key, call, factory, per_request))
        if qualified in MUTATING_FUNCTIONS and call.args:
            state = self.state_root(call.args[0])
            if state is not None:
                self._mutation(state, call, qualified.rsplit(".", 1)[1], args_tainted, control, None)
        self._dispatch(call)
        if target is None:
            followed = self._table_dispatch(call, control)
            if args_tainted and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and _STORING.match(func.attr):
                self._feed(func.value, call, func.attr)
            elif args_tainted and not followed and self._opaque(func):
                self.unfollowed.append(Unfollowed(self.key, call.lineno, self.module.segment(func) or "?"))
            return
        key, module, node = target
        self.sites.append((key, id(call) in self.repeated_ids, call.lineno))
        bound = _is_method(key, node)
        tainted_params, state_params = self._bind_arguments(node, call, bound=bound)
        receiver_class = None
        if key[1].endswith(".__init__"):
            receiver_class = self.resolve_class(func)
        elif key[1].endswith(".__call__") and isinstance(func, ast.Call):
            receiver_class = self.resolve_class(func.func)  # `Handler()(event, context)`
        elif bound:
            receiver = func.value if isinstance(func, ast.Attribute) else func  # `obj.method(...)`, `obj(...)`
            params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            own = [a.arg for a in (*self.node.args.posonlyargs, *self.node.args.args)]
            if _is_super(receiver) and own:
                receiver_class = self.self_class
                receiver_state = self.aliases.get(own[0])
            else:
                receiver_class = self._receiver_class(receiver)
                # A method of a module-level object: its `self` is that object, and what it writes there
                # stays for the next invocation.
                receiver_state = self.state_root(receiver) if _is_plain_reference(receiver) else None
            if receiver_state is not None and params:
                state_params[params[0]] = receiver_state
            if isinstance(receiver, ast.Name) and receiver.id in self.tainted and params:
                tainted_params.add(params[0])  # an object made from request data: its attributes hold it
        self.calls.append((key, (module, node), tainted_params, state_params, control or self.summary.control,
                           receiver_class))

    def _opaque(self, func: ast.expr) -> bool:
        """Is func code picked at run time, or a method of a library's module-level object, that could do
        anything with what it is given? Library functions called by name (`json.dumps`) and methods of
        clients, loggers and the like (flow._NOT_KEEPING) are not: their effects are known or external."""
        if isinstance(func, (ast.Subscript, ast.Call)):
            return True  # `TABLE[kind](...)` not followed, `getattr(obj, name)(...)`, `make()(...)`
        if isinstance(func, ast.Name):
            # A function held in a local variable (`handler = pick(event)`): not a parameter's callback,
            # nor a function defined inside this one, whose body is walked as this function's.
            return func.id in self._locals and id(func) not in self.global_ids \
                and func.id not in scope_bindings(self.node).params and func.id not in self.instances \
                and func.id not in _nested_functions(self.node)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            receiver = func.value
            if receiver.id in self._locals and id(receiver) not in self.global_ids:
                return False
            return library_object(self.project, self.module, receiver.id) is not None
        return False

    def _table_dispatch(self, call: ast.Call, control: bool) -> bool:
        """`HANDLERS[event["type"]](event)`, `ROUTES.get(name, default)(event)`: a call through a
        module-level dict of functions reaches every function it holds (one per request, as with a
        router's routes)."""
        func = call.func
        if isinstance(func, ast.Subscript):
            table = func.value
        elif isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr == "get":
            table = func.func.value
        else:
            return False
        if not isinstance(table, ast.Name) or (table.id in self._locals and id(table) not in self.global_ids):
            return False
        binding = self.module.state.get(table.id) if table.id not in self.module.imports else None
        if binding is None or not isinstance(binding.init, ast.Dict):
            return False
        followed = False
        values = list(binding.init.values)
        if isinstance(func, ast.Call) and len(func.args) > 1:
            values.append(func.args[1])  # the default
        for value in values:
            found = self.resolve_function(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
            if found is None:
                continue
            key, module, node = found
            self.sites.append((key, True, call.lineno))
            tainted_params, state_params = self._bind_arguments(node, call, bound=False)
            self.calls.append((key, (module, node), tainted_params, state_params, True, None))
            followed = True
        return followed

    def _dispatch(self, call: ast.Call) -> None:
        """`app.resolve(event, context)` / `helper(event, context)` call one registered function per
        request: each is reached, with every parameter per-request and only for some requests."""
        func = call.func
        name = None
        if isinstance(func, ast.Attribute) and func.attr == "resolve" and isinstance(func.value, ast.Name):
            name = func.value.id
        elif isinstance(func, ast.Name):
            name = func.id
        if name is None or (name in self._locals and id(func) not in self.global_ids):
            return
        for function_name in registered(self.module).get(name, []):
            node = self.module.functions[function_name]
            key = (self.module.path, function_name)
            self.sites.append((key, id(call) in self.repeated_ids, call.lineno))
            self.calls.append((key, (self.module, node), set(scope_bindings(node).params), {}, True, None))

    def _bind_arguments(self, node: FunctionNode, call: ast.Call,
                        bound: bool = False) -> tuple[set[str], dict[str, StateKey]]:
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)][1 if bound else 0:]
        all_params = set(scope_bindings(node).params)
        tainted: set[str] = set()
        states: dict[str, StateKey] = {}
        for index, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                if self.is_tainted(arg.value):
                    tainted |= all_params
                continue
            vararg = node.args.vararg.arg if node.args.vararg else None
            name = positional[index] if index < len(positional) else vararg
            if name is None:
                continue
            if self.is_tainted(arg):
                tainted.add(name)
            state = self.state_root(arg)
            if state is not None and _is_plain_reference(arg):
                states[name] = state
        for keyword in call.keywords:
            if keyword.arg is None:
                if self.is_tainted(keyword.value):
                    tainted |= all_params
                continue
            name = keyword.arg if keyword.arg in all_params else (node.args.kwarg.arg if node.args.kwarg else None)
            if name is None:
                continue
            if self.is_tainted(keyword.value):
                tainted.add(name)
            state = self.state_root(keyword.value)
            if state is not None and _is_plain_reference(keyword.value):
                states[name] = state
        return tainted, states

    def _maybe_escaping(self, name: ast.Name) -> None:
        target = self.resolve_function(name)
        if target is None or self.resolve_class(name) is not None:
            return  # a class named as a value (`Rule.get(...)`, `isinstance(x, Rule)`) is not called
        if id(name) not in self.called_ids:
            key, module, node = target
            self.escaping_keys.add(key)
            # A callback may be handed anything: its parameters count as per-request.
            self.calls.append((key, (module, node), set(scope_bindings(node).params), {}, True, None))

    def _mutation(self, state: StateKey, node: ast.AST, action: str, tainted_value: bool, control: bool,
                  value: ast.expr | None, through: ast.expr | None = None) -> None:
        mutation = Mutation(
            state=state, function=self.key, line=node.lineno, column=node.col_offset,
            action=action, per_request_value=tainted_value, per_request_condition=control,
            called_conditionally=self.summary.control,
            client_value=value is not None and self._is_client(value),
            constant_value=isinstance(value, ast.Constant),
        )
        if not self._is_object(state):
            self.mutations.append(mutation)
        elif through is not None:
            attribute, whole = _object_attribute(through)
            self.object_mutations.append(dataclasses.replace(mutation, attribute=attribute, rebinds_attribute=whole))
        else:
            self.object_mutations.append(mutation)  # the object itself rebound (`global provider`)

    def _feed(self, receiver: ast.Name, call: ast.Call, method: str) -> None:
        if receiver.id in self._locals and id(receiver) not in self.global_ids:
            return
        made = library_object(self.project, self.module, receiver.id)
        if made is not None:
            (path, name), constructor = made
            self.feeds.append(Feed((path, name), self.key, call.lineno, call.col_offset, method, constructor))

    def _is_object(self, state: StateKey) -> bool:
        """Is state a module-level object of a project class (class_of), not a container or scalar?"""
        owner = self.module if state[0] == self.module.path else self.project.module_at(state[0])
        return owner is not None and state[1] not in owner.state

    # ---- resolution -------------------------------------------------------------------------

    def is_tainted(self, expr: ast.AST) -> bool:
        kind = type(expr)
        if kind is ast.Constant:
            return False
        bound = _comprehension_bound(self.node)
        if kind is ast.Name:  # most arguments and operands: no walk, no cache
            if id(expr) in bound:  # `[f(event) for event in chars]`: the comprehension's, not the handler's
                return self._bound_tainted(expr, bound)
            if expr.id in self.tainted and id(expr) not in self.global_ids:  # type: ignore[attr-defined]
                return True
            self._read_clean.add(expr.id)  # type: ignore[attr-defined]
            return False
        names, calls = _names_and_calls(self.node, expr)
        tainted, global_ids = self.tainted, self.global_ids
        if any(self._bound_tainted(node, bound) if id(node) in bound else
               node.id in tainted and id(node) not in global_ids for node in names):
            return True
        if self.instances:
            for attribute in _attribute_reads(self.node, expr):
                key = self._attribute_key(attribute)
                if key is not None:
                    self.consulted.add(key)
                    if _returns_tainted(self.summaries, key):
                        return True
        for call in calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in CREDENTIAL_METHODS:
                return True
            target = self.resolve_function(func)
            if target is not None:
                self.consulted.add(target[0])
                summary = self.summaries.get(target[0])
                if summary is not None and summary.returns_tainted:
                    return True
        self._read_clean.update(node.id for node in names)
        return False

    def _bound_tainted(self, name: ast.Name, bound: dict[int, ast.expr]) -> bool:
        """A comprehension's variable holds request data when the iterable it runs over does."""
        if id(name) in self._following:
            return False  # a name whose iterable reads it again (malformed or odd code): no evidence
        self._following.add(id(name))
        try:
            return self.is_tainted(bound[id(name)])
        finally:
            self._following.discard(id(name))

    def _client_factory(self, call: ast.Call) -> str | None:
        """The factory a call builds a client with: a known one, or `.client`/`.resource` of a session."""
        if not may_build_client(self.module, call):
            return None  # what LF004's first test passes over
        qualified = self.module.qualified_name(call.func)
        if qualified in CLIENT_FACTORIES:
            return qualified
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("client", "resource"):
            receiver = func.value
            if isinstance(receiver, ast.Call) and self._makes_session(receiver):
                return f"session.{func.attr}"
            if isinstance(receiver, ast.Name) and any(
                    isinstance(v, ast.Call) and self._makes_session(v)
                    for v in _assigned_values(self.node, receiver.id)):
                return f"session.{func.attr}"
        return None

    def _makes_session(self, call: ast.Call) -> bool:
        """`boto3.Session(...)`, or a project function that returns one (an accessor that caches it, as
        LF004 writes: the clients made from it on every call are still found after the session's fix)."""
        if self.module.qualified_name(call.func) in SESSION_FACTORIES:
            return True
        found = self.resolve_function(call.func)
        return found is not None and found[2].name != "__init__" and _returns_built(
            found[1], found[2], lambda module, value: module.qualified_name(value.func) in SESSION_FACTORIES)

    def _is_client(self, value: ast.expr) -> bool:
        if isinstance(value, ast.Call):
            qualified = self.module.qualified_name(value.func)
            if qualified in CLIENT_FACTORIES:
                return True
            if isinstance(value.func, ast.Attribute) and value.func.attr in CLIENT_METHODS:
                return True
            # `CLIENTS[region] = make_client(region)`: a project function that returns a client.
            found = self.resolve_function(value.func)
            if found is not None and found[2].name != "__init__" and _returns_built(found[1], found[2], _builds_client):
                return True
        if isinstance(value, ast.Name) and id(value) not in self.global_ids:
            return any(self._is_client(v) for v in _assigned_values(self.node, value.id))
        return False

    def _state_of_global(self, name: str) -> StateKey | None:
        if name in self.module.state:
            return (self.module.path, name)
        known = object_named(self.project, self.module, name)
        if known is not None:
            return (known[0].path, known[1])
        ref = self.module.imports.get(name)
        if ref is not None and ref.attr is not None:
            found = self.project.resolve_attribute(ref.dotted, self.module)  # re-exports followed
            if found is not None and found[1] in found[0].state:
                return (found[0].path, found[1])
        return None

    def _guard_states(self, test: ast.expr) -> set[StateKey]:
        """The module state an `if` test reads (`if not CACHE`, `if _client is None`, `if is_cold_start`)."""
        found = set()
        for node in ast.walk(test):
            if isinstance(node, ast.Name):
                state = self.state_root(node)
                if state is not None:
                    found.add(state)
        return found

    def state_root(self, expr: ast.expr) -> StateKey | None:
        """The module state an expression reads into: `S`, `S[k]`, `S.get(k)`, `helpers.S[k]`, an alias."""
        while True:
            if isinstance(expr, ast.Subscript):
                expr = expr.value
            elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
                    and expr.func.attr in _VIEW_METHODS:
                expr = expr.func.value
            else:
                break
        if isinstance(expr, ast.Name):
            if expr.id in self._locals and id(expr) not in self.global_ids:
                self._read_aliases.add(expr.id)
                return self.aliases.get(expr.id)  # a local is state only when it holds it
            return self._state_of_global(expr.id)
        if isinstance(expr, ast.Attribute):
            # `helpers.RECORDS`: another module's state, spelled through its module.
            qualified = self.module.qualified_name(expr)
            if qualified is not None and isinstance(expr.value, (ast.Name, ast.Attribute)):
                found = self.project.resolve_attribute(qualified, self.module)
                if found is not None and found[1] in found[0].state:
                    return (found[0].path, found[1])
            # `self.items`, `cls.cache`, `Registry.items`: a container the class body binds is shared by
            # every instance; its key names the class, whose attribute it is.
            if isinstance(expr.value, ast.Name):
                cls = self._receiver_class(expr.value) or self.resolve_class(expr.value)
                shared = shared_attribute(self.project, *cls, expr.attr) if cls is not None else None
                if shared is not None:
                    return (shared[0].path, shared[1].name)
            # `S.attr`, `S[k].attr`: an attribute of state (a namespace, an element) belongs to it.
            if isinstance(expr.value, (ast.Name, ast.Subscript, ast.Call)):
                return self.state_root(expr.value)
        return None

    def resolve_function(self, func: ast.expr) -> tuple[FunctionKey, ModuleInfo, FunctionNode] | None:
        """The project function a call's func names. Depends only on the function being walked (its
        locals, globals and instances), so it is remembered on it: every walk asks again."""
        known = remembered(self.node, "resolved", dict)
        memo = (id(func), id(self.self_class[1]) if self.self_class is not None else None)
        if memo not in known:
            known[memo] = self._resolve_function(func)
        return known[memo]  # type: ignore[no-any-return]

    def _resolve_function(self, func: ast.expr) -> tuple[FunctionKey, ModuleInfo, FunctionNode] | None:
        method = self._resolve_method(func)
        if method is not None:
            return method
        if isinstance(func, ast.Name):
            if id(func) not in self.global_ids and func.id in self._locals:
                return None
            if func.id in self.module.functions and func.id not in self.module.imports:
                return (self.module.path, func.id), self.module, self.module.functions[func.id]
        qualified = self.module.qualified_name(func)
        if qualified is None or "." not in qualified:
            return None
        found = self.project.resolve_attribute(qualified, self.module)
        if found is None:
            return None
        owner, name = found
        node = owner.functions.get(name)
        if node is None:
            return None
        return (owner.path, name), owner, node


    def _resolve_method(self, func: ast.expr) -> tuple[FunctionKey, ModuleInfo, FunctionNode] | None:
        """A method as Python finds it along the class's MRO, across modules: `obj.method` for a local
        or module-level object of a project class, `C().method`, `self.method` (on the object's own
        class, which may be a subclass), `super().method`, `C.method` (static and class methods), and
        `C(...)` itself (its `__init__`)."""
        found: ClassRef | None = None
        after = None
        name = "__init__"
        if isinstance(func, ast.Attribute):
            name = func.attr
            receiver = func.value
            if _is_super(receiver):
                if self.own_class is not None and self.self_class is not None:
                    found, after = self.self_class, self.own_class[1]
            else:
                found = self._receiver_class(receiver)
                if found is None and isinstance(receiver, (ast.Name, ast.Attribute)):
                    found = self.resolve_class(receiver)  # `Parser.make_client()`
        elif isinstance(func, ast.Name):
            found = self.resolve_class(func)
            if found is None:
                found, name = self._receiver_class(func), "__call__"  # an object the code calls
        elif isinstance(func, ast.Call):
            found, name = self.resolve_class(func.func), "__call__"  # `Handler()(event, context)`
            if found is None:
                return self._returned_by(func)  # `make_handler(config)(event, context)`
        if found is None:
            return None
        method = find_method(self.project, *found, name, after=after)
        if method is None:
            return None
        owner, cls, node = method
        return (owner.path, f"{cls.name}.{name}"), owner, node

    def _returned_by(self, call: ast.Call) -> tuple[FunctionKey, ModuleInfo, FunctionNode] | None:
        """The project function a factory call returns: a function it defines (a closure), a module
        function, or a bound method (`return Service().handle`, `return cls().handle`)."""
        factory = self.resolve_function(call.func)
        if factory is None:
            return None
        (path, qualified), owner, node = factory
        own = owner.classes.get(qualified.split(".")[0]) if "." in qualified and "<locals>" not in qualified else None
        nested = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for value in _returned_values(node):
            if isinstance(value, ast.Name) and value.id in nested:
                return (path, f"{qualified}.<locals>.{value.id}"), owner, nested[value.id]
            if isinstance(value, ast.Name) and value.id in owner.functions and value.id not in owner.imports:
                return (path, value.id), owner, owner.functions[value.id]
            if isinstance(value, ast.Attribute):
                receiver = value.value.func if isinstance(value.value, ast.Call) else value.value
                cls = (owner, own) if own is not None and isinstance(receiver, ast.Name) \
                    and receiver.id in ("self", "cls") else class_of(self.project, owner, receiver)
                method = find_method(self.project, *cls, value.attr) if cls is not None else None
                if method is not None:
                    return (method[0].path, f"{method[1].name}.{value.attr}"), method[0], method[2]
        return None

    def _attribute_key(self, attribute: ast.Attribute) -> FunctionKey | None:
        """`obj.name` of an object of a project class the walk knows: a key that stands for that
        attribute of every object of the class, which holds request data once any method stores some."""
        receiver = attribute.value
        if isinstance(receiver, ast.Name) and receiver.id in self.instances and receiver.id in self._locals:
            module, cls = self.instances[receiver.id]
            return (module.path, f"{cls.name}.<attribute>.{attribute.attr}")
        return None

    def _receiver_class(self, receiver: ast.expr) -> ClassRef | None:
        """The project class of the object an expression stands for: a local or `self` known to hold
        one, a module-level object (here or imported), or `C(...)`."""
        if isinstance(receiver, ast.Name):
            if receiver.id in self.instances and receiver.id in self._locals:
                return self.instances[receiver.id]
            if receiver.id not in self._locals or id(receiver) in self.global_ids:
                known = object_named(self.project, self.module, receiver.id)
                return (known[2], known[3]) if known is not None else None
            return None
        if isinstance(receiver, ast.Call):
            return self.resolve_class(receiver.func)
        return None

    def resolve_class(self, func: ast.expr) -> ClassRef | None:
        if isinstance(func, ast.Name) and func.id in self._locals:
            return self.instances.get(func.id) if func.id in self.instances and _is_class_param(self, func.id) \
                else None
        return class_of(self.project, self.module, func)

    def _class_named(self, name: str) -> ClassRef | None:
        cls = self.module.classes.get(name)
        return (self.module, cls) if cls is not None else None


# A method name that says the object keeps what it is given.
_STORING = re.compile(r"(?:add|append|save|store|push|record|remember|insert|extend|put|register|track|collect"
                      r"|enqueue|buffer|memorize|accumulate)(?:_|$|[A-Z])")
# Makers of objects whose storing methods send what they are given elsewhere (a service, a stream, a
# handler's output) or keep it on purpose: clients, loggers and tracers, HTTP sessions, queues of work
# handed to threads, bounded caches.
_NOT_KEEPING = ("boto3.", "botocore.", "aioboto3.", "logging.", "structlog.", "aws_lambda_powertools.",
                "requests.", "httpx.", "urllib3.", "aiohttp.", "redis.", "pymongo.", "sqlalchemy.",
                "cachetools.", "functools.", "threading.", "concurrent.", "multiprocessing.", "asyncio.",
                "queue.", "collections.", "re.", "jinja2.", "openai.", "anthropic.", "stripe.", "slack_sdk.",
                "google.", "azure.", "kafka.", "pika.", "psycopg2.", "pymysql.", "sentry_sdk.", "datadog")


def library_object(project: Project, module: ModuleInfo, name: str) -> tuple[StateKey, str] | None:
    """The module-level object a global name stands for, here or imported from a project module, when
    a class outside the project made it once at import (`ConversationBufferMemory()`: a class, by the
    capital its name starts with, as Python's classes are named; a function's result is a value):
    ((its module, its name), what made it). None for clients, loggers and the other makers in
    _NOT_KEEPING."""
    owner, owner_name = module, name
    ref = module.imports.get(name)
    if ref is not None:
        found = project.resolve_attribute(ref.dotted, module) if ref.attr is not None else None
        if found is None:
            return None
        owner, owner_name = found
    call = module_level_calls(owner).get(owner_name)
    if call is None or owner.binding_counts.get(owner_name) != 1 or owner_name in owner.state \
            or class_of(project, owner, call.func) is not None or may_build_client(owner, call):
        return None
    constructor = owner.qualified_name(call.func)
    if constructor is None or constructor.startswith(_NOT_KEEPING) or "." not in constructor \
            or not constructor.rpartition(".")[2][:1].isupper():
        return None  # made by the module's own functions, a builtin or a function (a value): not an object
    return (owner.path, owner_name), constructor


def module_level_calls(module: ModuleInfo) -> dict[str, ast.Call]:
    """Module-level names bound to a call (`memory = ConversationBufferMemory()`)."""
    def compute() -> dict[str, ast.Call]:
        found = {}
        for stmt in module.tree.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else \
                stmt.target if isinstance(stmt, ast.AnnAssign) else None
            if isinstance(target, ast.Name) and isinstance(stmt.value, ast.Call):  # type: ignore[union-attr]
                found[target.id] = stmt.value  # type: ignore[union-attr]
        return found
    return remembered(module.tree, "module_level_calls", compute)  # type: ignore[no-any-return]


def _nested_functions(function: FunctionNode) -> frozenset[str]:
    return remembered(function, "nested_functions", lambda: frozenset(  # type: ignore[no-any-return]
        n.name for n in every_node(function) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and n is not function))


def _is_method(key: FunctionKey, node: FunctionNode) -> bool:
    """Does a call of this function bind its first parameter to the receiver (a method, not a static
    method or a closure a factory returned)?"""
    return "." in key[1] and "<locals>" not in key[1] and not _is_static(node)


def _is_super(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super"


def _returned_values(function: FunctionNode) -> Iterator[ast.expr]:
    """The values of function's own `return` statements (not those of functions nested in it)."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def _is_static(function: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _is_class_param(walk: _FunctionWalk, name: str) -> bool:
    """Is name the `cls` of a classmethod (it stands for the class, not an instance)?"""
    node = walk.node
    params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    return bool(params) and params[0] == name and \
        any(isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list)


def _object_attribute(expr: ast.expr) -> tuple[str | None, bool]:
    """(the attribute of the root object an expression writes through, whether expr is that attribute
    itself): `self.response["Data"][k]` -> ("response", False), `self.count` -> ("count", True)."""
    attribute, whole, depth = None, False, 0
    while True:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            expr = expr.func.value
        elif isinstance(expr, ast.Attribute):
            attribute, whole = expr.attr, depth == 0
            expr = expr.value
        else:
            return attribute, whole
        depth += 1


def _global_ids(function: FunctionNode) -> set[int]:
    return remembered(function, "global_ids", lambda: {  # type: ignore[no-any-return]
        id(n) for n, _ in global_name_refs(function)})


_EVENTS = (ast.NamedExpr, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Call)


def _expression_events(function: FunctionNode, expr: ast.AST, global_ids: set[int]) -> list[ast.AST]:
    """The nodes of expr a walk acts on (walrus, comprehensions, calls, global names), in ast.walk
    order, collected once per expression."""
    known = remembered(function, "events", dict)
    found = known.get(id(expr))
    if found is None:
        found = known[id(expr)] = [
            node for node in descendants(expr)
            if isinstance(node, _EVENTS) or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                                             and id(node) in global_ids)]
    return found  # type: ignore[no-any-return]


# Fields of the Lambda context object that are the same for every invocation of an execution
# environment: what is derived from them (a region from the ARN, say) is no request's data.
CONTEXT_ENVIRONMENT_FIELDS = frozenset({"invoked_function_arn", "function_name", "function_version",
                                        "memory_limit_in_mb", "log_group_name", "log_stream_name"})


def _attribute_reads(function: FunctionNode, expr: ast.AST) -> list[ast.Attribute]:
    """The `name.attribute` reads inside expr (expr included), collected once per expression."""
    known = remembered(function, "attribute_reads", dict)
    found = known.get(id(expr))
    if found is None:
        found = known[id(expr)] = [node for node in descendants(expr) if isinstance(node, ast.Attribute)
                                   and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load)]
    return found  # type: ignore[no-any-return]


def _names_and_calls(function: FunctionNode, expr: ast.AST) -> tuple[list[ast.Name], list[ast.Call]]:
    """Every name and call inside expr (expr included), collected once per expression; not the
    context in `context.function_name` and the other environment-wide fields."""
    known = remembered(function, "names_and_calls", dict)
    found = known.get(id(expr))
    if found is None:
        names, calls, environment_wide = [], [], set()
        for node in descendants(expr):
            if isinstance(node, ast.Name):
                names.append(node)
            elif isinstance(node, ast.Call):
                calls.append(node)
            elif isinstance(node, ast.Attribute) and node.attr in CONTEXT_ENVIRONMENT_FIELDS \
                    and isinstance(node.value, ast.Name):
                environment_wide.add(id(node.value))
        if environment_wide:
            names = [name for name in names if id(name) not in environment_wide]
        found = known[id(expr)] = (names, calls)
    return found  # type: ignore[no-any-return]


def _comprehension_bound(function: FunctionNode) -> dict[int, ast.expr]:
    """Names a comprehension in function binds, and their reads inside it (`event` in `[e(event) for
    event in chars]`, which is not the handler's `event`): each one's id -> the iterable its value
    comes from."""
    def collect() -> dict[int, ast.expr]:
        found: dict[int, ast.expr] = {}
        # Outer comprehensions first, so an inner one that binds the name again wins for its own loads.
        for node in every_node(function):
            if not isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            # Its first iterable is evaluated outside it; each later one sees the names bound before it,
            # each condition those bound up to its own generator, and the element all of them.
            binders: dict[str, ast.expr] = {}
            for number, generator in enumerate(node.generators):
                if number:
                    _bind_loads(generator.iter, binders, found)
                for target in ast.walk(generator.target):
                    if isinstance(target, ast.Name):
                        binders[target.id] = generator.iter
                        found[id(target)] = generator.iter
                for test in generator.ifs:
                    _bind_loads(test, binders, found)
            for part in ([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]):
                _bind_loads(part, binders, found)
        return found

    return remembered(function, "comprehension_bound", collect)  # type: ignore[no-any-return]


def _bind_loads(part: ast.AST, binders: dict[str, ast.expr], found: dict[int, ast.expr]) -> None:
    for name in ast.walk(part):
        if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load) and name.id in binders:
            found[id(name)] = binders[name.id]


def _assignments_from_calls(node: FunctionNode) -> list[ast.Assign]:
    """`x = something(...)` statements in node: where locals holding class instances come from."""
    return remembered(node, "assign_calls", lambda: [  # type: ignore[no-any-return]
        n for n in every_node(node) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)])


_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
          ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)


def _calls(node: FunctionNode) -> tuple[set[int], set[int]]:
    """(the callee expression of every call in node, the calls that may run more than once per call of
    node: in loops, comprehensions, lambdas, nested defs), from one walk."""
    return remembered(node, "calls", lambda: _walk_calls(node))  # type: ignore[no-any-return]


def _walk_calls(node: FunctionNode) -> tuple[set[int], set[int]]:
    called: set[int] = set()
    repeated: set[int] = set()
    stack: list[tuple[ast.AST, bool]] = [(child, False) for child in children(node)]
    while stack:
        current, inside = stack.pop()
        if type(current) is ast.Call:
            called.add(id(current.func))  # type: ignore[attr-defined]
            if inside:
                repeated.add(id(current))
        if isinstance(current, (ast.For, ast.AsyncFor)):
            stack.append((current.iter, inside))  # the iterable is evaluated once
            stack.extend((c, True) for c in [current.target, *current.body, *current.orelse])
            continue
        inner = inside or isinstance(current, _LOOPS)
        stack.extend((child, inner) for child in children(current))
    return called, repeated


def _is_plain_reference(expr: ast.expr) -> bool:
    return isinstance(expr, (ast.Name, ast.Attribute))


def _expressions(body: list[ast.stmt]) -> Iterator[ast.expr]:
    for stmt in statements_within(body):
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                yield child


def _assigned_values(function: FunctionNode, name: str) -> Iterator[ast.expr]:
    for node in every_node(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            yield node.value


def _builds_client(module: ModuleInfo, value: ast.Call) -> bool:
    return module.qualified_name(value.func) in CLIENT_FACTORIES or (
        isinstance(value.func, ast.Attribute) and value.func.attr in CLIENT_METHODS)


def _returns_built(module: ModuleInfo, function: FunctionNode,
                   built: Callable[[ModuleInfo, ast.Call], bool]) -> bool:
    """Does every `return` of function give what a call `built` accepts makes there (`return
    boto3.client(...)`, or a local it assigned one to)? One level deep: what the analysis can see
    without running code."""
    returns = [n.value for n in every_node(function) if isinstance(n, ast.Return)]
    if not returns or any(value is None for value in returns):
        return False

    def made_here(value: ast.expr) -> bool:
        if isinstance(value, ast.Call):
            return built(module, value)
        if isinstance(value, ast.Name):
            assigned = list(_assigned_values(function, value.id))
            return bool(assigned) and all(isinstance(v, ast.Call) and built(module, v) for v in assigned)
        return False

    return all(made_here(value) for value in returns)  # type: ignore[arg-type]
