"""## What it does
Finds boto3 clients, resources and sessions, database connections and HTTP or search clients that
code a Lambda handler reaches builds on every invocation, from nothing that changes between
invocations, and builds each once per execution environment instead.

## Why is this bad?
Building a client costs tens to hundreds of milliseconds (credential lookup, endpoint resolution,
TLS and, for databases, a login). Built in the handler, that cost is paid on every invocation and
billed every time; built once, warm invocations reuse it.

## Example
```python
import os

import boto3


def lambda_handler(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    table.put_item(Item={"id": event["id"]})
    return {"saved": event["id"]}
```

## Use instead
```python
import functools
import os

import boto3


@functools.cache
def _dynamodb_resource():
    return boto3.resource("dynamodb")


def lambda_handler(event, context):
    table = _dynamodb_resource().Table(os.environ["TABLE"])
    table.put_item(Item={"id": event["id"]})
    return {"saved": event["id"]}
```

## Fix safety
A client is hoisted only when everything it is built from is fixed for the life of the environment:
constants, imports, module constants, environment variables (`os.environ`, `os.getenv`), secrets and
parameters fetched under such names (Powertools `parameters.get_secret(...)`, `get_secret_value`,
`get_parameter`, a helper of the project named for a secret or a setting) and what is parsed from
them (`json.loads`, `secret.get("host")`), and locals assigned once from those (inlined into the new
function; a local that fetches is assigned first in it, so the fetch runs once). A client or connection
built from a fetched secret is an unsafe fix: the secret is read once per environment, so one rotated
since reaches the next environment, not the running one. A client built from the event, from
per-request credentials (`sts.assume_role`) or from anything else is reported, not hoisted: one
shared client would serve a request with another tenant's credentials. So is a client used as a
context manager or closed by the handler, and one already cached at module level is left alone.
So is a client whose factory the project's tests patch (`mock.patch("app.boto3")`,
`monkeypatch.setattr(boto3, "client", ...)` in a file that imports the module): a client built once
would keep the first test's mock, out of reach of the later tests' patches.

A local that the client is built from (`config = Config(...)`, `region = os.environ["AWS_REGION"]`,
`session = boto3.Session()`) is copied into the accessor, and its assignment goes when nothing else
reads it: the handler keeps no unused local. Under `try` or `with`, whose handler may catch what the
value raises (`os.environ["AWS_REGION"]` when it is not set), only a value that cannot fail goes; the
others stay, unread. Elsewhere such an error is raised where the client was built, a few lines later. A
session that one client is made from is built inside that client's accessor; a session that several
clients, or other code, use gets an accessor of its own, which the clients' accessors call, so they
still share one session. A dict display passed as `**options` becomes keyword arguments (an empty one
is left out); one the function changes after assigning it (`options["profile_name"] = ...`) is not
copied, and the client is reported.

A module function without parameters that only returns the client (`def connect_to_sns(): return
boto3.client("sns")`, a docstring and the assignments of what it is built from allowed) is cached where
it stands, keeping its name and its lines, instead of calling a new accessor: its callers get one client
for the environment, as they would through an accessor. A client made from what such a function
returns (`get_session().client("s3")`) is built once too.

A client that is configured after it is built (`client.meta.events.register(...)` or anything else
done through its `meta`, a resource's `meta.client` calls aside; an attribute set or changed,
`setattr`; a function of the module that does so to it) is built once only with its configuration:
when it is what such a function builds, configures from constants, imports and the module's functions,
and returns, that function is cached whole, and the one client is configured once. Elsewhere it is
reported: caching only the construction would configure the shared client again on every invocation
(a hook registered N times runs N times on the Nth call). So is a client made from a local configured
that way (`session.events.register(...)`).

A client that a helper in another module of the project builds on every invocation (a `get_table()`
that builds `boto3.resource(...)`) is built once per environment in that module, by the same rules,
when the run checks it: a module without a handler is read when it names a client's package and a
handler of the run (up to three imports away) reaches its functions. A run that checks the handler's
module without the helper's reports it where the handler calls into the helper. A helper module with
a syntax error, too large or generated is skipped, not an error: it holds no handler.

A client already kept for the environment (`if _client is None: _client = ...`, a `functools.cache`,
or a helper that builds one called only to fill such a cache, as in
`if "ssm" not in PROVIDERS: PROVIDERS["ssm"] = SSMProvider()`) is left alone, unless it is built from
request data into a single slot: then every later request gets a client made for the first one's
settings, which is reported (a cache keyed by what the request chooses, `clients[region]`, is left
alone).

A client made from a session that is cached already (`_boto3_session().client(...)`, as the fix of
the session leaves it) is found like one made from `boto3.Session()`: still built on every call, it is
reported, or cached from the cached session.

The client is built lazily, by a `functools.cache`d function, on first use rather than at import:
a failure stays out of the import (which would break the whole environment), and tests that set
environment variables or patch `boto3.client` after importing the module keep working. For a file
whose target is older than Python 3.9 (its function's runtime, `requires-python` or `target-version`:
see [configuration](../configuration.md#target-version)), the decorator is
`functools.lru_cache(maxsize=None)`, the same cache, since `functools.cache` came with 3.9; the example
above is written for a newer target. Connections that can go stale (`pymysql`, `psycopg2`, `psycopg`,
`mysql.connector`) are kept in a module-level name and made again when the cached one has been closed;
a connection the server dropped is not detected until it is used.

An async client (`httpx.AsyncClient`) is reported, not hoisted: it belongs to the event loop that made
it, and a handler that runs a new loop per invocation (`asyncio.run`) would find a shared one bound to
a closed loop.

boto3 and botocore clients, resources and sessions, urllib3 pools, Redis, MongoDB, SQLAlchemy engines
and search clients keep no per-request state: their fix is safe. A `requests.Session` or `httpx.Client`
keeps cookies, and a database connection keeps open transactions and session settings, which a shared
one carries from one invocation into the next: those fixes are unsafe.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..analysis.callers import imported_modules
from ..analysis.clients import CLIENT_FACTORIES, FACTORY_CALL_NAMES, SESSION_FACTORIES, may_build_client
from ..analysis.flow import ClientCall, FunctionKey, HandlerFlow
from ..analysis.module import ModuleInfo, calls_in_functions
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, assigned_once, scope_bindings
from ..analysis.walk import children, every_node, remembered
from ..codes import code_of
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan, Span

CODE = code_of(__name__)
# Factories whose objects keep per-conversation state (cookies, transactions, session settings):
# sharing them between invocations can carry one request's state into the next, so the fix is unsafe.
STATEFUL_FACTORIES = frozenset({
    "requests.Session", "httpx.Client", "httpx.AsyncClient",
    "pymysql.connect", "psycopg2.connect", "psycopg.connect", "mysql.connector.connect",
})
# Connections that go stale: reused lazily, and made again once closed. The test that says "closed".
CLOSED_TESTS = {
    "pymysql.connect": "not {name}.open",
    "psycopg2.connect": "{name}.closed",
    "psycopg.connect": "{name}.closed",
    "mysql.connector.connect": "not {name}.is_connected()",
}
_BUILTINS = frozenset(dir(builtins))
# Clients tied to the event loop that made them: not shared across invocations that each run a loop.
_LOOP_BOUND = frozenset({"httpx.AsyncClient"})
# Calls whose result is fixed for the life of the environment when their arguments are.
_ENVIRONMENT_CALLS = frozenset({"os.environ.get", "os.getenv", "str", "int", "float", "bool",
                                "botocore.config.Config", "botocore.client.Config", "urllib3.Retry",
                                "urllib3.util.Retry", "urllib3.util.retry.Retry", "urllib3.Timeout",
                                "urllib3.util.Timeout", "urllib3.util.timeout.Timeout"}) | SESSION_FACTORIES
_CACHING_DECORATORS = frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property"})
_ACCESSOR_NAMES = {
    "boto3.Session": "_boto3_session", "boto3.session.Session": "_boto3_session",
    "botocore.session.get_session": "_botocore_session", "botocore.session.Session": "_botocore_session",
    "redis.Redis": "_redis_client", "redis.StrictRedis": "_redis_client", "redis.from_url": "_redis_client",
    "pymongo.MongoClient": "_mongo_client", "sqlalchemy.create_engine": "_engine",
    "requests.Session": "_http_session", "httpx.Client": "_http_client", "httpx.AsyncClient": "_http_client",
    "urllib3.PoolManager": "_pool_manager", "opensearchpy.OpenSearch": "_opensearch_client",
    "elasticsearch.Elasticsearch": "_elasticsearch_client",
}


@dataclass(frozen=True)
class DeadLocal:
    """A local of the plan's function whose every read is in calls that become accessor calls (readers),
    or in the values of other such locals: its assignment goes once every reader is rewritten."""

    name: str
    readers: tuple[Span, ...]


@dataclass(frozen=True)
class HoistPlan(Plan):
    function: str  # where the call is: "name" or "Class.name"
    call: Span  # the call that becomes `accessor()`
    accessor: str  # the module-level function that builds it once
    built_by: str  # the expression the accessor evaluates (locals inlined)
    before: str  # the top-level def or class the accessor goes above
    closed_test: str | None  # for connections: the test that says it was closed, with {name}
    # The accessors built_by calls (a session's, for a client made from it), added with this one.
    requires: tuple[HoistPlan, ...] = ()
    dead: tuple[DeadLocal, ...] = ()  # locals whose reads this hoist (with others) moves into accessors
    # The call is all that `before`, a module function without parameters, returns: that function is
    # the accessor, decorated where it stands, and the call stays.
    decorates: bool = False
    # Locals the accessor assigns before it builds the call, in order: (name, value), for values read
    # once per environment that built_by reads (a secret fetched under a fixed name, parsed).
    setup: tuple[tuple[str, str], ...] = ()

    def functions(self) -> tuple[str, ...]:
        return (self.before,)  # the call itself is found by its span


@dataclass
class _Hoist:
    """A call that is built once per environment, before its accessor is named: which accessor it gets
    depends on the other hoists of its function (a session local that a client is made from)."""

    call: ClientCall
    function: FunctionNode
    message: str
    built_by: str
    inlined: frozenset[str]  # the locals built_by spells out, at any depth
    unsafe: bool
    pinned: dict[str, _Hoist] = field(default_factory=dict)  # local -> the hoist of its value
    accessor: str | None = None
    # Changed after it is built (`client.meta.events.register(...)`): only its factory, cached whole where it
    # stands, builds it once, and that factory is the accessor of this call alone.
    configured: bool = False
    setup: tuple[tuple[str, str], ...] = ()  # HoistPlan.setup


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: some function of module calls what the flow would take for a client factory
    (flow._client_factory). Without one, find finds nothing.

    Such a call ends in a factory's own name, or in a name an import binds to a factory (`from boto3
    import client as make`), so only the statements whose text holds one are walked."""
    return _builds_clients(module) or any(_builds_clients(found) for found in imported_modules(project, module))


