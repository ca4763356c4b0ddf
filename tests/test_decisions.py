"""Each rule's decision on small inline modules, in pairs: a case it fixes (a typed plan) and a case it
must leave alone (nothing, or a report with the reason). The fix of each plan is tested in test_edits."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from lambda_fix.analysis import module as module_facts
from lambda_fix.analysis.parameters import PassAs, Threading
from lambda_fix.analysis.project import Project
from lambda_fix.codes import RULES
from lambda_fix.rules import Span, find_all
from lambda_fix.rules.fixed_tmp_path import Cleanup, TmpPathPlan
from lambda_fix.rules.handler_state_at_module_level import MovePlan
from lambda_fix.rules.mutable_default_argument import DefaultPlan
from lambda_fix.rules.per_invocation_client import HoistPlan
from lambda_fix.rules.shared_state_leak import ResetHow, ResetPlan


def diagnoses(source: str, code: str):  # noqa: ANN201 - the rule's diagnoses
    source = textwrap.dedent(source)
    module = module_facts.build("/project/app.py", "app", source, ast.parse(source))
    project = Project(lambda path: None)
    project.add(module)
    return [d for d in find_all(project, module, enabled=lambda c: c == code) if d.code == code]


PAIRS = {
    "LF001": ('''
        seen = []

        def lambda_handler(event, context):
            seen.append(event["id"])
            return len(seen)
        ''', '''
        def lambda_handler(event, context):
            seen = []
            seen.append(event["id"])
            return len(seen)
        '''),
    "LF002": ('''
        seen = []

        def lambda_handler(event, context):
            seen.append(event["id"])
            return len(seen)

        def report():
            return list(seen)
        ''', '''
        REGISTRY = {}

        def register(name):
            REGISTRY[name] = True

        register("a")

        def lambda_handler(event, context):
            return REGISTRY.get(event["name"], False)
        '''),
    "LF003": ('''
        def lambda_handler(event, context):
            with open("/tmp/out.json", "a") as stream:
                stream.write(event["line"])
            return {}
        ''', '''
        import os

        def lambda_handler(event, context):
            if not os.path.exists("/tmp/model.bin"):
                with open("/tmp/model.bin", "wb") as stream:
                    stream.write(b"weights")
            return {}
        '''),
    "LF004": ('''
        import boto3

        def lambda_handler(event, context):
            s3 = boto3.client("s3")
            return s3.get_object(Bucket="b", Key=event["key"])
        ''', '''
        import boto3

        def lambda_handler(event, context):
            s3 = boto3.client("s3", region_name=event["region"])
            return s3.get_object(Bucket="b", Key=event["key"])
        '''),
    "LF005": ('''
        def add(tag, tags=[]):
            tags.append(tag)
            return tags

        def lambda_handler(event, context):
            return add(event["tag"])
        ''', '''
        def add(tag, tags=[]):
            return [*tags, tag]

        def lambda_handler(event, context):
            return add(event["tag"])
        '''),
    "LF006": ('''
        import logging

        def lambda_handler(event, context):
            logging.getLogger("orders").addHandler(logging.StreamHandler())
            return event["id"]
        ''', '''
        import logging

        def lambda_handler(event, context):
            logging.getLogger("orders").addHandler(logging.FileHandler(context.aws_request_id))
            return event["id"]
        '''),
    "LF010": ('''
        import tempfile

        def lambda_handler(event, context):
            work = tempfile.mkdtemp()
            return event["id"]
        ''', '''
        import tempfile

        def lambda_handler(event, context):
            work = tempfile.mkdtemp(dir="/mnt/shared")
            return event["id"]
        '''),
    "LF007": ('''
        import os

        def lambda_handler(event, context):
            os.environ["TENANT"] = event["tenant"]
            return event["id"]
        ''', '''
        import os

        def lambda_handler(event, context):
            os.environ.update(event["settings"])
            return event["id"]
        '''),
}


def test_every_rule_has_a_pair() -> None:
    """A fix case and a no-op case for each rule that fixes (a rule that only reports has no plan)."""
    assert sorted(PAIRS) == [rule.code for rule in RULES if rule.fixable]


@pytest.mark.parametrize("code", sorted(PAIRS))
def test_the_fix_case_gets_a_plan(code: str) -> None:
    [diagnosis] = diagnoses(PAIRS[code][0], code)
    assert diagnosis.plan is not None and diagnosis.fix_title and diagnosis.applicability


@pytest.mark.parametrize("code", sorted(PAIRS))
def test_the_no_op_case_gets_no_plan(code: str) -> None:
    assert all(d.plan is None and "not " in d.message for d in diagnoses(PAIRS[code][1], code))


def test_lf001_plan_threads_the_state_to_helpers() -> None:
    [diagnosis] = diagnoses('''
        out = []

        def leaf(item):
            out.append(item)

        def lambda_handler(event, context):
            leaf(event["id"])
            return out
        ''', "LF001")
    assert diagnosis.plan == MovePlan(Threading("out", "lambda_handler", (("leaf", PassAs.POSITIONAL),)))


@pytest.mark.parametrize("docstring", ['"""Add an item.\n\n    Args:\n        item: what to add.\n    """',
                                       '"""Add an item.\n\n    :param item: what to add.\n    """'])
def test_lf001_gives_a_new_value_where_a_helper_gaining_the_parameter_documents_its_parameters(docstring: str) -> None:
    source = '''
        out = []

        def leaf(item):
            DOC
            out.append(item)

        def lambda_handler(event, context):
            leaf(event["id"])
            return out
        '''
    source = textwrap.dedent(source)
    [diagnosis] = diagnoses(source.replace("DOC", docstring), "LF001")
    assert isinstance(diagnosis.plan, ResetPlan) and diagnosis.plan.how is ResetHow.REBIND
    [diagnosis] = diagnoses(source.replace("DOC", '"""Add an item."""'), "LF001")
    assert isinstance(diagnosis.plan, MovePlan)


def test_lf001_names_a_moved_constant_like_a_local_where_that_name_is_free() -> None:
    source = '''
        SEEN = INIT

        def leaf(item):
            SEEN.add(item)

        def lambda_handler(event, context):
            leaf(event["id"])
            return len(SEEN)
        '''
    [diagnosis] = diagnoses(source.replace("INIT", "set()"), "LF001")
    assert isinstance(diagnosis.plan, MovePlan) and diagnosis.plan.local_name == "seen"
    assert diagnosis.fix_title == "move `SEEN` into `lambda_handler` and pass it to `leaf` as `seen`"
    for taken in ("leaf(item, seen=None)", "leaf(item, *, seen_=None)"):  # a parameter named so, or not
        [diagnosis] = diagnoses(source.replace("leaf(item)", taken).replace("INIT", "set()"), "LF001")
        assert isinstance(diagnosis.plan, MovePlan)
        assert diagnosis.plan.local_name == (None if "seen=" in taken else "seen")


def test_lf002_plan_clears_state_made_empty() -> None:
    [diagnosis] = diagnoses(PAIRS["LF002"][0], "LF002")
    plan = diagnosis.plan
    assert isinstance(plan, ResetPlan) and plan.how is ResetHow.CLEAR and plan.reference == "seen"


def test_lf003_plan_points_at_every_spelling_by_span() -> None:
    [diagnosis] = diagnoses('''
        def lambda_handler(event, context):
            with open("/tmp/out.json", "a") as stream:
                stream.write(event["line"])
            with open("/tmp/out.json") as stream:
                return stream.read()
        ''', "LF003")
    plan = diagnosis.plan
    assert isinstance(plan, TmpPathPlan) and plan.cleanup is Cleanup.FILE
    assert plan.replaced == ((Span(3, 14, 3, 29), "out_path"), (Span(5, 14, 5, 29), "out_path"))


def test_lf004_plans_tell_twin_calls_apart_by_position() -> None:
    found = diagnoses('''
        import boto3

        def lambda_handler(event, context):
            s3 = boto3.client("s3")
            s3.put_object(Bucket="b", Key=event["key"], Body=b"x")
            with boto3.client("s3") as scoped:
                scoped.head_object(Bucket="b", Key=event["key"])
            return {"ok": True}
        ''', "LF004")
    hoisted, reported = found
    assert isinstance(hoisted.plan, HoistPlan) and hoisted.plan.call == Span(5, 9, 5, 27)
    assert reported.plan is None and "context manager" in reported.message and reported.line == 7


def test_lf004_counts_columns_in_characters() -> None:
    [diagnosis] = diagnoses('''
        import boto3

        def lambda_handler(event, context):
            é = "ü"; s3 = boto3.client("s3")
            return s3.get_object(Bucket="b", Key=event["key"])
        ''', "LF004")
    assert diagnosis.plan.call == Span(5, 18, 5, 36)


def test_lf005_plan_names_the_parameter() -> None:
    [diagnosis] = diagnoses(PAIRS["LF005"][0], "LF005")
    assert diagnosis.plan == DefaultPlan("add", "tags", "[]", None, None)


# ---- LF003 on names made at run time: reported, never rewritten ----------------------------------

@pytest.mark.parametrize(("body", "reported"), [
    ('path = f"/tmp/{event[\'key\']}"\n    open(path, "w").write("x")', "taken from the request"),
    ('open("/tmp/" + event["name"], "w").write("x")', "taken from the request"),
    ('open("/tmp/{}".format(event["name"]), "w").write("x")', "taken from the request"),
    ('open(os.path.join("/tmp", event["name"]), "w").write("x")', "taken from the request"),
    ('Path(Path("/tmp") / event["name"]).write_text("x")', "taken from the request"),
    ('open(f"/tmp/{uuid.uuid4()}.png", "wb").write(b"x")', "made anew each time"),
    ('open(os.path.join(tempfile.gettempdir(), NAME), "a").write("x")', "does not change"),
    # left alone: removed by the handler, checked for (a cache per key), made by tempfile, constant
    ('p = f"/tmp/{event[\'k\']}"\n    open(p, "w").write("x")\n    os.remove(p)', None),
    ('p = f"/tmp/{event[\'k\']}"\n    if not os.path.exists(p):\n        open(p, "w").write("x")', None),
    ('open(os.path.join(tempfile.mkdtemp(), "x"), "w").write("x")', None),
    ('open(f"/tmp/{event[\'k\']}").read()', None),
])
def test_names_made_at_run_time_are_reported_with_how_they_are_made(body: str, reported: str | None) -> None:
    source = f'''
import os
import tempfile
import uuid
from pathlib import Path

NAME = os.environ["NAME"]


def lambda_handler(event, context):
    {body}
'''
    found = diagnoses(source, "LF003")
    if reported is None:
        assert not found
    else:
        assert len(found) == 1 and found[0].plan is None and reported in found[0].message


@pytest.mark.parametrize(("body", "reported"), [
    ('os.chdir("/tmp")\n    open("out.json", "a").write("x")', True),
    ('os.chdir("/tmp")\n    open(f"out-{event[\'k\']}.json", "w").write("x")', True),
    ('os.chdir("/tmp")\n    open("/var/task/out.json").read()', False),
    ('open("out.json", "w").write("x")', False),  # the working directory is the code's: read-only in Lambda
])
def test_relative_names_after_a_chdir_into_tmp_are_reported(body: str, reported: bool) -> None:
    source = f'''
import os


def lambda_handler(event, context):
    {body}
'''
    found = diagnoses(source, "LF003")
    assert bool(found) is reported
    assert all(d.plan is None and "os.chdir" in d.message for d in found)


@pytest.mark.parametrize(("comments", "declared"), [
    ("# Shared across invocations so warm starts are faster.\nseen = []", True),
    ("seen = []  # survives warm starts on purpose", True),
    ("# kept for the life of the execution environment\nseen = []", True),
    ("# results of the current request\nseen = []", False),
    ("seen = []  # ids seen in this request", False),
    ('seen = ["#across invocations"]', False),  # a string, not a comment
])
def test_a_comment_that_says_the_state_outlives_the_invocation_stops_the_fix(comments: str, declared: bool) -> None:
    source = f'''
{comments}


def lambda_handler(event, context):
    seen.append(event["id"])
    return len(seen)
'''
    source = textwrap.dedent(source)
    module = module_facts.build("/project/app.py", "app", source, ast.parse(source))
    project = Project(lambda path: None)
    project.add(module)
    found = [d for d in find_all(project, module, enabled=lambda c: c in ("LF001", "LF002"))
             if d.code in ("LF001", "LF002")]
    assert len(found) == 1
    assert (found[0].plan is None and "meant to outlive" in found[0].message) is declared


_HELPER = '''
import boto3


def get_table():
    return boto3.resource("dynamodb").Table("orders")
'''
_CALLER = '''
from {module} import get_table


def lambda_handler(event, context):
    get_table().put_item(Item={{"id": event["id"]}})
    return {{"saved": event["id"]}}
'''


def _lf004(paths: list[str]) -> dict[str, list[tuple[int, bool, str]]]:
    from lambda_fix import Config, Mode, run

    summary = run(paths, Config(cache=False, select=("LF004",)), Mode.CHECK)
    return {r.path: [(f.line, f.fix is not None, f.message) for f in r.findings] for r in summary.results if r.findings}


def test_lf004_builds_a_helper_modules_client_once_there_when_the_run_checks_that_module(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("storage.py").write_text(_HELPER)
    Path("app.py").write_text(_CALLER.format(module="storage"))
    [(line, fixable, message)] = _lf004(["."])["storage.py"]
    assert (line, fixable) == (6, True) and "`lambda_handler` of `app`" in message
    # Checked alone, the handler's module reports it where it calls into the helper, and says how to fix it.
    [(line, fixable, message)] = _lf004(["app.py"])["app.py"]
    assert (line, fixable) == (6, False) and "run lambda-fix on storage.py too" in message


def test_lf004_leaves_a_helper_module_no_handler_reaches(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for function in ("orders", "refunds"):
        Path(function).mkdir()
        Path(function, "utils.py").write_text(_HELPER)
    # Only orders' handler imports a `utils`: refunds/utils.py is another module of the same name.
    Path("orders", "app.py").write_text(_CALLER.format(module="utils"))
    Path("cli.py").write_text("import boto3\n\ndef main():\n    return boto3.client('s3')\n")
    # A library installed beside the code (a layer's `python/` directory) is no module of the project.
    Path("python", "mylib-1.0.dist-info").mkdir(parents=True)
    Path("python", "mylib.py").write_text(_HELPER)
    Path("python", "app.py").write_text(_CALLER.format(module="mylib"))
    Path("broken.py").write_text("import boto3\ndef f(:\n")  # a helper's syntax error is no error of the run
    assert list(_lf004(["."])) == [str(Path("orders", "utils.py"))]


@pytest.mark.parametrize(("source", "code"), [
    # A comprehension's `event` is its own variable, not the handler's: what it carries is no request's.
    ('''
        LOOKUP = {}

        def lambda_handler(event, context):
            if not LOOKUP:
                LOOKUP.update({event: i for i, event in enumerate("abc")})
            return LOOKUP.get(event["c"])
        ''', "LF002"),
    ('''
        ITEMS = []

        def lambda_handler(event, context):
            ITEMS[:] = [event.upper() for event in "abc"]
            return list(ITEMS)
        ''', "LF001"),
    ('''
        import boto3

        client = None

        def lambda_handler(event, context):
            global client
            if client is None:
                client = [boto3.client("s3", region_name=event) for event in ["us-east-1"]][0]
            return client.list_buckets()
        ''', "LF004"),
])
def test_a_comprehension_variable_named_like_the_event_is_not_request_data(source: str, code: str) -> None:
    assert diagnoses(source, code) == []


def test_a_comprehension_over_the_event_still_carries_request_data() -> None:
    [diagnosis] = diagnoses('''
        SEEN = []

        def lambda_handler(event, context):
            SEEN.extend([item for item in event["items"]])
            return len(SEEN)
        ''', "LF001")
    assert "per-request data" in diagnosis.message
