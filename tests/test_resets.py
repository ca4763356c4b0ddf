"""Code that already resets what it shares: the order analysis (analysis/control.py) on small
functions, and what LF001, LF002 and LF003 conclude from it (rules/_state_resets.py, _tmp_resets.py)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from lambda_fix.analysis import module as module_facts
from lambda_fix.analysis.control import Effect, reset_first, reset_last
from lambda_fix.analysis.project import Project
from lambda_fix.rules import find_all


def _body(source: str) -> list[ast.stmt]:
    function = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(function, ast.FunctionDef)
    return function.body


def _classify(node: ast.AST) -> Effect:
    """`S.clear()` resets, `S.add(...)` stores, `fill(...)` writes, any other mention of S reads."""
    text = ast.unparse(node)
    if text == "S.clear()":
        return Effect.RESET
    if "S.add(" in text:
        return Effect.STORE
    if "fill(" in text:
        return Effect.WRITE
    return Effect.READ if "S" in text.replace("S.clear", "") else Effect.NONE


def _guard(test: ast.expr) -> bool | None:
    return False if ast.unparse(test) == "S" else None


@pytest.mark.parametrize("source, first", [
    ("def h():\n    S.clear()\n    S.add(1)\n", True),
    ("def h():\n    log()\n    S.clear()\n    S.add(1)\n", True),
    ("def h():\n    if not event:\n        return 0\n    S.clear()\n    S.add(1)\n", True),
    ("def h():\n    if S:\n        S.clear()\n    S.add(1)\n", True),
    ("def h():\n    try:\n        S.clear()\n        fill()\n    finally:\n        log()\n", True),
    ("def h():\n    S.add(1)\n    S.clear()\n", False),  # read before
    ("def h():\n    if x:\n        S.clear()\n    S.add(1)\n", False),  # one branch only
    ("def h():\n    if x:\n        S.clear()\n        S.add(1)\n", False),  # the other branch ends stale
    ("def h():\n    for x in y:\n        S.clear()\n    S.add(1)\n", False),  # the loop may not run
    ("def h():\n    log()\n", False),  # no reset at all
])
def test_reset_first(source: str, first: bool) -> None:
    assert reset_first(_body(source), _classify, _guard) is first


@pytest.mark.parametrize("source, returned, raised", [
    # a finally covers every way out
    ("def h():\n    try:\n        fill()\n        return 1\n    finally:\n        S.clear()\n", True, True),
    # before the return only: an exception of fill() skips it
    ("def h():\n    fill()\n    S.clear()\n    return 1\n", True, False),
    # a store raises before it changes anything; a write (a call) may fail half-way
    ("def h():\n    S.add(1)\n    S.clear()\n    return 1\n", True, True),
    ("def h():\n    S.add(1)\n    log(S)\n    S.clear()\n", True, False),
    ("def h():\n    x = 1\n    S.add(1)\n    S.clear()\n", True, True),
    # caught whatever it is, then reset on the only way out
    ("def h():\n    try:\n        fill()\n    except Exception:\n        r = None\n    S.clear()\n    return r\n",
     True, True),
    # caught only for some exceptions
    ("def h():\n    try:\n        fill()\n    except KeyError:\n        r = None\n    S.clear()\n    return r\n",
     True, False),
    # one return skips the reset
    ("def h():\n    fill()\n    if x:\n        return 0\n    S.clear()\n    return 1\n", False, False),
    # written again after the reset
    ("def h():\n    try:\n        fill()\n    finally:\n        S.clear()\n    fill()\n", False, False),
    # a loop that writes after the reset on its second pass
    ("def h():\n    for x in y:\n        S.clear()\n        fill()\n", False, False),
])
def test_reset_last(source: str, returned: bool, raised: bool) -> None:
    exits = reset_last(_body(source), _classify, _guard)
    assert (exits.returned, exits.raised) == (returned, raised)


def _findings(source: str, path: str = "/project/app.py") -> list:
    source = textwrap.dedent(source)
    module = module_facts.build(path, "app", source, ast.parse(source))
    project = Project(lambda p: None)
    project.add(module)
    return find_all(project, module)


SHARED = """
    RESULTS = []
    def record(item):
        RESULTS.append(item["id"])
    def lambda_handler(event, context):
{body}
    def report():
        return list(RESULTS)