def may_find_in_helper(project: Project, module: ModuleInfo) -> bool:
    """The first test for a module without a handler, which handlers of other modules may call into:
    its own functions build clients (the fix is made there), and it is the project's code, not a
    library vendored beside it (boto3 in a layer's `python/` directory)."""
    return _builds_clients(module) and not project.vendored(module.path)


def _builds_clients(module: ModuleInfo) -> bool:
    """Asked once per module, however many handlers import it: the answer is kept on its tree."""
    return bool(remembered(module.tree, "builds_clients", lambda: _calls_a_factory(module)))


def _calls_a_factory(module: ModuleInfo) -> bool:
    aliases = {name for name, ref in module.imports.items() if ref.dotted in CLIENT_FACTORIES}
    return any(may_build_client(module, call)
               for call in calls_in_functions(module.statements_naming(FACTORY_CALL_NAMES | aliases)))


def find(context: Context) -> list[Diagnosis]:
    project, module, flows = context.project, context.module, context.flows
    found, elsewhere = _judged_calls(project, module, flows, frozenset())
    # Factories cached where they stand are accessors: a client made from what one returns is fixed
    # too (`get_session().client("s3")`), which is judged again knowing it.
    decorated = frozenset(h.call.function[1] for h in found.values()
                          if isinstance(h, _Hoist) and _factory_to_cache(module, h))
    if decorated:
        found, elsewhere = _judged_calls(project, module, flows, decorated)
    return [*_planned(module, list(found.values()), decorated), *elsewhere.values()]


def _judged_calls(project: Project, module: ModuleInfo, flows: list[HandlerFlow], decorated: frozenset[str]
                  ) -> tuple[dict[tuple[str, int], Diagnosis | _Hoist], dict[tuple[str, str, int], Diagnosis]]:
    """Each client call the handlers reach, judged: here, by (function, call); in other modules, by place.
    decorated: the module's functions that the fix caches where they stand."""
    found: dict[tuple[str, int], Diagnosis | _Hoist] = {}
    elsewhere: dict[tuple[str, str, int], Diagnosis] = {}
    hoisted: list[ast.Call] = []  # calls a fix builds once: what they contain is built once with them
    for flow in flows:
        # Outer calls first: `boto3.Session(...).resource(...)` is hoisted whole, session included,
        # so the session gets no accessor (and no finding) of its own.
        for call in sorted(flow.client_calls, key=_outer_first):
            if call.function[0] != module.path:
                place = (*call.function, call.node.lineno)
                if place not in elsewhere:
                    finding = _in_another_module(project, module, flow, call)
                    if finding is not None:
                        elsewhere[place] = finding
                continue
            key = (call.function[1], id(call.node))
            if key in found or any(call.node is not outer and _contains(outer, call.node) for outer in hoisted):
                continue
            finding = _judge(project, module, flow, call, decorated)
            if finding is not None:
                found[key] = finding
                if isinstance(finding, _Hoist):
                    hoisted.append(call.node)
    return found, elsewhere


def _planned(module: ModuleInfo, judged: list[Diagnosis | _Hoist], decorated: frozenset[str]) -> list[Diagnosis]:
    """The hoists of each function as one edit: a local that only the hoisted calls read goes with its
    assignment; a session local that one client is made from is built inside that client's accessor,
    and one that more clients or other code read gets an accessor of its own that the clients' call."""
    hoists = [h for h in judged if isinstance(h, _Hoist)]
    by_function: dict[FunctionKey, list[_Hoist]] = {}
    for hoist in hoists:
        by_function.setdefault(hoist.call.function, []).append(hoist)
    inside: set[int] = set()  # hoists whose call is built inside a reader's accessor, with the session
    dead: dict[FunctionKey, set[str]] = {}
    for key, group in by_function.items():
        function = group[0].function
        dead[key] = _dead_locals(module, function, group, decorated)
        for hoist in group:
            name = _local_holding(function, hoist.call.node)
            readers = [h for h in group if h is not hoist and name is not None and name in h.inlined]
            if not readers:
                continue
            if name in dead[key] and len(readers) == 1 and not readers[0].unsafe:
                inside.add(id(hoist))
            else:
                for reader in readers:
                    reader.pinned[name] = hoist  # type: ignore[index]
    accessors: dict[str, str] = {}  # built_by's tree -> accessor name, so one expression gets one accessor
    kept = [h for h in hoists if id(h) not in inside]
    factories: dict[str, _Hoist] = {}  # factory functions that become accessors, by name
    for hoist in kept:  # a configured client's factory first: an equal call elsewhere is no call of it
        if hoist.configured:
            hoist.accessor = hoist.call.function[1]
            factories[hoist.accessor] = hoist
    for hoist in kept:
        same = _accessor_key(hoist)
        if same not in accessors and not hoist.configured and _factory_to_cache(module, hoist):
            hoist.accessor = accessors[same] = hoist.call.function[1]
            factories[hoist.accessor] = hoist
    for hoist in kept:
        _name(module, hoist, accessors, decorated)
    plans: dict[int, HoistPlan] = {}
    for hoist in kept:
        _plan(module, hoist, kept, dead, factories, plans)
    result = []
    for item in judged:
        if isinstance(item, Diagnosis):
            result.append(item)
        elif id(item) in plans:
            plan = plans[id(item)]
            node = item.call.node
            title = f"cache `{plan.accessor}`, which builds {'and configures ' if item.configured else ''}it" \
                if plan.decorates else f"build it once per environment with `{plan.accessor}()`"
            result.append(Diagnosis(
                CODE, node.lineno, node.col_offset, item.message, title,
                Applicability.UNSAFE if item.unsafe else Applicability.SAFE, plan))
    return result


