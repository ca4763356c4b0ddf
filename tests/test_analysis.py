"""The shared analysis on small inline modules: handlers, state, reach, per-request flow, decisions."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from helpers import FIXTURES, facts_by_searching, facts_by_walking

import lambda_fix
from lambda_fix.analysis import module as module_facts
from lambda_fix.analysis.handlers import find_handlers, is_handler_signature, may_contain_handler
from lambda_fix.analysis.parameters import PassAs, Threading
from lambda_fix.analysis.project import Project
from lambda_fix.analysis.scopes import global_name_refs
from lambda_fix.rules import find_all as analyze_module
from lambda_fix.rules.handler_state_at_module_level import MovePlan
from lambda_fix.rules.shared_state_leak import ResetHow, ResetPlan


def build(source: str, path: str = "/project/app.py", name: str = "app") -> module_facts.ModuleInfo:
    source = textwrap.dedent(source)
    return module_facts.build(path, name, source, ast.parse(source))


def leaks_of(source: str, **kwargs):
    module = build(source)
    project = Project(lambda path: None)
    project.add(module)
    return analyze_module(project, module, **kwargs)


def project_of(root: Path, files: dict[str, str]) -> tuple[Project, module_facts.ModuleInfo]:
    """A project of files under root, and its module app.py."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    project = Project(lambda path: Path(path).read_text(), boundary=root)
    module = project.module_at(str(root / "app.py"))
    assert module is not None
    return project, module


def codes(source: str) -> list[tuple[str, str]]:
    return [(leak.code, leak.state[1]) for leak in leaks_of(source)]


# ---- handlers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["event, context", "evt, ctx", "_event, _context", "event, _",
                                       "event: dict, context: object", "e, context"])
def test_handler_signatures(signature: str) -> None:
    function = ast.parse(f"def f({signature}): pass").body[0]
    assert is_handler_signature(function)  # type: ignore[arg-type]


@pytest.mark.parametrize("signature", ["e, c", "self, event", "a, b", "event", ""])
def test_not_handler_signatures(signature: str) -> None:
    function = ast.parse(f"def f({signature}): pass").body[0]
    assert not is_handler_signature(function)  # type: ignore[arg-type]


def test_handlers_by_name_signature_and_option() -> None:
    module = build("""
        def lambda_handler(a, b): pass
        async def on_sqs(event, context): pass
        @decorator
        def handler(x): pass
        def custom(payload, runtime): pass
        def helper(x): pass
        class C:
            def method(self, event, context): pass
    """)
    assert [f.name for f in find_handlers(module)] == ["lambda_handler", "on_sqs", "handler"]
    assert "custom" in [f.name for f in find_handlers(module, ("app:custom",))]
    assert "custom" not in [f.name for f in find_handlers(module, ("other:custom",))]


def test_prefilter_is_cheap_and_lenient() -> None:
    assert may_contain_handler("def lambda_handler(event, context):\n")
    assert may_contain_handler("async def on_event(event: dict, context):\n")
    assert not may_contain_handler("def helper(x):\n    return x\n")
    assert not may_contain_handler("class C:\n    def handler(self, event): ...\n")  # not module level
    assert may_contain_handler("def run(a, b):\n", frozenset({"run"}))


# ---- scopes and state --------------------------------------------------------------------------


def test_global_refs_respect_locals_and_closures() -> None:
    function = ast.parse(textwrap.dedent("""
        def f(a):
            x = S
            S2 = 1
            def g():
                return S, x
            return [S3 for S in range(3)]
    """)).body[0]
    names = sorted({n.id for n, _ in global_name_refs(function)})  # type: ignore[arg-type]
    assert names == ["S", "S3", "range"]


