"""Code for a newer Python than the one running lambda-fix: analysed through a stand-in with the
same lines and columns, rewritten on the real source."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

import pytest
from helpers import interpreter

from lambda_fix import Config, Status, check_source
from lambda_fix.newer_syntax import stand_in

NEWER = textwrap.dedent('''\
    type Pair[K, V] = tuple[K, V]
    seen = []


    def first[
        T: (int, str),
        *Ts,
    ](items: list[T]) -> T:
        return items[0]


    class Box[T]:
        pass


    def lambda_handler(event, context):
        seen.append(event["id"])
        return f"{event["name"]} {"\\n".join(map(str, seen))} {f"{event["id"]}"} é {len(seen)}"
    ''')


def _names(tree: ast.AST) -> set[tuple[str, int, int]]:
    return {(n.id, n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name)}


def test_the_stand_in_keeps_every_line_and_the_length() -> None:
    readable = stand_in(NEWER)
    assert readable is not None
    assert len(readable) == len(NEWER)
    assert readable.count("\n") == NEWER.count("\n")
    ast.parse(readable)


def test_names_are_where_the_newer_python_puts_them() -> None:
    """Every name the stand-in's tree has is one the target Python's own tree has, at the same place."""
    python = interpreter("3.12") or interpreter("3.13")
    if python is None:
        pytest.skip("needs Python 3.12 or newer to parse the original")
    script = ("import ast, json, sys; print(json.dumps([(n.id, n.lineno, n.col_offset) for n in "
              "ast.walk(ast.parse(sys.stdin.read())) if isinstance(n, ast.Name)]))")
    native = subprocess.run([python, "-c", script], input=NEWER, capture_output=True, text=True, check=True)
    expected = {tuple(n) for n in json.loads(native.stdout)}
    found = _names(ast.parse(stand_in(NEWER) or ""))
    assert found <= expected
    assert {("seen", 17, 4), ("event", 18, 14), ("len", 18, 80)} <= found  # 80: bytes, after "é"


def test_newer_syntax_is_fixed_on_the_real_source() -> None:
    result = check_source(NEWER, Config(), path="app.py")
    assert result.status is Status.CHANGED, result.error
    assert "def first[\n" in result.new_source and 'f"{event["name"]}' in result.new_source
    assert "def lambda_handler(event, context):\n    seen = []" in result.new_source
    [finding] = result.findings
    assert (finding.line, finding.column) == (2, 1)


def test_a_real_syntax_error_is_still_one() -> None:
    result = check_source("def lambda_handler(event, context):\n    return f'{'\n", Config(), path="app.py")
    assert result.status is Status.FAILED and result.error.startswith("syntax error at line 2")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python reads 3.12 syntax itself")
def test_what_the_stand_in_cannot_express_is_reported_as_newer_syntax() -> None:
    """A comment inside an f-string's braces needs a line break that a one-line literal cannot keep."""
    source = 'def lambda_handler(event, context):\n    return f"{event[\'a\']  # the key\n    }"\n'
    assert stand_in(source) is None
    result = check_source(source, Config(), path="app.py")
    assert result.status is Status.FAILED and "syntax newer than Python" in result.error


def test_python_314_t_strings_and_bracketless_except_read_as_their_311_spelling() -> None:
    source = ('def lambda_handler(event, context):\n    try:\n        return t"{event[\'id\']}"\n'
              '    except KeyError, ValueError:\n        return rt"{context}"\n')
    assert stand_in(source) == ('def lambda_handler(event, context):\n    try:\n        return f"{event[\'id\']}"\n'
                                '    except KeyError| ValueError:\n        return rf"{context}"\n')


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_type_parameters_over_several_lines_keep_their_lines(newline: str) -> None:
    source = newline.join(["def first[", "    T,", "](items: list[T]) -> T:", "    return items[0]", ""])
    readable = stand_in(source)
    assert readable is not None and len(readable) == len(source)
    assert readable.split(newline) == ["def first\\", "     \\", " (items: list[T]) -> T:", "    return items[0]", ""]


def test_except_star_reads_as_except_for_older_interpreters() -> None:
    source = "try:\n    pass\nexcept* (KeyError, ValueError):\n    pass\nexcept* OSError, TypeError:\n    pass\n"
    assert stand_in(source) == ("try:\n    pass\nexcept  (KeyError, ValueError):\n    pass\n"
                                "except  OSError| TypeError:\n    pass\n")