def _name(module: ModuleInfo, hoist: _Hoist, accessors: dict[str, str], decorated: frozenset[str]) -> None:
    """Give hoist its accessor, after the accessors its built_by calls: equal expressions share one."""
    if hoist.accessor is not None:
        return
    if hoist.pinned:
        for source in hoist.pinned.values():
            _name(module, source, accessors, decorated)
        built_by, _, inlined, setup = _inline(module, hoist.function, hoist.call.node,
                                              {name: f"{source.accessor}()" for name, source in hoist.pinned.items()},
                                              decorated)
        if built_by is not None:
            hoist.built_by, hoist.inlined, hoist.setup = built_by, inlined, setup
        else:  # cannot happen: the same call inlined without the accessors
            hoist.pinned.clear()
    same = _accessor_key(hoist)
    hoist.accessor = accessors.get(same) or _accessor_name(module, hoist.call, set(accessors.values()))
    accessors[same] = hoist.accessor


def _plan(module: ModuleInfo, hoist: _Hoist, hoists: list[_Hoist], dead: Mapping[FunctionKey, set[str]],
          factories: Mapping[str, _Hoist], plans: dict[int, HoistPlan]) -> HoistPlan:
    if id(hoist) in plans:
        return plans[id(hoist)]
    call = hoist.call
    spans = {id(h): Span(*module.span(h.call.node)) for h in hoists if h.call.function == call.function}
    gone = tuple(DeadLocal(name, tuple(spans[id(h)] for h in hoists
                                       if h.call.function == call.function and name in h.inlined))
                 for name in sorted(dead[call.function] & hoist.inlined))
    factory = factories.get(hoist.accessor or "")
    sources = [*hoist.pinned.values(), *([factory] if factory is not None and factory is not hoist else [])]
    requires = tuple(_plan(module, source, hoists, dead, factories, plans) for source in sources)
    plan = HoistPlan(call.function[1], spans[id(hoist)], hoist.accessor or "", hoist.built_by,
                     call.function[1].split(".")[0], CLOSED_TESTS.get(call.factory), requires,
                     () if factory is hoist else gone, decorates=factory is hoist, setup=hoist.setup)
    plans[id(hoist)] = plan
    return plan


def _factory_to_cache(module: ModuleInfo, hoist: _Hoist) -> bool:
    """Is the hoisted call all that a module-level function without parameters returns (`def
    connect_to_sns(): return boto3.client("sns")`)? That function, cached, is the accessor: its callers
    get one client for the environment, as they would from a new accessor it called, and no code is added.
    Before the `return` it may assign what the client is built from (`config = Config(...)`, which the
    hoist copies) and the client itself (`s3 = boto3.client(...); return s3`): the function stays whole.

    A client that is configured after it is built (`client.meta.events.register(...)`) is cached this way
    only: between its assignment and the `return`, the function may configure it (_configures), and the
    cached function configures the one client once.

    A test that patches the function itself (`mock.patch("app.connect_to_sns")`) replaces it, cache and
    all, for the test's duration; one that patches what it calls (`boto3`) is found by _patched_by_tests."""
    name, function = hoist.call.function[1], hoist.function
    if not isinstance(function, ast.FunctionDef) or function.decorator_list or function not in module.tree.body \
            or module.functions.get(name) is not function or module.binding_counts.get(name) != 1 \
            or name in module.rebound_in or name in module.imports or hoist.call.factory in CLOSED_TESTS:
        return False
    parameters = function.args
    if parameters.posonlyargs or parameters.args or parameters.vararg or parameters.kwonlyargs or parameters.kwarg:
        return False
    body = function.body[1:] if function.body and isinstance(function.body[0], ast.Expr) and isinstance(
        function.body[0].value, ast.Constant) and isinstance(function.body[0].value.value, str) else function.body
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return False
    returned = body[-1].value
    holder = returned.id if isinstance(returned, ast.Name) else None
    assigned: dict[str, ast.expr] = {}
    configuring = False  # past the client's assignment: only its configuration may follow
    for stmt in body[:-1]:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else \
            stmt.target if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else None
        if configuring and holder is not None and _configures(module, stmt, holder):
            continue
        if configuring or not isinstance(target, ast.Name) or target.id in assigned:
            return False
        assigned[target.id] = stmt.value  # type: ignore[union-attr]
        configuring = hoist.configured and stmt.value is hoist.call.node
    if holder is None or assigned.get(holder) is not hoist.call.node:
        holder = None
    if returned is not hoist.call.node and holder is None:
        return False
    return all(local in hoist.inlined or local == holder for local in assigned)


def _configures(module: ModuleInfo, stmt: ast.stmt, holder: str) -> bool:
    """Does stmt only configure the client named holder (`holder.meta.events.register("...", add_header)`,
    `holder.retries = 3`, `setattr(holder, ...)`), from what is fixed for the environment: constants, imports,
    module constants and the module's functions? Then a cached factory runs it once, as it builds once."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        chain = _attribute_chain(call.func)
        if chain is not None and chain[0] == holder:
            changes = "meta" in chain[1:] or chain[-1] in _REGISTERING
        else:
            changes = module.qualified_name(call.func) in ("setattr", "delattr") and bool(call.args) \
                and isinstance(call.args[0], ast.Name) and call.args[0].id == holder
        reads: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
    elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        changes = all(isinstance(t, (ast.Attribute, ast.Subscript)) and _root_name(t) == holder for t in targets)
        reads = [stmt.value, *(n.slice for t in targets for n in ast.walk(t) if isinstance(n, ast.Subscript))]
    else:
        return False
    return changes and all(_fixed(module, node, holder) for read in reads for node in ast.walk(read))


def _fixed(module: ModuleInfo, node: ast.AST, holder: str) -> bool:
    """Is node, read by a configuration step, the same on every invocation?"""
    if isinstance(node, ast.Call):
        return module.qualified_name(node.func) in _ENVIRONMENT_CALLS
    if isinstance(node, ast.Name):
        name = node.id
        return name == holder or name in module.imports or (name in _BUILTINS and not module.binding_counts.get(name)) \
            or _module_constant(module, name) or (name in module.functions and module.binding_counts.get(name) == 1
                                                  and name not in module.rebound_in)
    return not isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda))


def _attribute_chain(expr: ast.expr) -> list[str] | None:
    """`a.b.c` -> ["a", "b", "c"]; None for what is not a name followed by attributes."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    return [expr.id, *reversed(parts)] if isinstance(expr, ast.Name) else None


def _root_name(expr: ast.expr) -> str | None:
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


# Methods that add to what an object does on every later call (botocore's `session.register(...)`).
_REGISTERING = frozenset({"register", "register_first", "register_last", "unregister"})
# Attributes of a client that are only read (`except s3.exceptions.NoSuchKey`).
_READ_ONLY = frozenset({"exceptions"})
# Calls that change the object they are given.
_CHANGES_ITS_ARGUMENT = frozenset({"setattr", "delattr", "botocore.stub.Stubber"})