def test_state_kinds() -> None:
    module = build("""
        import collections
        from collections import defaultdict, deque
        a = []
        b = {"k": 1}
        c = set()
        d = defaultdict(list)
        e = collections.Counter()
        f = deque(maxlen=3)
        g = (1, 2)
        h = 0
        def bump():
            global h
            h += 1
    """)
    kinds = {name: (s.kind, s.init_empty, s.init_pure) for name, s in module.state.items()}
    assert kinds == {
        "a": ("list", True, True), "b": ("dict", False, True), "c": ("set", True, True),
        "d": ("dict", True, True), "e": ("dict", True, True), "f": ("deque", True, True),
        "h": ("scalar", True, True),
    }


def test_suppression_comments() -> None:
    module = build("a = []  # noqa: LF001\nb = []  # lambda-fix: ignore\nc = []  # noqa\nd = []\n")
    assert module.suppressed(1, "LF001") and not module.suppressed(1, "LF002")
    assert module.suppressed(2, "LF002") and module.suppressed(3, "LF001")
    assert not module.suppressed(4, "LF001")


def test_noqa_is_read_in_any_case_as_ruff_reads_it() -> None:
    module = build("a = []  # NOQA: LF001\nb = []  # NoQA\nc = []  # noqa: lf002\n")
    assert module.suppressed(1, "LF001") and not module.suppressed(1, "LF002")
    assert module.suppressed(2, "LF005") and module.suppressed(3, "LF002") and not module.suppressed(3, "LF001")


# ---- leak or deliberate ------------------------------------------------------------------------


def test_cache_keyed_by_event_leaks() -> None:
    assert codes("""
        cache = {}
        def lambda_handler(event, context):
            cache[event["user_id"]] = event["profile"]
            return cache[event["user_id"]]
    """) == [("LF001", "cache")]


def test_taint_flows_through_locals_calls_and_returns() -> None:
    assert codes("""
        seen = []
        def normalise(record):
            return record.strip()
        def remember(value):
            seen.append(value)
        def lambda_handler(event, context):
            for record in event["Records"]:
                body = normalise(record["body"])
                remember(body)
    """) == [("LF001", "seen")]


def test_memo_cache_with_fixed_keys_is_deliberate() -> None:
    assert codes("""
        import os
        _config = {}
        def setting(name):
            if name not in _config:
                _config[name] = os.environ.get(name)
            return _config[name]
        def lambda_handler(event, context):
            return {"table": setting("TABLE"), "id": event["id"]}
    """) == []


def test_flag_under_event_condition_leaks_but_unconditional_flag_does_not() -> None:
    assert codes("""
        verbose = False
        warmed = False
        def lambda_handler(event, context):
            global verbose, warmed
            warmed = True
            if event.get("verbose"):
                verbose = True
            return verbose
    """) == [("LF001", "verbose")]


def test_validation_guards_do_not_make_later_writes_conditional() -> None:
    [counter] = leaks_of("""
        invocations = 0
        def lambda_handler(event, context):
            global invocations
            if event.get("source") == "serverless-plugin-warmup":
                return None
            invocations += 1
            return invocations
    """)
    # A counter of invocations: reported, never rewritten; bumped on every invocation, not under a condition.
    assert counter.plan is None and "counts the invocations" in counter.message
    assert "bumped by a constant in the handler" in counter.message


def test_memo_cache_filled_under_a_callers_condition_is_deliberate() -> None:
    assert codes("""
        import requests
        _jwks = {}
        def keys():
            if "keys" not in _jwks:
                _jwks.update(requests.get("https://issuer/jwks").json())
            return _jwks
        def lambda_handler(event, context):
            if event.get("token"):
                return keys()
    """) == []


def test_flag_set_by_a_helper_called_for_some_requests_leaks() -> None:
    assert codes("""
        DEBUG = False
        def enable_debug():
            global DEBUG
            DEBUG = True
        def lambda_handler(event, context):
            if event.get("debug"):
                enable_debug()
            return DEBUG
    """) == [("LF002", "DEBUG")]  # the helper rebinds it, so it is reset rather than moved