"""


def _state_findings(body: str) -> list:
    return _findings(SHARED.format(body=textwrap.indent(textwrap.dedent(body), " " * 8)))


@pytest.mark.parametrize("body", [
    "RESULTS.clear()\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    "del RESULTS[:]\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    "RESULTS[:] = []\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    "global RESULTS\nRESULTS = []\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    "if RESULTS:\n    RESULTS.clear()\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    "try:\n    for item in event['items']:\n        record(item)\n    return {'ids': ','.join(RESULTS)}\n"
    "finally:\n    RESULTS.clear()\n",
])
def test_state_the_handler_resets_is_left_alone(body: str) -> None:
    assert _state_findings(body) == []


@pytest.mark.parametrize("body", [
    # a list of the handler's own of the same name resets nothing of the module's
    "RESULTS = []\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n",
    # another piece of module state rebound into it is no new object
    "global RESULTS\nRESULTS = OTHER\nfor item in event['items']:\n    record(item)\nreturn {}\n",
    # read before it is reset
    "before = len(RESULTS)\nRESULTS.clear()\nfor item in event['items']:\n    record(item)\nreturn {'n': before}\n",
    # reset on one branch only
    "if event.get('fresh'):\n    RESULTS.clear()\nfor item in event['items']:\n    record(item)\nreturn {}\n",
])
def test_what_is_no_reset_is_still_reported(body: str) -> None:
    source = SHARED.format(body=textwrap.indent(textwrap.dedent(body), " " * 8)).replace(
        "RESULTS = []\n    def record", "RESULTS = []\n    OTHER = []\n    def record", 1)
    assert {f.code for f in _findings(source)} & {"LF001", "LF002"}


def test_a_reset_an_exception_skips_is_reported_with_why_and_no_copy() -> None:
    [finding] = _state_findings(
        "for item in event['items']:\n    record(item)\nout = summarise(RESULTS)\nRESULTS.clear()\nreturn out\n")
    assert "keeps the data of an invocation of `lambda_handler` that raises" in finding.message
    assert "not when an exception leaves it" in finding.message
    assert not finding.plan.copy_returns


def test_a_returned_state_reset_on_the_way_out_is_reported_not_fixed() -> None:
    [finding] = _state_findings(
        "try:\n    for item in event['items']:\n        record(item)\n    return RESULTS\n"
        "finally:\n    RESULTS.clear()\n")
    assert finding.plan is None and "the caller receives it emptied" in finding.message


TMP = """
    import os
    import shutil
    WORK = "/tmp/work"
    def lambda_handler(event, context):
{body}
"""


def _tmp_findings(body: str) -> list:
    return [f for f in _findings(TMP.format(body=textwrap.indent(textwrap.dedent(body), " " * 8)))
            if f.code == "LF003"]


@pytest.mark.parametrize("body", [
    "shutil.rmtree(WORK, ignore_errors=True)\nos.makedirs(WORK)\n"
    "with open(os.path.join(WORK, 'a.txt'), 'w') as f:\n    f.write(event['a'])\nreturn os.listdir(WORK)\n",
    "if os.path.exists(WORK):\n    shutil.rmtree(WORK)\nos.makedirs(WORK)\n"
    "with open(os.path.join(WORK, 'a.txt'), 'w') as f:\n    f.write(event['a'])\nreturn os.listdir(WORK)\n",
    "os.makedirs(WORK, exist_ok=True)\ntry:\n    with open(os.path.join(WORK, 'a.txt'), 'w') as f:\n"
    "        f.write(event['a'])\n    return os.listdir(WORK)\nfinally:\n    shutil.rmtree(WORK, ignore_errors=True)\n",
])
def test_a_directory_the_handler_empties_is_left_alone(body: str) -> None:
    assert _tmp_findings(body) == []


def test_a_directory_removed_only_on_return_is_reported_with_why() -> None:
    findings = _tmp_findings("os.makedirs(WORK, exist_ok=True)\nwith open(os.path.join(WORK, 'a.txt'), 'w') as f:\n"
                             "    f.write(event['a'])\nnames = os.listdir(WORK)\nshutil.rmtree(WORK)\nreturn names\n")
    assert findings and all("but not when an exception leaves it" in f.message for f in findings)


def test_a_directory_made_before_it_is_emptied_is_reported() -> None:
    assert _tmp_findings("os.makedirs(WORK, exist_ok=True)\nwith open(os.path.join(WORK, 'a.txt'), 'a') as f:\n"
                         "    f.write(event['a'])\nif event.get('clean'):\n    shutil.rmtree(WORK)\nreturn 1\n")


@pytest.mark.parametrize("helper, call_at_start, left_alone", [
    ("def reset_state():\n    RESULTS.clear()\n", True, True),
    ("def reset_state():\n    if RESULTS:\n        RESULTS.clear()\n", True, True),
    ("def reset_state():\n    RESULTS.clear()\n", False, True),  # in a finally
    ("def reset_state(flag=None):\n    if flag:\n        RESULTS.clear()\n", True, False),  # not on every path
    ("def reset_state():\n    if not RESULTS:\n        return\n    log()\n    RESULTS.clear()\n", True, False),
])
def test_a_function_called_to_reset_counts_when_it_resets_on_every_way_out(helper: str, call_at_start: bool,
                                                                            left_alone: bool) -> None:
    body = ("reset_state()\nfor item in event['items']:\n    record(item)\nreturn {'n': len(RESULTS)}\n"
            if call_at_start else
            "try:\n    for item in event['items']:\n        record(item)\n    return {'n': len(RESULTS)}\n"
            "finally:\n    reset_state()\n")
    source = SHARED.format(body=textwrap.indent(body, " " * 8)) + textwrap.indent(helper, " " * 4) + \
        "    def log():\n        print(len(RESULTS))\n"
    assert (_findings(source) == []) is left_alone


@pytest.mark.parametrize("helper, call, left_alone", [
    ("def prepare(path):\n    shutil.rmtree(path, ignore_errors=True)\n    os.makedirs(path)\n", "prepare(WORK)", True),
    ("def prepare():\n    if os.path.isdir(WORK):\n        shutil.rmtree(WORK)\n    os.makedirs(WORK)\n",
     "prepare()", True),
    ("def prepare(path, clean=False):\n    if clean:\n        shutil.rmtree(path)\n"
     "    os.makedirs(path, exist_ok=True)\n",
     "prepare(WORK)", False),
])
def test_a_function_called_to_empty_the_directory_counts(helper: str, call: str, left_alone: bool) -> None:
    body = f"{call}\nwith open(os.path.join(WORK, 'a.txt'), 'a') as f:\n    f.write(event['a'])\nreturn 1\n"
    source = TMP.format(body=textwrap.indent(body, " " * 8)) + textwrap.indent(helper, " " * 4)
    assert ([f for f in _findings(source) if f.code == "LF003"] == []) is left_alone


def test_a_nested_function_that_writes_the_state_keeps_the_reset_from_counting() -> None:
    body = ("def add(item):\n    RESULTS.append(item)\ntry:\n    for item in event['items']:\n        add(item)\n"
            "    return {'n': len(RESULTS)}\nfinally:\n    RESULTS.clear()\n")
    assert _state_findings(body)


def test_a_store_filled_from_a_generator_may_fail_half_way() -> None:
    body = "RESULTS.extend(int(x) for x in event['items'])\nRESULTS.clear()\nreturn {}\n"
    [finding] = _state_findings(body)
    assert "not when an exception leaves it" in finding.message


def test_a_nested_function_that_writes_the_directory_keeps_the_removal_from_counting() -> None:
    body = ("def save(text):\n    with open(os.path.join(WORK, 'a.txt'), 'a') as f:\n        f.write(text)\n"
            "shutil.rmtree(WORK, ignore_errors=True)\nos.makedirs(WORK)\nsave(event['a'])\nreturn 1\n")
    assert _tmp_findings(body)


CONFIG = """
    import json
    CONFIG = {{}}
    DEFAULTS = {{}}
    CACHE = {{}}
    def block(address):
        CONFIG.setdefault("blocked", []).append(address)
{helper}
    def lambda_handler(event, context):
{body}
        for address in event["addresses"]:
            block(address)
        return {{"n": len(CONFIG["blocked"])}}