def _configured_at(module: ModuleInfo, function: FunctionNode, call: ast.Call) -> int | None:
    """The first line where function changes the object call builds, after building it, or None: a method
    call through its `meta` (`client.meta.events.register(...)`, which a resource's `meta.client` passes
    on), a registering method (`session.register(...)`), an attribute set or deleted (`client.retries = 3`,
    `setattr(client, ...)`), a method of one of its attributes (`session.hooks["response"].append(...)`),
    or a call of a function of the module that does one of those to it. Calling the client's own methods,
    reading its `exceptions` and passing it to other calls only use it."""
    return _changed_at(module, function, [call], _holders(function, call), 0)


def _holders(function: FunctionNode, call: ast.Call) -> set[str]:
    """The names call's value is bound to: `client = ...`, `client: S3Client = ...`, `(client := ...)`,
    through a conditional expression (`... if x else None`) too."""
    nodes = every_node(function)
    parents = remembered(function, "lf004_parents", lambda: {id(c): n for n in nodes for c in children(n)})
    names: set[str] = set()
    node: ast.AST = call
    while True:
        parent = parents.get(id(node))
        if isinstance(parent, (ast.IfExp, ast.BoolOp)) and node is not getattr(parent, "test", None):
            node = parent
        elif isinstance(parent, ast.NamedExpr):
            names.add(parent.target.id)
            node = parent
        elif isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            return names
        else:
            return names


def _changed_at(module: ModuleInfo, function: FunctionNode, roots: list[ast.expr], names: set[str],
                depth: int) -> int | None:
    """_configured_at for the object that roots evaluate to and that names hold (a parameter, in a function
    it is passed to: depth calls down)."""
    nodes = every_node(function)
    parents = remembered(function, "lf004_parents", lambda: {id(c): n for n in nodes for c in children(n)})
    names = set(names)
    subjects: list[ast.AST] = [*roots, *(n for n in nodes if isinstance(n, ast.Name) and n.id in names
                                          and isinstance(n.ctx, ast.Load))]
    lines: list[int] = []
    while subjects:
        subject = subjects.pop()
        parent = parents.get(id(subject))
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is subject:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            aliases = {t.id for t in targets if isinstance(t, ast.Name)} - names  # `other = client`: the same
            names |= aliases
            subjects.extend(n for n in nodes if isinstance(n, ast.Name) and n.id in aliases
                            and isinstance(n.ctx, ast.Load))
        elif isinstance(parent, ast.Attribute):
            above = parents.get(id(parent))
            if isinstance(parent.ctx, (ast.Store, ast.Del)):
                lines.append(parent.lineno)
            elif parent.attr == "meta":
                if isinstance(above, ast.Attribute) and above.attr == "client" and isinstance(above.ctx, ast.Load):
                    subjects.append(above)  # a resource's client: changed only through what is done to it
                else:
                    lines.append(parent.lineno)
            elif isinstance(above, ast.Call) and above.func is parent:
                if parent.attr in _REGISTERING:
                    lines.append(parent.lineno)
            elif parent.attr not in _READ_ONLY and _changed_through(parent, parents):
                lines.append(parent.lineno)
        elif isinstance(parent, (ast.Call, ast.keyword, ast.Starred)):
            call = parents.get(id(parent)) if not isinstance(parent, ast.Call) else parent
            if not isinstance(call, ast.Call) or call.func is subject:
                continue
            if module.qualified_name(call.func) in _CHANGES_ITS_ARGUMENT \
                    or _changed_by_callee(module, call, subject, depth):
                lines.append(call.lineno)
    return min(lines) if lines else None


def _changed_through(attribute: ast.Attribute, parents: Mapping[int, ast.AST]) -> bool:
    """Is the object an attribute reads changed there (`client.hooks["response"].append(...)`,
    `client.headers["x"] = ...`)? Going up from it through attributes and subscripts, a store, or a
    method call on what was reached."""
    node: ast.AST = attribute
    while True:
        parent = parents.get(id(node))
        if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node:
            if isinstance(parent.ctx, (ast.Store, ast.Del)):
                return True
            node = parent
            continue
        return isinstance(parent, ast.Call) and parent.func is node and node is not attribute


def _changed_by_callee(module: ModuleInfo, call: ast.Call, subject: ast.AST, depth: int) -> bool:
    """Does a function of the module that call calls with subject change it? One that cannot be told
    (a `*args` argument, a parameter not found, three calls deep) is taken to."""
    if not isinstance(call.func, ast.Name) or call.func.id in module.imports:
        return False  # not the module's own: it only uses the client
    callee = module.functions.get(call.func.id)
    if callee is None:
        return False
    if depth >= 3:
        return True
    parameters = [*callee.args.posonlyargs, *callee.args.args]
    parameter = None
    for index, argument in enumerate(call.args):
        if argument is subject:
            parameter = parameters[index].arg if index < len(parameters) else None
    for keyword_argument in call.keywords:
        if keyword_argument.value is subject and keyword_argument.arg is not None:
            parameter = keyword_argument.arg
    if parameter is None:
        return True
    return _changed_at(module, callee, [], {parameter}, depth + 1) is not None


def _local_holding(function: FunctionNode, call: ast.Call) -> str | None:
    """The local that call's value is assigned to (`session = boto3.Session()`), when that is its only
    assignment."""
    names = _bound_to(function, call)
    if len(names) != 1:
        return None
    [name] = names
    return name if assigned_once(function, name) is call and name in scope_bindings(function).local else None


# Calls that read a function's locals by name: with one of them, no local is known to be unread.
_READS_LOCALS = frozenset({"locals", "vars", "eval", "exec", "dir"})


def _dead_locals(module: ModuleInfo, function: FunctionNode, hoists: list[_Hoist], decorated: frozenset[str]
                 ) -> set[str]:
    """The locals the hoisted calls spell out (inline) that nothing else reads: every read is in a hoisted
    call or in the value of another such local. Each is assigned once, by a statement of the function's
    own, from what the hoist copied (environment settings, constants, sessions), which does nothing but
    build a value. Under `try` or `with` only a value that cannot fail goes: the handler may catch what
    it raises (an environment variable that is not set), which the accessor would raise elsewhere."""
    nodes = every_node(function)
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _READS_LOCALS
           and n.func.id in _BUILTINS for n in nodes):
        return set()
    statements = _plain_assignments(function)
    values = {name: statements[name][0].value for name in set().union(*(h.inlined for h in hoists))
              if name in statements and assigned_once(function, name) is statements[name][0].value
              and not (statements[name][1] and _may_fail(module, statements[name][0].value, decorated))}
    hoisted = set().union(*({id(n) for n in ast.walk(h.call.node)} for h in hoists))
    within = {name: {id(n) for n in ast.walk(value)} for name, value in values.items()}
    declared = {name for n in nodes if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    dead = set(values) - declared
    changed = True
    while changed:
        changed = False
        for name in sorted(dead):
            target = statements[name][0].targets[0]
            for node in nodes:
                if not isinstance(node, ast.Name) or node.id != name or node is target:
                    continue
                if isinstance(node.ctx, ast.Load) and (id(node) in hoisted or any(
                        id(node) in within[other] for other in dead if other != name)):
                    continue
                dead.discard(name)
                changed = True
                break
    return dead


# Calls of a value a hoist copies that cannot fail (the others fail on a setting that is wrong or missing).
_CANNOT_FAIL = frozenset({"os.environ.get", "os.getenv", "str", "bool"})


def _may_fail(module: ModuleInfo, value: ast.expr, decorated: frozenset[str]) -> bool:
    return any(isinstance(n, ast.Subscript) or (isinstance(n, ast.Call) and module.qualified_name(n.func)
                                                not in _CANNOT_FAIL and not _cached_accessor(module, n, decorated))
               for n in ast.walk(value))


def _plain_assignments(function: FunctionNode) -> dict[str, tuple[ast.Assign, bool]]:
    """`name = value` statements of the function's own body, at any depth but inside no nested function
    or class, by name, each with whether a `try` or `with` guards it."""
    found: dict[str, tuple[ast.Assign, bool]] = {}

    def visit(statements: list[ast.stmt], guarded: bool) -> None:
        for stmt in statements:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                found.setdefault(stmt.targets[0].id, (stmt, guarded))
            elif isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
                visit(stmt.body, guarded)
                visit(stmt.orelse, guarded)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                visit(stmt.body, True)
            elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
                for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                    visit(block, True)

    visit(function.body, False)
    return found


def _outer_first(call: ClientCall) -> tuple[int, int, int, int]:
    """Source order, an enclosing call before the calls inside it (it starts no later, ends no sooner)."""
    node = call.node
    return node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0)