def test_failure_counter_in_except_is_reported_not_rewritten() -> None:
    assert codes("""
        failures = 0
        def lambda_handler(event, context):
            global failures
            try:
                int(event["n"])
            except ValueError:
                failures += 1
            return failures
    """) == [("LF002", "failures")]
    assert all(leak.plan is None for leak in leaks_of("""
        failures = 0
        def lambda_handler(event, context):
            global failures
            if event.get("bad"):
                failures += 1
            return failures
    """))


def test_mutation_through_a_parameter_alias() -> None:
    assert codes("""
        rows = []
        def add_to(target, value):
            target.append(value)
        def lambda_handler(event, context):
            add_to(rows, event["v"])
            return len(rows)
    """)[0][1] == "rows"


def test_setdefault_chain_and_nested_item_writes() -> None:
    assert codes("""
        groups = {}
        def lambda_handler(event, context):
            groups.setdefault(event["group"], []).append(event["item"])
            return groups
    """) == [("LF001", "groups")]


def test_allow_state_option() -> None:
    source = """
        cache = {}
        def lambda_handler(event, context):
            cache[event["k"]] = 1
    """
    assert leaks_of(source, allow_state=("cache",)) == []
    assert leaks_of(source, allow_state=("app:cache",)) == []
    assert leaks_of(source, allow_state=("other:cache",)) != []


# ---- move or reset -----------------------------------------------------------------------------


def test_move_plan_threads_through_a_caller() -> None:
    [leak] = leaks_of("""
        out = []
        def leaf(x):
            out.append(x)
        def lambda_handler(event, context):
            leaf(event["x"])
            return out
    """)
    assert leak.plan == MovePlan(Threading("out", "lambda_handler", (("leaf", PassAs.POSITIONAL),)))


def test_a_move_through_several_callers_gives_way_to_a_new_value_at_entry() -> None:
    [leak] = leaks_of("""
        out = []
        def leaf(x):
            out.append(x)
        def middle(x, y=1):
            leaf(x)
        def lambda_handler(event, context):
            middle(event["x"])
            return out
    """)
    assert leak.code == "LF001"
    assert leak.plan == ResetPlan(handler="lambda_handler", state="out", reference="out", how=ResetHow.REBIND,
                                  kind="list", init_source="[]", add_import=None, declare_global=True,
                                  copy_returns=False)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("print(len(out))", "module-level code uses it"),
        ("def other():\n    return out", "`other` uses it, and `lambda_handler` does not call it"),
        ("__all__ = ['out']", "exported in `__all__`"),
        ("def later():\n    helper('x')", "`helper` is also used outside the handler's call chain"),
        ("callbacks = [helper]", "`helper` is also used outside the handler's call chain"),
        ("def second(event, context):\n    helper(event)", "shared by the handlers"),
    ],
)
def test_state_that_cannot_move_is_reset_with_the_reason(extra: str, reason: str) -> None:
    leak, *_ = leaks_of("out = []\ndef helper(x):\n    out.append(x)\n"
                      "def lambda_handler(event, context):\n    helper(event['x'])\n    return len(out)\n" + extra)
    assert leak.code == "LF002"
    assert reason in leak.message
    assert isinstance(leak.plan, ResetPlan) and leak.plan.how is ResetHow.CLEAR


def test_decorated_helper_is_not_threaded() -> None:
    [leak] = leaks_of("""
        import functools
        out = []
        @functools.lru_cache
        def helper(x):
            out.append(x)
        def lambda_handler(event, context):
            helper(event["x"])
    """)
    assert leak.code == "LF002" and "decorated" in leak.message