"""


def _config_findings(body: str, helper: str = "") -> list:
    source = CONFIG.format(body=textwrap.indent(textwrap.dedent(body), " " * 8),
                           helper=textwrap.indent(textwrap.dedent(helper), " " * 4))
    return [f for f in _findings(source) if f.code in ("LF001", "LF002")]


@pytest.mark.parametrize("body, helper", [
    ("global CONFIG\nCONFIG = json.loads(event['document'])\n", ""),
    ("load(event['document'])\n", "def load(document):\n    global CONFIG\n    CONFIG = json.loads(document)\n"),
    # what the loader does once it has rebound the state is its own
    ("load(event['document'])\n",
     "def load(document):\n    global CONFIG\n    parsed = json.loads(document)\n    CONFIG = parsed['rules']\n"
     "    CONFIG.setdefault('blocked', [])\n"),
    ("global CONFIG\nCONFIG = parse(event['document'])\n", "def parse(document):\n    return json.loads(document)\n"),
])
def test_state_rebound_wholesale_before_any_read_is_left_alone(body: str, helper: str) -> None:
    assert _config_findings(body, helper) == []


@pytest.mark.parametrize("body, helper", [
    # made from what it held: the old value carries over
    ("global CONFIG\nCONFIG = dict(CONFIG, **json.loads(event['document']))\n", ""),
    ("global CONFIG\nCONFIG = merge(CONFIG, event)\n", "def merge(old, event):\n    return {**old, **event}\n"),
    # changed in place, not rebound
    ("CONFIG.update(json.loads(event['document']))\n", ""),
    # another piece of module state, or an object kept in one
    ("global CONFIG\nCONFIG = DEFAULTS\n", ""),
    ("global CONFIG\nCONFIG = CACHE.setdefault(event['tenant'], {})\n", ""),
    # a function that reads the state makes the value
    ("global CONFIG\nCONFIG = current()\n", "def current():\n    return CONFIG\n"),
    # the call's argument reads it before the helper rebinds it
    ("load(CONFIG.get('next', '{}'))\n", "def load(document):\n    global CONFIG\n    CONFIG = json.loads(document)\n"),
    # the helper rebinds it on one path only
    ("load(event.get('document'))\n",
     "def load(document):\n    global CONFIG\n    if document:\n        CONFIG = json.loads(document)\n"),
    # the load may fail, and the handler goes on to use what the last invocation left
    ("try:\n    load(event['document'])\nexcept ValueError:\n    pass\n",
     "def load(document):\n    global CONFIG\n    CONFIG = json.loads(document)\n"),
])
def test_what_is_no_wholesale_rebinding_is_still_reported(body: str, helper: str) -> None:
    assert _config_findings(body, helper)


def test_a_directory_and_the_files_in_it_change_together() -> None:
    [finding] = _tmp_findings("os.makedirs('/tmp/out', exist_ok=True)\n"
                              "with open('/tmp/out/a.txt', 'a') as f:\n    f.write(event['a'])\n"
                              "with open(os.path.join('/tmp/out', 'b.txt'), 'w') as f:\n    f.write(event['b'])\n"
                              "return os.listdir('/tmp/out')\n")
    plan = finding.plan
    assert plan is not None and plan.value == "/tmp/out" and plan.variable == "out_dir"
    assert sorted(code for _, code in plan.replaced) == \
        ["os.path.join(out_dir, \"a.txt\")", "os.path.join(out_dir, \"b.txt\")", "out_dir", "out_dir"]


@pytest.mark.parametrize("body, why", [
    ("with open('/tmp/out/a.txt', 'a') as f:\n    f.write(event['a'])\nreturn os.listdir('/tmp/out')\n",
     "does not make `/tmp/out`"),
    ("os.makedirs('/tmp/out', exist_ok=True)\nwith open('/tmp/out/a.txt', 'a') as f:\n    f.write(event['a'])\n"
     "with open('/tmp/out/b.txt') as f:\n    return f.read()\n", "nothing the handler runs writes `/tmp/out/b.txt`"),
    ("os.makedirs('/tmp/out', exist_ok=True)\nwith open('/tmp/out/a.txt', 'a') as f:\n    f.write(event['a'])\n"
     "os.system('gzip /tmp/out/a.txt')\nreturn 1\n", "inside a longer string"),
    ("os.makedirs('/tmp/out', exist_ok=True)\nwith open('/tmp/out/a.txt', 'a') as f:\n    f.write(event['a'])\n"
     "with open(f'/tmp/out/{event[\"b\"]}', 'w') as f:\n    f.write('b')\nreturn 1\n", "begins an f-string"),
])
def test_a_directory_and_files_that_cannot_change_together_are_reported(body: str, why: str) -> None:
    [finding] = [f for f in _tmp_findings(body) if "`/tmp/out`" in f.message]  # a name built at run time has its own
    assert finding.plan is None and why in finding.message


def test_a_directory_spelled_with_a_trailing_slash_before_a_name_is_the_directory() -> None:
    [finding] = _tmp_findings("os.makedirs('/tmp/out', exist_ok=True)\n"
                              "with open('/tmp/out/' + event['name'], 'w') as f:\n    f.write('a')\n"
                              "return os.listdir('/tmp/out')\n")
    assert finding.plan is not None
    assert sorted(code for _, code in finding.plan.replaced) == ['f"{out_dir}/"', "out_dir", "out_dir"]