def _in_another_module(project: Project, module: ModuleInfo, flow: HandlerFlow, call: ClientCall) -> Diagnosis | None:
    """A client that a helper of another project module builds on every invocation (a `get_table()` that
    builds `boto3.resource(...)`): reported where the handler's module calls into that module, when it
    could be built once there. The fix belongs in that module, which this run does not rewrite."""
    owner = project.module_at(call.function[0])
    function = flow.reached.get(call.function)
    if project.in_run(call.function[0]):
        return None  # found (and fixed) where it is built, when that module is checked
    if owner is None or function is None or call.per_request or _already_cached(owner, function, call.node) \
            or _cached_by_a_caller(project, module, flow, call):
        return None
    built_by, problem, inlined, _ = _inline(owner, function, call.node)
    if owner.suppressed(call.node.lineno, CODE) or _why_not(owner, function, call) is not None \
            or problem is not None or built_by is None:
        return None  # reported (or not) where it is, when that module is checked as a handler's
    if _configured_at(owner, function, call.node) is not None and not _factory_to_cache(
            owner, _Hoist(call, function, "", built_by, inlined, False, configured=True)):
        return None
    entry = next(((line, caller) for caller, _, line in flow.call_chain(call.function) if caller[0] == module.path),
                 None)
    if entry is None or module.suppressed(entry[0], CODE):
        return None
    line, _ = entry
    text = module.lines[line - 1] if 0 < line <= len(module.lines) else ""
    column = len(text.encode()) - len(text.lstrip().encode())
    source = owner.segment(call.node) or call.factory
    where = f"`{call.function[1]}` of {owner.name or owner.path}"
    message = (f"`{_short(source)}` builds a new client on every invocation of `{flow.handler[1]}` (in {where}, "
               f"line {call.node.lineno})")
    shown = os.path.relpath(owner.path)
    reason = (f"it is built in another module, which this run does not check; run lambda-fix on "
              f"{owner.path if shown.startswith('..') else shown} too, and it is built once per environment there")
    related = ((call.function[0], call.node.lineno, f"`{call.function[1]}` builds it"),)
    return Diagnosis.reported(CODE, line, column, message, reason, verb="hoisted", related=related)


def _judge(project: Project, module: ModuleInfo, flow: HandlerFlow, call: ClientCall, decorated: frozenset[str]
           ) -> Diagnosis | _Hoist | None:
    function = flow.reached[call.function]
    source = module.segment(call.node) or call.factory
    # Where it is kept: the call itself, or a caller's call whose result a cache keeps.
    kept = (call.function, function, call.node) if _already_cached(module, function, call.node) else (
        _cached_by_a_caller(project, module, flow, call) if call.function != flow.handler else None)
    if kept is not None:
        where, keeper, site = kept
        if not call.per_request or _keyed_by_request(keeper, site, flow.tainted_names.get(where, frozenset())) \
                or module.suppressed(call.node.lineno, CODE):
            return None  # built once per environment, or once per tenant: what a cache should do
        return Diagnosis(CODE, call.node.lineno, call.node.col_offset, (
            f"`{_short(source)}` is built from the first request's data and kept for the environment: later "
            "requests get a client made with another request's settings; not fixed: cache it per key "
            "(a dict keyed by what the request chooses), or build it per request"))
    where = "the handler" if call.function == flow.handler else f"`{call.function[1]}`"
    what = {"connection": "opens a new connection", "session": "creates a new session"}.get(
        _noun(call.factory), "builds a new client")
    handler = f"`{flow.handler[1]}`" if flow.handler[0] == module.path else \
        f"`{flow.handler[1]}` of {_module_called(project, flow.handler[0])}"
    message = f"`{_short(source)}` {what} on every invocation of {handler} (in {where})"
    if module.suppressed(call.node.lineno, CODE):
        return None
    reason = _why_not(module, function, call, flow.tainted_names.get(call.function, frozenset())) or \
        _patched_by_tests(project, module, call)
    built_by, inlined, setup = None, frozenset(), ()
    if reason is None:
        built_by, reason, inlined, setup = _inline(module, function, call.node, decorated=decorated)
    if reason is None and built_by is not None:
        configured = _configured_at(module, function, call.node)
        # A value read once per environment instead of once per invocation (a secret): a rotated one
        # reaches the next environment, not the running one.
        unsafe = call.factory in STATEFUL_FACTORIES or bool(setup) or any(
            isinstance(n, ast.Call) and _fetches(module, n) for n in ast.walk(call.node))
        hoist = _Hoist(call, function, message, built_by, inlined, unsafe, configured=configured is not None,
                       setup=setup)
        if configured is None or _factory_to_cache(module, hoist):
            return hoist
        reason = _configured_reason(call, configured)
    return Diagnosis.reported(CODE, call.node.lineno, call.node.col_offset, message, reason, verb="hoisted")


def _configured_reason(call: ClientCall, line: int) -> str:
    noun = _noun(call.factory)
    return (f"it is configured after it is built (line {line}): a shared {noun} would be configured again on "
            "every invocation")


def _noun(factory: str) -> str:
    return "connection" if factory in CLOSED_TESTS else \
        "session" if "Session" in factory or "session" in factory.split(".")[-1] else "client"


def _module_called(project: Project, path: str) -> str:
    found = project.module_at(path)
    return f"`{found.name}`" if found is not None and found.name else path


def _patched_by_tests(project: Project, module: ModuleInfo, call: ClientCall) -> str | None:
    """A test of the project that patches the factory (`mock.patch("app.boto3")`, `monkeypatch.setattr(boto3,
    "client", ...)`) around each handler call would see its later patches miss a client built once."""
    stem = module.name.rsplit(".", 1)[-1] if module.name else ""
    if not stem:
        return None
    root = call.node.func
    while isinstance(root, (ast.Attribute, ast.Call)):
        root = root.value if isinstance(root, ast.Attribute) else root.func
    words = dict.fromkeys([call.factory.split(".")[0], *([root.id] if isinstance(root, ast.Name) else [])])
    for word in words:
        if project.patched_elsewhere(module.path, stem, word):
            return (f"a test of the project patches `{word}`, and a client built once per environment would keep "
                    "the first test's mock, out of reach of the later tests' patches")
    for variable in _environment_read(module, call.node):
        if project.patched_elsewhere(module.path, stem, variable):
            return (f"a test of the project sets `{variable}`, which the client is built from, and a client built "
                    "once per environment would keep the first test's value")
    return None


def _environment_read(module: ModuleInfo, node: ast.AST) -> list[str]:
    """The environment variables node reads by a constant name: `getenv("X")`, `os.environ["X"]`,
    `os.environ.get("X")`."""
    found = []
    for inner in ast.walk(node):
        key = None
        if isinstance(inner, ast.Call) and inner.args and (
                module.qualified_name(inner.func) in ("os.getenv", "os.environ.get")):
            key = inner.args[0]
        elif isinstance(inner, ast.Subscript) and module.qualified_name(inner.value) == "os.environ":
            key = inner.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append(key.value)
    return found