def test_reset_plan_kinds() -> None:
    def plan(source: str) -> ResetPlan:
        [leak] = leaks_of(source + "\ndef report():\n    return S\n")
        assert isinstance(leak.plan, ResetPlan), leak.message
        return leak.plan

    handler = "\ndef lambda_handler(event, context):\n    S.append(event['x'])\n"
    assert plan("S = []" + handler).how is ResetHow.CLEAR
    assert plan("S = [1, 2]" + handler).how is ResetHow.RESTORE
    assert plan("S = []\nS.append(0)" + handler).how is ResetHow.SNAPSHOT
    assert plan("S = []\nprint(len(S))" + handler).how is ResetHow.CLEAR  # read at import, not filled
    rebinding = "\ndef lambda_handler(event, context):\n    global S\n    if 'x' in event:\n        S = event['x']\n"
    assert plan("S = 'default'" + rebinding).how is ResetHow.REBIND
    # Rebound before anything reads it, on every invocation: no leak at all.
    assert leaks_of("S = 'default'\ndef lambda_handler(event, context):\n    global S\n    S = event['x']\n"
                    "    return S\ndef report():\n    return S\n") == []


def test_copy_only_when_the_return_may_be_the_state() -> None:
    def copies(returned: str) -> bool:
        [leak] = leaks_of(f"""
            __all__ = ["S"]  # `from app import *` may hold it: emptied in place, not given a new object
            S = []
            def report():
                return S
            def unused_elsewhere():
                return S
            def lambda_handler(event, context):
                S.append(event["x"])
                alias = S
                return {returned}
        """)
        assert isinstance(leak.plan, ResetPlan)
        return leak.plan.copy_returns

    assert copies("S") and copies("alias") and copies("{'items': S}") and copies("report()")
    assert copies("(x for x in S)") and copies("unknown(S)")
    assert not copies("len(S)") and not copies("list(S)") and not copies("S[0]") and not copies("'ok'")
    assert not copies("{'n': len(alias)}") and not copies("sorted(S)")


def test_a_returned_state_nothing_else_holds_gets_a_new_object_not_a_copy() -> None:
    source = """
        S = {"Data": {}}
        def report():
            return S
        def lambda_handler(event, context):
            S["Data"][event["k"]] = 1
            return S
    """
    [leak] = leaks_of(source)
    assert isinstance(leak.plan, ResetPlan) and leak.plan.how is ResetHow.REBIND and not leak.plan.copy_returns
    assert leak.plan.init_source == '{"Data": {}}' and leak.plan.declare_global
    for held in ('__all__ = ["S"]', "ALIAS = S", "class C:\n            items = S",
                 "def first(items=S):\n            return items"):
        [leak] = leaks_of(source.replace("def report", held + "\n        def report"))
        assert isinstance(leak.plan, ResetPlan) and leak.plan.how is not ResetHow.REBIND and leak.plan.copy_returns


def test_reset_is_recognised_and_not_repeated() -> None:
    assert leaks_of("""
        S = []
        def report():
            return S
        def lambda_handler(event, context):
            S.clear()
            S.append(event["x"])
    """) == []


def test_cross_module_state(tmp_path: Path) -> None:
    project, module = project_of(tmp_path, {
        "helpers.py": "records = []\ndef record(x):\n    records.append(x)\n",
        "app.py": "import helpers\ndef lambda_handler(event, context):\n    helpers.record(event['x'])\n"})
    [leak] = analyze_module(project, module)
    assert leak.code == "LF002" and leak.state == (str(tmp_path / "helpers.py"), "records")
    assert isinstance(leak.plan, ResetPlan) and leak.plan.reference == "helpers.records"


def test_initial_value_shadowed_in_the_handler_blocks_the_move() -> None:
    [leak] = leaks_of("""
        SIZE = 3
        slots = [SIZE]
        def lambda_handler(event, context):
            SIZE = event["size"]
            slots.append(SIZE)
            return len(slots)
    """)
    assert leak.code == "LF002" and "binds locally" in leak.message and leak.plan is None


def test_foreign_initial_value_with_names_is_restored_from_a_snapshot(tmp_path: Path) -> None:
    project, module = project_of(tmp_path, {
        "store.py": "from collections import defaultdict\nseen = defaultdict(list, {'boot': []})\n"
                    "def add(k):\n    seen[k].append(1)\n",
        "app.py": "import store\ndef lambda_handler(event, context):\n    store.add(event['k'])\n"})
    [leak] = analyze_module(project, module)
    assert isinstance(leak.plan, ResetPlan) and leak.plan.how is ResetHow.SNAPSHOT


