"""The libcst edits the fixes share (codemods/_edit.py, codemods/_threading.py), in no-op / fix pairs."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from lambda_fix.analysis.parameters import PassAs, Threading
from lambda_fix.codemods._edit import (
    add_module_statements,
    append_item,
    replace_spans,
    split_preamble,
    try_finally,
    without_global,
)
from lambda_fix.codemods._threading import PassDown
from lambda_fix.rules import Span


def parse(source: str) -> cst.Module:
    return cst.parse_module(textwrap.dedent(source).lstrip("\n"))


def code(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


# ---- replace_spans -------------------------------------------------------------------------------

TWINS = '''
def handler():
    a = make("s3")
    with (make("s3")) as b:
        return a, b
'''


def test_replace_spans_with_nothing_to_replace_returns_the_tree_itself() -> None:
    tree = parse(TWINS)
    assert replace_spans(tree, []) is tree


def test_replace_spans_changes_only_the_node_at_the_span() -> None:
    tree = replace_spans(parse(TWINS), [(Span(2, 8, 2, 18), "cached()")])
    assert tree.code == code(TWINS).replace('a = make("s3")', "a = cached()")


def test_replace_spans_keeps_the_nodes_own_parentheses() -> None:
    tree = replace_spans(parse(TWINS), [(Span(3, 10, 3, 20), "cached()")])
    assert "with (cached()) as b:" in tree.code


def test_replace_spans_ignores_a_span_that_names_no_expression() -> None:
    tree = replace_spans(parse(TWINS), [(Span(2, 9, 2, 18), "cached()")])  # one column off
    assert tree.code == code(TWINS)


# ---- imports --------------------------------------------------------------------------------------

def test_an_import_already_there_is_not_added_again() -> None:
    source = '"""Doc."""\nimport copy\n\nx = 1\n'
    assert add_module_statements(cst.parse_module(source), ["import copy"]).code == source


def test_imports_go_after_the_docstring_and_future_in_isort_order() -> None:
    source = '"""Doc."""\nfrom __future__ import annotations\n\nimport os\nfrom json import dumps\n\nx = 1\n'
    added = add_module_statements(cst.parse_module(source), ["import copy", "import uuid"]).code
    assert added == ('"""Doc."""\nfrom __future__ import annotations\n\nimport copy\nimport os\nimport uuid\n'
                     "from json import dumps\n\nx = 1\n")


def test_a_new_import_block_is_set_off_from_the_code() -> None:
    assert add_module_statements(cst.parse_module("x = 1\n"), ["import copy"]).code == "import copy\n\nx = 1\n"


def test_imports_join_the_others_below_the_module_dunders() -> None:
    """PEP 8 puts `__author__` and the like above the imports: the new import goes with the others."""
    source = '"""Doc."""\n__author__ = "someone"\n__version__: str = "1.0"\n\nimport json\n\nx = 1\n'
    added = add_module_statements(cst.parse_module(source), ["import copy"]).code
    assert added == ('"""Doc."""\n__author__ = "someone"\n__version__: str = "1.0"\n\nimport copy\nimport json\n'
                     "\nx = 1\n")
    alone = '"""Doc."""\n__author__ = "someone"\n\n\ndef f():\n    pass\n'
    assert add_module_statements(cst.parse_module(alone), ["import copy"]).code == (
        '"""Doc."""\n__author__ = "someone"\n\nimport copy\n\n\ndef f():\n    pass\n')


# ---- arguments and parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("before, after", [
    ("f(a)", "f(a, state)"),
    ("f()", "f(state)"),
    ("f(\n    a,\n    b,\n)", "f(\n    a,\n    b,\n    state,\n)"),  # one per line, magic trailing comma
    ("f(\n    a,\n    b\n)", "f(\n    a,\n    b,\n    state\n)"),
])
def test_append_item_follows_the_layout(before: str, after: str) -> None:
    call = cst.parse_expression(before)
    assert isinstance(call, cst.Call)
    args = append_item(call.args, cst.Arg(cst.Name("state")), call.whitespace_before_args, "whitespace_after_arg")
    assert cst.Module(body=[]).code_for_node(call.with_changes(args=args)) == after


# ---- bodies ------------------------------------------------------------------------------------------

def test_split_preamble_keeps_docstring_and_global_on_top() -> None:
    function = cst.parse_statement('def f():\n    """Doc."""\n    global x\n    x = 1\n')
    assert isinstance(function, cst.FunctionDef)
    preamble, rest = split_preamble(function.body.body)  # type: ignore[arg-type]
    assert len(preamble) == 2 and len(rest) == 1


def test_without_global_leaves_other_names_and_nested_functions() -> None:
    function = cst.parse_statement("def f():\n    global x, y\n    def g():\n        global x\n")
    assert isinstance(function, cst.FunctionDef)
    body = without_global(function.body.body, "x")  # type: ignore[arg-type]
    assert cst.Module(body=body).code == "global y\ndef g():\n    global x\n"
    assert cst.Module(body=without_global(body, "z")).code == "global y\ndef g():\n    global x\n"  # no-op


def test_try_finally_of_an_empty_body_is_valid() -> None:
    assert cst.Module(body=[try_finally([], [cst.parse_statement("done()")])]).code == \
        "try:\n    pass\nfinally:\n    done()\n"


# ---- passing a name down the call chain ------------------------------------------------------------------

CHAIN = '''
seen = []


def leaf(item):
    seen.append(item)


def middle(item, flag=False):
    leaf(item)


def lambda_handler(event, context):
    middle(event["id"])
    return len(seen)
'''


def test_pass_down_with_no_plan_changes_nothing() -> None:
    assert parse(CHAIN).visit(PassDown([])).code == code(CHAIN)


def test_pass_down_moves_the_binding_and_threads_positional_and_keyword() -> None:
    plan = Threading("seen", "lambda_handler", (("leaf", PassAs.POSITIONAL), ("middle", PassAs.KEYWORD)))
    assert parse(CHAIN).visit(PassDown([plan])).code == code('''
        def leaf(item, seen):
            seen.append(item)


        def middle(item, flag=False, *, seen):
            leaf(item, seen)


        def lambda_handler(event, context):
            seen = []
            middle(event["id"], seen=seen)
            return len(seen)
        ''')


LAYOUTS = '''
rows = []


def add(
    item,
    extra,
):
    rows.append((item, extra))


def add_kw(item, flag=False, **options):
    rows.append(item)


def add_star(*items):
    rows.extend(items)


def lambda_handler(event, context):
    add(
        event["a"],
        event["b"],
    )
    add_kw(event["c"], flag=True)
    add_star(event["d"],
             event["e"])
    return rows
'''


def test_pass_down_keeps_multi_line_layouts() -> None:
    plan = Threading("rows", "lambda_handler", (("add", PassAs.POSITIONAL), ("add_kw", PassAs.KEYWORD),
                                                 ("add_star", PassAs.KEYWORD)))
    assert parse(LAYOUTS).visit(PassDown([plan])).code == code('''
        def add(
            item,
            extra,
            rows,
        ):
            rows.append((item, extra))


        def add_kw(item, flag=False, *, rows, **options):
            rows.append(item)


        def add_star(*items, rows):
            rows.extend(items)


        def lambda_handler(event, context):
            rows = []
            add(
                event["a"],
                event["b"],
                rows,
            )
            add_kw(event["c"], flag=True, rows=rows)
            add_star(event["d"],
                     event["e"],
                     rows=rows)
            return rows
        ''')


def test_pass_down_renames_a_constant_and_annotates_annotated_helpers() -> None:
    source = '''
        RESPONSE: dict[str, object] = {"Data": {}}


        def note(key: str, value: object) -> None:
            RESPONSE["Data"][key] = value


        def status(code, *, final=False):
            RESPONSE["status"] = code


        def lambda_handler(event, context):
            note("id", event["id"])
            status(200, final=True)
            return {"body": RESPONSE, "RESPONSE": event.RESPONSE}
        '''
    plan = Threading("RESPONSE", "lambda_handler", (("note", PassAs.POSITIONAL), ("status", PassAs.KEYWORD)))
    assert parse(source).visit(PassDown([plan], {"RESPONSE": "response"})).code == code('''
        def note(key: str, value: object, response: dict[str, object]) -> None:
            response["Data"][key] = value


        def status(code, *, final=False, response):
            response["status"] = code


        def lambda_handler(event, context):
            response: dict[str, object] = {"Data": {}}
            note("id", event["id"], response)
            status(200, final=True, response=response)
            return {"body": response, "RESPONSE": event.RESPONSE}
        ''')


@pytest.mark.parametrize(("value", "annotation"), [("[]", "list"), ("set()", "set"), ("{1: 2}", "dict"),
                                                   ("defaultdict(list)", "defaultdict"),
                                                   ("collections.deque()", "collections.deque"), ("0", "int"),
                                                   ("make()", None)])
def test_pass_down_annotates_with_the_type_the_value_is_made_with(value: str, annotation: str | None) -> None:
    source = (f"state = {value}\n\n\ndef use(item: int):\n    state\n\n\n"
              "def lambda_handler(event, context):\n    use(1)\n")
    plan = Threading("state", "lambda_handler", (("use", PassAs.POSITIONAL),))
    expected = f"state: {annotation}" if annotation else "state"
    assert f"def use(item: int, {expected}):" in cst.parse_module(source).visit(PassDown([plan])).code


def test_pass_down_puts_no_final_on_a_parameter() -> None:
    source = ("from typing import Final\n\nSEEN: Final = set()\n\n\ndef use(item: int) -> None:\n    SEEN.add(item)\n"
              "\n\ndef lambda_handler(event, context):\n    use(1)\n")
    plan = Threading("SEEN", "lambda_handler", (("use", PassAs.POSITIONAL),))
    rewritten = cst.parse_module(source).visit(PassDown([plan], {"SEEN": "seen"})).code
    assert "def use(item: int, seen: set) -> None:\n    seen.add(item)" in rewritten
    assert "    seen: Final = set()\n    use(1, seen)" in rewritten


@pytest.mark.parametrize(("comment", "moved"), [("# Globals\n", ""),
                                                ("# ids seen in this request\n", "    # ids seen in this request\n")])
def test_pass_down_moves_a_comment_about_the_state_and_leaves_a_section_name(comment: str, moved: str) -> None:
    source = f"import os\n\n{comment}seen = []\n\n\ndef lambda_handler(event, context):\n    seen.append(1)\n"
    plan = Threading("seen", "lambda_handler", ())
    assert cst.parse_module(source).visit(PassDown([plan])).code == \
        f"import os\n\n\ndef lambda_handler(event, context):\n{moved}    seen = []\n    seen.append(1)\n"


def test_pass_down_creates_a_fresh_value_when_told() -> None:
    plan = Threading("path", "lambda_handler", (), created='path = f"/tmp/x-{context.aws_request_id}"')
    source = "def lambda_handler(event, context):\n    return path\n"
    assert cst.parse_module(source).visit(PassDown([plan])).code == \
        'def lambda_handler(event, context):\n    path = f"/tmp/x-{context.aws_request_id}"\n    return path\n'


@pytest.mark.parametrize("source", ["import json, os\n\nx = 1\n", "import os.path\n\nx = 1\n",
                                    "from json import dumps, loads\n\nx = 1\n"])
def test_an_import_inside_a_longer_statement_is_not_added_again(source: str) -> None:
    wanted = "from json import loads" if "from" in source else "import os"
    assert add_module_statements(cst.parse_module(source), [wanted]).code == source


def test_a_hoisted_client_gets_pep8_blank_lines_on_both_sides() -> None:
    from lambda_fix import Config, check_source

    source = ("import boto3\n\ndef lambda_handler(event, context):\n"
              "    return boto3.client('s3').get_object(Key=event['k'])\n")
    result = check_source(source, Config())
    assert result.new_source is not None
    assert "    return boto3.client('s3')\n\n\ndef lambda_handler" in result.new_source
    assert "import functools\n\nimport boto3\n\n\n@functools.lru_cache(maxsize=None)" in result.new_source


# ---- LF003: the statements a /tmp file lives in --------------------------------------------------

@pytest.mark.parametrize(("body", "life"), [
    # named only as arguments of calls that are done with it when they return: just those statements
    ("a = 1\nopen(p, 'w').write('x')\nupload(p, bucket)\nb = 2\n", (1, 3)),
    ("with open(p) as f:\n    data = f.read()\nreturn {'ok': os.path.exists(p)}\n", (0, 2)),
    ("data = json.load(open(p))\nc = 3\n", (0, 1)),
    ("subprocess.run(['ffmpeg', '-i', src, p], check=True)\nc = 3\n", (0, 1)),
    # a name that may outlive its statement: from the first use to the end of the handler
    ("a = 1\ntarget = Path(p)\nc = 3\n", (1, 3)),
    ("pending.append(p)\nc = 3\n", (0, 2)),
    ("pool.submit(upload, p)\nc = 3\n", (0, 2)),
    ("pool.submit(upload, Path(p))\nc = 3\n", (0, 2)),
    ("def later():\n    return open(p).read()\nc = 3\n", (0, 2)),
    ("q = p\nc = 3\n", (0, 2)),
    ("if p:\n    pass\nc = 3\n", (0, 2)),
    # never named (the name went only to helpers the plan knows nothing of): the whole rest
    ("a = 1\nb = 2\n", (0, 2)),
])
def test_the_try_spans_the_statements_the_file_lives_in(body: str, life: tuple[int, int]) -> None:
    from lambda_fix.codemods.fixed_tmp_path import _life

    statements = list(parse(body).body)
    assert _life(statements, {"p"}) == life