def _short(source: str) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def _already_cached(module: ModuleInfo, function: FunctionNode, call: ast.Call) -> bool:
    """Built inside a cached function, in a cache-miss branch, or stored at module level."""
    if _is_cached(module, function):
        return True
    bindings = scope_bindings(function)
    declared = bindings.declared_global
    for node in every_node(function):
        # A cache-miss branch (`if key not in CACHE:`, `if CLIENT is None:`) runs once per environment.
        if isinstance(node, ast.If) and any(_contains(stmt, call) for stmt in node.body) and any(
                isinstance(n, ast.Name) and (n.id in module.state or n.id in declared) for n in ast.walk(node.test)):
            return True
        if isinstance(node, ast.If) and any(_contains(stmt, call) for stmt in node.body) \
                and _fills_what_it_tests(node, bindings.local | set(bindings.params)):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _contains(node.value, call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                root = target
                while isinstance(root, (ast.Subscript, ast.Attribute)):
                    root = root.value
                if isinstance(root, ast.Name) and (root.id in declared or (
                        root is not target and root.id in module.state)):
                    return True
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id == "self":
                    return True  # kept on an object, whose life the analysis does not follow
    return False


def _fills_what_it_tests(branch: ast.If, local: set[str]) -> bool:
    """`if "ssm" not in PROVIDERS: PROVIDERS["ssm"] = make()`: the branch stores into a container its
    test looks in, and the container is no local of the function (imported from another module, say),
    so what the branch builds is kept, and built once."""
    tested = {n.id for n in ast.walk(branch.test) if isinstance(n, ast.Name)} - local
    for stmt in branch.body:
        for node in ast.walk(stmt):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                        and target.value.id in tested:
                    return True
    return False


def _cached_by_a_caller(project: Project, module: ModuleInfo, flow: HandlerFlow,
                        call: ClientCall) -> tuple[FunctionKey, FunctionNode, ast.Call] | None:
    """A call on the way from the handler to the function that builds the client that is itself
    cached (`if "ssm" not in PROVIDERS: PROVIDERS["ssm"] = SSMProvider()`, whose `__init__` builds
    it): (its function's key, the function, the call)."""
    for caller, _, line in flow.call_chain(call.function):
        owner = module if caller[0] == module.path else project.module_at(caller[0])
        function = flow.reached.get(caller)
        if owner is None or function is None:
            continue
        for node in every_node(function):
            if isinstance(node, ast.Call) and node.lineno == line and _already_cached(owner, function, node):
                return caller, function, node
    return None


def _keyed_by_request(function: FunctionNode, call: ast.Call, per_request: frozenset[str]) -> bool:
    """Is the cache the call is stored in keyed by request data (`clients[region] = boto3.client(...,
    region_name=region)`), so each request gets the client made for its own settings?"""
    for node in every_node(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _contains(node.value, call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and any(
                        isinstance(n, ast.Name) and n.id in per_request for n in ast.walk(target.slice)):
                    return True
    return False


def _contains(expr: ast.AST, call: ast.Call) -> bool:
    return any(n is call for n in ast.walk(expr))


def _why_not(module: ModuleInfo, function: FunctionNode, call: ClientCall,
             tainted: frozenset[str] = frozenset()) -> str | None:
    if call.per_request:
        settings = _per_request_settings(module, call.node, tainted)
        if settings and all(name in _FEW_VALUED for name, _ in settings):
            name, value = settings[0]
            return (f"it is built for the request's `{name}` (`{_short(value)}`): one client per value, cached "
                    f"(`functools.lru_cache` on a function of the `{name}`), would serve each request with its "
                    f"own; that is not written for you, as how many values the `{name}` takes is not known")
        return ("it is built from per-request data (the event or per-request credentials); one shared client "
                "would serve a request with another request's settings")
    if call.factory in _LOOP_BOUND:
        return ("an async client belongs to the event loop it was made in, and a handler that runs a new loop "
                "per invocation (`asyncio.run`) would find a shared one bound to a closed loop")
    names = _bound_to(function, call.node)
    for node in every_node(function):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.context_expr is call.node or (isinstance(item.context_expr, ast.Name)
                                                      and item.context_expr.id in names):
                    return "it is used as a context manager, which closes it at the end of the block"
                if isinstance(item.context_expr, ast.Call) and _contains(item.context_expr, call.node) \
                        and module.qualified_name(item.context_expr.func) == "contextlib.closing":
                    return "the handler closes it"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "close" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in names:
            return f"the handler closes it (line {node.lineno})"
    if "functools" in module.imports and module.imports["functools"].module != "functools" or (
            "functools" not in module.imports and module.binding_counts.get("functools")):
        return "the module binds `functools` to something else"
    return None


# Settings a client may be built for per request that take few values: one client per value serves.
_FEW_VALUED = frozenset({"region_name", "region", "endpoint_url"})


def _per_request_settings(module: ModuleInfo, call: ast.Call, tainted: frozenset[str]) -> list[tuple[str, str]]:
    """The keyword arguments of call that read request data (names tainted in the function), with
    their text; [("*", ...)] when a positional argument or the receiver does."""
    def reads(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id in tainted for n in ast.walk(node))

    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if any(reads(a) for a in call.args) or (receiver is not None and reads(receiver)):
        return [("*", "")]
    return [(k.arg or "*", module.segment(k.value) or "") for k in call.keywords if reads(k.value)]


def _bound_to(function: FunctionNode, call: ast.Call) -> set[str]:
    names = set()
    for node in every_node(function):
        if isinstance(node, ast.Assign) and node.value is call:
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _inline(module: ModuleInfo, function: FunctionNode, call: ast.Call, pinned: Mapping[str, str] = {},
            decorated: frozenset[str] = frozenset()
            ) -> tuple[str | None, str | None, frozenset[str], tuple[tuple[str, str], ...]]:
    """The call's source with locals replaced by what they were assigned, or why it cannot be, and the
    locals replaced (at any depth). pinned: locals replaced by the given text (an accessor's call);
    decorated: the module's functions the fix caches where they stand, accessors like those it writes.

    Everything it reads must be fixed for the life of the environment: constants, imports, module
    constants, environment variables, values fetched under fixed names (secrets and parameters, and
    what is parsed from them: _reads_a_fixed_value), and locals assigned once from those. A local whose
    value fetches something is not spelled out but assigned first in the accessor (the setup, also
    returned), so the fetch runs once however often the call reads it.
    """
    substitutions: dict[str, _Inlined] = {}
    setup: list[tuple[str, str]] = []
    problem = _check(module, function, call, substitutions, depth=0, client=call, pinned=pinned, decorated=decorated,
                     setup=setup)
    if problem:
        return None, problem, frozenset(), ()
    source = module.segment(call)
    if source is None:
        return None, "its source could not be located", frozenset(), ()
    text = _dedent(module, call, _substitute(module, call, source, substitutions))
    replaced = frozenset(substitutions) | {name for name, _ in setup}
    return (_one_argument_a_line(text) if substitutions else text), None, replaced, tuple(setup)


def _cached_accessor(module: ModuleInfo, call: ast.Call, decorated: frozenset[str] = frozenset()) -> bool:
    """`_boto3_session()`: a module function, `functools.cache`d, called without arguments, gives the
    same object for the life of the environment (the accessors this rule writes are such functions)."""
    if call.args or call.keywords or not isinstance(call.func, ast.Name):
        return False
    function = module.functions.get(call.func.id)
    return function is not None and call.func.id not in module.imports and (
        _is_cached(module, function) or call.func.id in decorated)


def _is_cached(module: ModuleInfo, function: FunctionNode) -> bool:
    """Decorated with `functools.cache`, `lru_cache` or `cached_property`."""
    return any(module.qualified_name(d.func if isinstance(d, ast.Call) else d) in _CACHING_DECORATORS
               for d in function.decorator_list)


def _names_cached_accessor(module: ModuleInfo, expr: ast.AST, name: ast.Name, decorated: frozenset[str]) -> bool:
    """Is name the function of a `_cached_accessor` call within expr?"""
    return any(isinstance(n, ast.Call) and n.func is name and _cached_accessor(module, n, decorated)
               for n in ast.walk(expr))


# The longest `return <call>` line an accessor gets before its arguments go one a line, as black's.
_LINE_LENGTH = 88


def _one_argument_a_line(text: str, indent: int = 4, used: int = len("    return ")) -> str:
    """A call that inlined locals made longer than a line: one argument a line, with a trailing comma,
    as black lays it out, and so on into an argument that is still too long. A call written over several
    lines keeps its own layout. indent: the columns of the line's indentation; used: the columns taken
    before text."""
    if "\n" in text or used + len(text) + 1 <= _LINE_LENGTH:
        return text
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    if not isinstance(call, ast.Call) or not (call.args or call.keywords):
        return text
    head = ast.get_source_segment(text, call.func)
    lines = []
    for part in sorted([*call.args, *call.keywords], key=lambda n: (n.lineno, n.col_offset)):
        prefix, value = (f"{part.arg}=", part.value) if isinstance(part, ast.keyword) and part.arg else ("", part)
        segment = ast.get_source_segment(text, value)
        if head is None or segment is None:
            return text
        inner = _one_argument_a_line(segment, indent + 4, indent + 4 + len(prefix))
        lines.append(f"    {prefix}{inner}".replace("\n", "\n    ") + ",")
    return head + "(\n" + "\n".join(lines) + "\n)"


def _dedent(module: ModuleInfo, call: ast.Call, text: str) -> str:
    """Continuation lines lose the indentation of the line the call started on."""
    first_line = module.source.splitlines()[call.lineno - 1]
    indent = first_line[: len(first_line) - len(first_line.lstrip())]
    lines = text.split("\n")
    return "\n".join([lines[0], *(line[len(indent):] if line.startswith(indent) else line.lstrip()
                                   for line in lines[1:])])


@dataclass(frozen=True)
class _Inlined:
    """What a local is replaced by: its value's text, the locals in it replaced too, and for a dict display
    whose keys are names (`{"region_name": "eu-west-1"}`), each key with its value's text, so that
    `**local` can become keyword arguments."""

    text: str
    value: ast.expr | None  # None for an accessor's call
    keywords: tuple[tuple[str, str], ...] | None = None

    def where(self, parent: ast.AST | None, name: ast.Name) -> str:
        """The text for the local read as name, whose parent node is parent: parenthesised where the
        value would bind otherwise than the name did."""
        if self.value is None or isinstance(self.value, _ATOMS):
            return self.text
        argument = isinstance(parent, (ast.keyword, ast.Starred)) or (
            isinstance(parent, ast.Call) and any(a is name for a in parent.args))
        if argument and not isinstance(self.value, (ast.Tuple, ast.GeneratorExp)):
            return self.text  # an argument is any expression, a tuple and a lone generator aside
        return f"({self.text})"


_ATOMS = (ast.Call, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Dict, ast.List, ast.Set,
          ast.DictComp, ast.ListComp, ast.SetComp)
# Displays that can be changed after they are assigned (`kwargs["profile_name"] = ...`).
_MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def _check(module: ModuleInfo, function: FunctionNode, expr: ast.AST, substitutions: dict[str, _Inlined],
           depth: int, client: ast.Call, pinned: Mapping[str, str], decorated: frozenset[str],
           setup: list[tuple[str, str]]) -> str | None:
    bindings = scope_bindings(function)
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and node is not client:
            name = module.qualified_name(node.func)
            if name not in _ENVIRONMENT_CALLS and not _cached_accessor(module, node, decorated) \
                    and not _reads_a_fixed_value(module, node) and not (depth and may_build_client(module, node)):
                return f"it depends on `{_short(module.segment(node) or '...')}`"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in bindings.params:
                return f"it depends on the parameter `{node.id}`"
            if node.id in pinned and node.id in bindings.local:
                substitutions[node.id] = _Inlined(pinned[node.id], None)
            elif any(name == node.id for name, _ in setup) or node.id in substitutions:
                continue
            elif node.id in bindings.local:
                value = assigned_once(function, node.id)
                if value is None or depth > 3:
                    return f"it depends on the local `{node.id}`"
                if isinstance(value, _MUTABLE) and not _only_passed_to_factories(module, function, node.id):
                    return f"it depends on the local `{node.id}`, which the function may change after assigning it"
                changed = _changed_at(module, function, [], {node.id}, 0)
                if changed is not None:
                    return (f"it is made from the local `{node.id}`, which is configured after it is built (line "
                            f"{changed}): a shared one would be configured again on every invocation")
                problem = _check(module, function, value, substitutions, depth + 1, client, pinned, decorated, setup)
                if problem:
                    return problem
                text = _substitute(module, value, module.segment(value) or "", substitutions)
                if any(isinstance(n, ast.Call) and _fetches(module, n) for n in ast.walk(value)):
                    setup.append((node.id, _dedent(module, value, text)))  # fetched once, however often read
                    setup.sort(key=lambda entry: _assigned_line(function, entry[0]))  # in the order of the code
                else:
                    substitutions[node.id] = _Inlined(text, value, _keywords(module, value, substitutions))
            elif node.id in module.imports or (node.id in _BUILTINS and not module.binding_counts.get(node.id)):
                continue
            elif node.id in module.functions and module.binding_counts.get(node.id) == 1 \
                    and _FETCHING_HELPER.search(node.id):
                continue  # a helper that fetches a secret or parameter (_reads_a_fixed_value)
            elif not _module_constant(module, node.id) and not _names_cached_accessor(module, expr, node, decorated):
                return f"it depends on `{node.id}`, which can change"
        elif isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
            return "it is not a plain expression"
    return None


# Values fixed for the environment that come from calls: a secret or parameter fetched under a fixed
# name (Powertools parameters, SSM, Secrets Manager, or a helper of the project named for one), and
# what is parsed or picked from it. The name itself is checked like any other argument.
_FETCH_METHODS = frozenset({"get_secret_value", "get_parameter", "get_parameters", "get_parameters_by_path"})
_PARSERS = frozenset({"json.loads", "base64.b64decode", "yaml.safe_load", "urllib.parse.quote_plus",
                      "urllib.parse.urlparse"})
_PURE_METHODS = frozenset({"get", "split", "rsplit", "strip", "lower", "upper", "format", "encode", "decode",
                           "replace", "partition", "rpartition", "removeprefix", "removesuffix"})
_FETCHING_HELPER = re.compile(r"(?i)secret|param|credential|setting|config")


def _assigned_line(function: FunctionNode, name: str) -> int:
    value = assigned_once(function, name)
    return value.lineno if value is not None else 0


def _reads_a_fixed_value(module: ModuleInfo, call: ast.Call) -> bool:
    """A fetch (_fetches), or a parse of what it gives (`json.loads(...)`, `secret.get("host")`)."""
    func = call.func
    if _fetches(module, call) or (module.qualified_name(func) or "") in _PARSERS:
        return True
    return isinstance(func, ast.Attribute) and func.attr in _PURE_METHODS and not isinstance(func.value, ast.Call)


def _fetches(module: ModuleInfo, call: ast.Call) -> bool:
    """A secret or parameter fetched (the name it is fetched under is checked like any argument)."""
    func = call.func
    if (module.qualified_name(func) or "").startswith("aws_lambda_powertools.utilities.parameters."):
        return True
    if isinstance(func, ast.Attribute):
        return func.attr in _FETCH_METHODS
    return isinstance(func, ast.Name) and func.id in module.functions and func.id not in module.imports \
        and bool(_FETCHING_HELPER.search(func.id)) and not scope_bindings(module.functions[func.id]).params[1:]


def _module_constant(module: ModuleInfo, name: str) -> bool:
    """Bound once at module level, never rebound by a function, not mutable state."""
    return module.binding_counts.get(name) == 1 and name not in module.rebound_in and name not in module.state \
        and name not in module.functions and name not in module.classes


def _only_passed_to_factories(module: ModuleInfo, function: FunctionNode, name: str) -> bool:
    """Is every read of the local name an argument of a call that builds a client or a setting from it
    (`boto3.Session(**kwargs)`, `Config(retries=retries)`), none of which changes it? Any other read
    (`kwargs.update(...)`, `kwargs["region_name"] = ...`, `prepare(kwargs)`) may change it."""
    readers = _ENVIRONMENT_CALLS | CLIENT_FACTORIES
    passed: set[int] = set()
    for node in every_node(function):
        if isinstance(node, ast.Call) and (module.qualified_name(node.func) in readers or (
                isinstance(node.func, ast.Attribute) and node.func.attr in ("client", "resource"))):
            values = [*node.args, *(k.value for k in node.keywords)]
            passed.update(id(v.value if isinstance(v, ast.Starred) else v) for v in values)
    return all(id(node) in passed for node in every_node(function)
               if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load))


def _keywords(module: ModuleInfo, value: ast.expr, substitutions: dict[str, _Inlined]
              ) -> tuple[tuple[str, str], ...] | None:
    """A dict display's keys and values' texts, when every key is a distinct string that is a name."""
    if not isinstance(value, ast.Dict):
        return None
    keys = [k.value if isinstance(k, ast.Constant) else None for k in value.keys]
    if not all(isinstance(k, str) and k.isidentifier() and not keyword.iskeyword(k) for k in keys) \
            or len(set(keys)) != len(keys):
        return None
    texts = [module.segment(v) for v in value.values]
    if any(text is None for text in texts):
        return None
    return tuple((str(k), _substitute(module, v, text or "", substitutions))
                 for k, v, text in zip(keys, value.values, texts))


def _substitute(module: ModuleInfo, expr: ast.AST, source: str, substitutions: Mapping[str, _Inlined]) -> str:
    """Replace the locals in expr's source text with their values, parenthesised where needed. A dict
    display passed as `**local` is spelled as keyword arguments, and an empty one is left out."""
    if not substitutions:
        return source
    lines = module.source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        text = lines[lineno - 1]
        return starts[lineno - 1] + len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    base = offset(expr.lineno, expr.col_offset)  # type: ignore[attr-defined]

    def start(node: ast.AST) -> int:
        return offset(node.lineno, node.col_offset) - base  # type: ignore[attr-defined]

    def end(node: ast.AST) -> int:
        return offset(node.end_lineno, node.end_col_offset) - base  # type: ignore[attr-defined]

    parents = {id(child): node for node in ast.walk(expr) for child in ast.iter_child_nodes(node)}
    edits: list[tuple[int, int, str]] = []
    done: set[int] = set()  # the names whose argument is edited whole
    for call in (n for n in ast.walk(expr) if isinstance(n, ast.Call)):
        edits.extend(_spread_dicts(call, substitutions, start, end, done))
    for n in ast.walk(expr):
        if isinstance(n, ast.Name) and n.id in substitutions and id(n) not in done:
            edits.append((start(n), end(n), substitutions[n.id].where(parents.get(id(n)), n)))
    for first, last, text in sorted(edits, reverse=True):
        source = source[:first] + text + source[last:]
    return source


def _spread_dicts(call: ast.Call, substitutions: Mapping[str, _Inlined], start: Callable[[ast.AST], int],
                  end: Callable[[ast.AST], int], done: set[int]) -> list[tuple[int, int, str]]:
    """The edits of call's `**local` arguments whose local is a dict display: an empty one goes, with
    its comma; one whose keys are names becomes keyword arguments, unless a keyword would repeat."""
    arguments = sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))
    spread = {id(a): substitutions[a.value.id] for a in call.keywords
              if a.arg is None and isinstance(a.value, ast.Name) and a.value.id in substitutions
              and substitutions[a.value.id].keywords is not None}
    if not spread:
        return []
    named = [a.arg for a in call.keywords if a.arg is not None]
    named += [key for inlined in spread.values() for key, _ in inlined.keywords or ()]
    if len(set(named)) != len(named):
        return []  # `f(a=1, **{"a": 2})` fails when called; as keywords it would not even compile
    edits: list[tuple[int, int, str]] = []
    kept = [a for a in arguments if id(a) not in spread or spread[id(a)].keywords]
    done.update(id(a.value) for a in call.keywords if id(a) in spread)
    for argument in arguments:
        if id(argument) not in spread:
            continue
        keywords = spread[id(argument)].keywords
        if keywords:
            edits.append((start(argument), end(argument), ", ".join(f"{key}={text}" for key, text in keywords)))
            continue
        before = [a for a in kept if (a.lineno, a.col_offset) < (argument.lineno, argument.col_offset)]
        after = [a for a in kept if (a.lineno, a.col_offset) > (argument.lineno, argument.col_offset)]
        if before:  # `, **local` goes, back to the end of the argument kept before it
            edits.append((end(before[-1]), end(argument), ""))
        elif after:
            edits.append((start(argument), start(after[0]), ""))
        else:
            edits.append((end(call.func), end(call), "()"))
            break  # every argument goes, at once
    return _merged(edits)