def test_from_package_import_module(tmp_path: Path) -> None:
    project, module = project_of(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/audit.py": "trail = []\ndef note(x):\n    trail.append(x)\n",
        "app.py": "from pkg import audit\ndef lambda_handler(event, context):\n    audit.note(event['x'])\n"})
    [leak] = analyze_module(project, module)
    assert isinstance(leak.plan, ResetPlan) and leak.plan.reference == "audit.trail"


def test_reset_is_recognised_below_statements_that_cannot_touch_the_state() -> None:
    assert leaks_of("""
        S = []
        def report():
            return S
        def lambda_handler(event, context, extra=None):
            if extra is None:
                extra = []
            S.clear()
            S.append(event["x"])
    """) == []


def test_a_handler_that_already_resets_still_shares_the_state() -> None:
    # Resetting in one handler must not make the state look movable into the other on a later run.
    [leak] = leaks_of("""
        S = []
        def first(event, context):
            S.clear()
            try:
                S.append(event["x"])
            finally:
                S.clear()
        def second(event, context):
            S.append(event["y"])
            return len(S)
    """)
    assert leak.code == "LF002" and leak.handler == "second" and "shared by the handlers" in leak.message


# ---- the rules' cheap first tests: the flow runs only when some rule could find something ----------

CLEAN_HANDLER = """
    import json
    import boto3
    TABLE = boto3.resource("dynamodb").Table("t")
    FIELDS = ("a", "b")
    def lambda_handler(event, context):
        item = {name: event[name] for name in FIELDS}
        TABLE.put_item(Item=item)
        return {"statusCode": 200, "body": json.dumps(item)}
"""


def test_nothing_to_find_skips_the_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_fix.analysis import flow

    def not_needed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the flow ran for a module where no rule can find anything")

    project, module = project_of(tmp_path, {"app.py": CLEAN_HANDLER})
    monkeypatch.setattr(flow, "analyze", not_needed)
    assert analyze_module(project, module) == []


@pytest.mark.parametrize("candidate, code", [
    ('    open("/tmp/out.json", "w").write(json.dumps(event))\n', "LF003"),
    ('    boto3.client("s3").put_object(Bucket="b", Key="k", Body=b"")\n', "LF004"),
    ('    R(host="cache").set("k", event["id"])\n', "LF004"),  # an aliased factory: `from redis import Redis as R`
])
def test_each_rules_candidate_runs_the_flow(tmp_path: Path, candidate: str, code: str) -> None:
    handler = textwrap.dedent(CLEAN_HANDLER).replace("    return", candidate + "    return")
    source = "from redis import Redis as R\n" + handler
    project, module = project_of(tmp_path, {"app.py": source})
    assert code in {d.code for d in analyze_module(project, module)}


def test_a_mutable_default_runs_the_flow(tmp_path: Path) -> None:
    project, module = project_of(tmp_path, {"app.py": """
        def tag(item, seen=[]):
            seen.append(item)
            return len(seen)
        def lambda_handler(event, context):
            return tag(event["id"])
    """})
    assert [d.code for d in analyze_module(project, module)] == ["LF005"]