def _merged(edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Edits of overlapping or touching ranges as one: two empty `**{}` in a row go together."""
    merged: list[tuple[int, int, str]] = []
    for first, last, text in sorted(edits):
        if merged and first <= merged[-1][1] and not text and not merged[-1][2]:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]), "")
        else:
            merged.append((first, last, text))
    return merged


def _accessor_key(hoist: _Hoist) -> str:
    """`boto3.client('s3')` and `boto3.client("s3")` share one accessor; what it assigns first is part of it."""
    key = _tree_of(hoist.built_by)
    return key + repr([(name, _tree_of(value)) for name, value in hoist.setup]) if hoist.setup else key


def _tree_of(expression: str) -> str:
    """What an expression is, whatever its quotes, spaces, line breaks and parentheses: its tree."""
    try:
        return ast.dump(ast.parse(expression.strip(), mode="eval"))
    except (SyntaxError, ValueError, RecursionError):
        return expression


def _accessor_name(module: ModuleInfo, call: ClientCall, taken: set[str]) -> str:
    factory = call.factory
    service = None
    if call.node.args and isinstance(call.node.args[0], ast.Constant) and isinstance(call.node.args[0].value, str):
        service = re.sub(r"\W", "_", call.node.args[0].value).strip("_").lower() or None
    if factory in CLOSED_TESTS:
        base = "_get_db_connection"
    elif factory.endswith(".client") or factory == "boto3.client":
        base = f"_{service}_client" if service else "_boto3_client"
    elif factory.endswith(".resource") or factory == "boto3.resource":
        base = f"_{service}_resource" if service else "_boto3_resource"
    else:
        base = _ACCESSOR_NAMES.get(factory, "_client")

    def free(candidate: str) -> bool:
        return candidate not in taken and not module.binding_counts.get(candidate) and candidate not in module.imports

    name, number = base, 2
    # A connection accessor also needs its global: `_get_db_connection` keeps `_db_connection`.
    while not free(name) or (name.startswith("_get_") and not free("_" + name[len("_get_"):])):
        name, number = f"{base}_{number}", number + 1
    return name