@pytest.mark.parametrize("files", [
    # state two imports away
    {"app.py": "import relay\ndef lambda_handler(event, context):\n    relay.forward(event['x'])\n",
     "relay.py": "from store import keep\ndef forward(x):\n    keep(x)\n",
     "store.py": "kept = []\ndef keep(x):\n    kept.append(x)\n"},
    # a package imported whole, its module reached by attribute
    {"app.py": "import pkg.store\ndef lambda_handler(event, context):\n    pkg.store.kept.append(event['x'])\n",
     "pkg/__init__.py": "", "pkg/store.py": "kept = []\n"},
    # a namespace package (no __init__.py), its module reached by attribute
    {"app.py": "import ns\ndef lambda_handler(event, context):\n    ns.store.kept.append(event['x'])\n",
     "ns/store.py": "kept = []\n"},
    # a relative import inside a package
    {"app.py": "from lib import api\ndef lambda_handler(event, context):\n    api.call(event['x'])\n",
     "lib/__init__.py": "", "lib/api.py": "from .log import note\ndef call(x):\n    note(x)\n",
     "lib/log.py": "lines = []\ndef note(x):\n    lines.append(x)\n"},
])
def test_state_in_any_module_the_imports_reach_runs_the_flow(tmp_path: Path, files: dict[str, str]) -> None:
    project, module = project_of(tmp_path, files)
    assert {d.code for d in analyze_module(project, module)} == {"LF002"}


def test_a_default_only_read_by_calls_that_keep_nothing_is_left_alone(tmp_path: Path) -> None:
    """Leaks and defaults share one list of calls that read an object without changing or keeping it."""
    project, module = project_of(tmp_path, {"app.py": """
        import copy
        def summary(items, seen=[]):
            snapshot = copy.deepcopy(seen)
            return len(items) + len(snapshot) + int(bool(next(iter(seen), 0)))
        def lambda_handler(event, context):
            return summary(event["items"])
    """})
    assert analyze_module(project, module) == []


# Sources where finding facts by their names in the text could go wrong.
TEXT_SEARCH_TRAPS = {
    "lone carriage returns": "import boto3\r\rX = 1\rdef f(event, context):\r    return boto3.client('s3')\r",
    "crlf": "import boto3\r\n\r\ndef f(event, context, seen=[]):\r\n    global X\r\n    return boto3.client('s3')\r\n",
    "in a decorator": "import boto3\n\n@register(boto3.client('s3'))\ndef f(event, context):\n    pass\n",
    "continued at column 0": "import boto3\ndef f(event, context):\n    x = g(\n"
                             "boto3.client('s3'), d=lambda a=[]: a)\n",
    "module-level lambdas": "import boto3\nmake = lambda: boto3.client('s3')\nHANDLERS = [lambda x={}: x]\n",
    "aliased factory": "from boto3 import client as make\ndef f(event, context):\n    return make('s3')\n",
    "global in a nested function": "X = 0\ndef f(event, context):\n    def g():\n        global X\n"
                                   "        X = 1\n    g()\n",
    "eval": "def f(event, context):\n    return eval(event['x'])\n",
    "definitions in blocks": "try:\n    class A:\n        def m(self, x={}):\n            async def n(y=set()):\n"
                             "                pass\nexcept ImportError:\n    if True:\n        def g(z=[]): pass\n",
    "names inside longer words": "def f(event, context):\n    evaluate(); my_client(); clientele = lambdas = 1\n",
    "non-ascii text": "import boto3\ndef f(événement, context):\n    é = 'ü'; return boto3.resource('s3')\n",
    "a string spanning lines": "import boto3\nTEXT = '''\nclient\n'''\ndef f(event, context):\n"
                               "    return boto3.client(\n'''x''')\n",
    "form feeds and no last line break": "import boto3\n\x0c\ndef f(event, context):\n    return boto3.client('s3')",
}


def test_source_segments_equal_asts() -> None:
    """ModuleInfo.segment, on lines split once, gives what ast.get_source_segment gives."""
    sources = [*TEXT_SEARCH_TRAPS.values(), *(p.read_text(encoding="utf-8") for p in FIXTURES.rglob("*.py"))]
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # newer syntax than this interpreter's
        module = module_facts.build("/project/app.py", "app", source, tree)
        for node in ast.walk(tree):
            assert module.segment(node) == ast.get_source_segment(source, node), ast.dump(node)


@pytest.mark.parametrize("source", TEXT_SEARCH_TRAPS.values(), ids=TEXT_SEARCH_TRAPS.keys())
def test_facts_found_in_the_text_equal_a_walk_of_every_node(source: str) -> None:
    module = module_facts.build("/project/app.py", "app", source, ast.parse(source))
    assert facts_by_searching(module) == facts_by_walking(module)


def test_facts_found_in_the_text_equal_a_walk_on_real_code() -> None:
    """Every fixture this interpreter parses, and every module of lambda-fix itself."""
    for path in [*FIXTURES.rglob("*.py"), *Path(lambda_fix.__file__).parent.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # newer syntax than this interpreter's
        module = module_facts.build(str(path), "m", source, tree)
        assert facts_by_searching(module) == facts_by_walking(module), path


def test_writes_under_a_guard_the_block_changes_are_filled_once() -> None:
    """`if is_cold_start: ...; is_cold_start = False` and `if not CACHE: CACHE.update(...)` run once per
    environment: a fact of the flow (Mutation.filled_once), which the leak rules read."""
    from lambda_fix.analysis import flow

    module = build("""
        import os
        is_cold_start = True
        keys = []
        cache = {}
        seen = []
        def lambda_handler(event, context):
            global is_cold_start
            if is_cold_start:
                keys.append(os.environ["KEY"])
                is_cold_start = False
            if not cache:
                cache.update(region=os.environ["REGION"])
            if is_cold_start:  # the block does not change what its test reads: no guard
                seen.append(event["id"])
            return len(keys)
    """)
    project = Project(lambda path: None)
    project.add(module)
    found = flow.analyze(project, module, module.functions["lambda_handler"])
    once = {m.state[1]: m.filled_once for m in found.mutations}
    assert once == {"keys": True, "is_cold_start": True, "cache": True, "seen": False}
    assert codes(module.source) == [("LF001", "seen")]


def test_a_download_under_an_existence_check_is_once_per_environment_unless_the_event_picks_it() -> None:
    base = """
        import os
        import boto3
        s3 = boto3.client("s3")
        def lambda_handler(event, context):
            path = "/tmp/data.bin"
            if not os.path.exists(path):
                s3.download_file(BUCKET, KEY, path)
            return os.path.getsize(path)
    """
    assert [d.code for d in leaks_of("BUCKET = 'b'\nKEY = 'k'\n" + textwrap.dedent(base))] == []
    per_request = textwrap.dedent(base).replace("BUCKET, KEY", 'event["bucket"], event["key"]')
    assert [d.code for d in leaks_of(per_request)] == ["LF003"]


@pytest.mark.parametrize(("text", "patched"), [
    ('@mock.patch("app.boto3")\ndef test(): ...', True),
    ('with mock.patch.object(app, "boto3") as fake: ...', True),
    ('monkeypatch.setattr(boto3, "client", fake)', True),
    ('monkeypatch.setattr("app.boto3.client", lambda *a, **k: fake)', True),
    ("app.boto3 = FakeBoto()", True),
    ("boto3.client = fake_client", True),
    # patches something else, and builds a boto3 client of its own (as tests under moto do)
    ('@patch("src.app.get_table_names")\ndef test(s3=boto3.client("s3")): ...', False),
    ('with patch("app.load"):\n    s3 = boto3.client("s3")', False),
    ("client = boto3.client('s3')\nassert client == other", False),
    # the target held in a name, as a test module's constant
    ('client = "boto3.client"\n\ndef test():\n    with patch(client, side_effect=fake): ...', True),
])
def test_a_test_patches_a_name_only_when_it_replaces_it(text: str, patched: bool) -> None:
    from lambda_fix.analysis.project import _patches

    assert _patches(text, "boto3") is patched


@pytest.mark.parametrize(("text", "patched"), [
    ('os.environ["AWS_REGION"] = "cn-north-1"', True),
    ('monkeypatch.setenv("AWS_REGION", "eu-west-1")', True),
    ('with mock.patch.dict(os.environ, {"AWS_REGION": "eu-west-1"}): ...', True),
    ('region = os.environ["AWS_REGION"]', False),
])
def test_a_test_that_sets_an_environment_variable_patches_it(text: str, patched: bool) -> None:
    from lambda_fix.analysis.project import _patches

    assert _patches(text, "AWS_REGION") is patched


@pytest.mark.parametrize(("files", "reached"), [
    ({"app.py": "class S:\n    def handle(self, event, context): ...\nhandler = S().handle\n"}, ["S.handle"]),
    ({"app.py": "class S:\n    def handle(self, event, context): ...\ns = S()\nlambda_handler = s.handle\n"},
     ["S.handle"]),
    ({"app.py": "class H:\n    def __call__(self, event, context): ...\nhandler = H()\n"}, ["H.__call__"]),
    # a class of another module, and a `__call__` its base class in a third module defines
    ({"app.py": "from lib import S\nhandler = S().handle\n",
      "lib.py": "class S:\n    def handle(self, event, context): ...\n"}, ["S.handle"]),
    ({"app.py": "from svc import Handler\nhandler = Handler()\n",
      "svc.py": "from base import Base\nclass Handler(Base):\n    pass\n",
      "base.py": "class Base:\n    def __call__(self, event, context): ...\n"}, ["Base.__call__"]),
    # factories: a closure, a bound method a classmethod returns
    ({"app.py": "def make(prefix):\n    def inner(event, context): ...\n    return inner\nhandler = make('x')\n"},
     ["make", "make.<locals>.inner"]),
    ({"app.py": "class P:\n    @classmethod\n    def get_handler(cls):\n        return cls().handle\n"
                "    def handle(self, event, context): ...\nlambda_handler = P.get_handler()\n"},
     ["P.get_handler", "P.handle"]),
    # not entries: another name, a library's factory, a plain function (a handler of its own)
    ({"app.py": "class S:\n    def handle(self, event, context): ...\nworker = S().handle\n"}, None),
    ({"app.py": "def handler(event, context): ...\n"}, None),
])
def test_handlers_that_are_objects_reach_what_python_calls(tmp_path: Path, files: dict[str, str],
                                                             reached: list[str] | None) -> None:
    from lambda_fix.analysis.flow import analyze
    from lambda_fix.analysis.handlers import may_contain_handler, object_entries

    project, module = project_of(tmp_path, files)
    entries = object_entries(module)
    assert may_contain_handler(module.source) or not entries
    if reached is None:
        assert entries == []
        return
    [entry] = entries
    flow = analyze(project, module, entry)
    assert sorted(name for _, name in flow.reached if name != entry.name) == sorted(reached)


@pytest.mark.parametrize(("files", "lowest"), [
    ({"requirements.txt": "aws-lambda-powertools==2.43.1\nboto3\n"}, (2, 43, 1)),
    ({"requirements.txt": "aws-lambda-powertools[all,aws-sdk]==3.22.1"}, (3, 22, 1)),
    ({"requirements.txt": "aws_lambda_powertools >=1.10, <3  # the logger"}, (1, 10)),
    ({"requirements.txt": "aws-lambda-powertools\n"}, None),  # no lower bound: whatever is installed
    ({"pyproject.toml": '[project]\ndependencies = [\n  "aws-lambda-powertools[tracer]>=3.22.1",\n]\n'}, (3, 22, 1)),
    ({"pyproject.toml": '[tool.poetry.dependencies]\naws-lambda-powertools = {extras = ["all"], version = "^2.1"}\n'},
     (2, 1)),
    ({"Pipfile": '[packages]\naws-lambda-powertools = "==1.0.0"\n'}, (1, 0, 0)),
    ({"requirements.txt": "aws-lambda-powertools-extras==9.0\n"}, None),  # another package
    ({}, None),
])
def test_the_lowest_release_a_projects_requirements_admit(tmp_path: Path, files: dict[str, str],
                                                          lowest: tuple[int, ...] | None) -> None:
    from lambda_fix.analysis.requirements import lowest_admitted

    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert lowest_admitted(str(tmp_path / "src" / "app.py"), "aws-lambda-powertools") == lowest
