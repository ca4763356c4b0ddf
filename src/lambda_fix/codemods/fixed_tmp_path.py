"""## What it does
Finds fixed paths under `/tmp` (string literals, module constants, `os.path.join` of constants) that
code a Lambda handler reaches writes, appends, creates or removes, and gives each invocation its own:
the request ID goes into the name, and the file is removed when the invocation ends.

## Why is this bad?
`/tmp` belongs to the execution environment, not to the invocation. A handler that writes
`/tmp/output.json` finds the previous invocation's file on the next warm start: appends grow,
existence checks lie, and a half-written file from an invocation that failed gets read. Names made
unique per invocation but never removed fill the environment's ephemeral storage (512 MB by default)
over thousands of warm invocations.

## Example
```python
import json

OUTPUT = "/tmp/output.json"


def save(rows):
    with open(OUTPUT, "a") as stream:
        stream.write(json.dumps(rows) + "\\n")


def lambda_handler(event, context):
    save(event["rows"])
    with open(OUTPUT) as stream:
        return {"lines": len(stream.readlines())}
```

## Use instead
```python
import contextlib
import json
import os


def save(rows, OUTPUT):
    with open(OUTPUT, "a") as stream:
        stream.write(json.dumps(rows) + "\\n")


def lambda_handler(event, context):
    OUTPUT = f"/tmp/output-{context.aws_request_id}.json"
    try:
        save(event["rows"], OUTPUT)
        with open(OUTPUT) as stream:
            return {"lines": len(stream.readlines())}
    finally:
        with contextlib.suppress(OSError):
            os.remove(OUTPUT)
```

## Fix safety
Every place the module spells the path (in the handler and the helpers it calls) changes together:
the handler makes the name from `context.aws_request_id`, before the extension
(`/tmp/report.csv` becomes `/tmp/report-<request id>.csv`), and passes it to the helpers that use it,
as LF001 passes state. A module-level path constant becomes that per-invocation value. A handler
without a context parameter gets `uuid.uuid4().hex` instead, except a durable (replayed) execution,
which must stay deterministic: that is reported, not rewritten. The file, or the directory made
there, is removed in a `finally` that ignores errors of its own, so the handler's exceptions are
never hidden.

Left alone: paths only read; paths already unique (built from the request ID, a UUID or `tempfile`);
and files made once per environment on purpose, such as a model downloaded under an
`if not os.path.exists(path):` guard. Reported, not rewritten: a path also used by code the handler
does not reach, by module-level code, by another file of the project or inside a longer string (a
command line); paths nested in one another; and a path the handler returns, since a new name would
change what it returns. The fix is safe.
"""

from __future__ import annotations

import ast
import re
from typing import Sequence

import libcst as cst

from ..analysis.tmp_paths import TmpPathPlan
from ._edit import (HandlerTransformer, PlanCodemod, Transformer, add_module_statements, as_block, split_preamble,
                    statement, try_finally)
from .handler_state_at_module_level import MoveStateIntoHandler

CODE = "LF003"
NAME = "fixed-tmp-path"
SUMMARY = "a fixed path under /tmp written per invocation: name it per invocation and remove it"


class PerInvocationTmpPath(PlanCodemod):
    DESCRIPTION = "Give each invocation its own /tmp path and remove it when the invocation ends."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        plans: list[TmpPathPlan] = self.plans  # type: ignore[assignment]
        tree = tree.visit(_ReplacePaths(plans))
        tree = tree.visit(_RemoveAtEnd(plans))
        # Creating the name in the handler and passing it to helpers is LF001's move, reused.
        tree = tree.visit(MoveStateIntoHandler.TRANSFORMER([p.move for p in plans]))
        imports = sorted({line for p in plans for line in p.imports})
        return add_module_statements(tree, imports)


class _ReplacePaths(Transformer):
    """Inside the functions that now receive the name, literals and joins of the path become the name."""

    def __init__(self, plans: Sequence[TmpPathPlan]) -> None:
        super().__init__()
        self.literals = {p.value: p for p in plans if p.literal}
        self.replaced = {key: (p, replacement) for p in plans for key, replacement in p.replaced}
        self.chains = {p.variable: {p.handler, *(f for f, _ in p.move.threaded)} for p in plans}
        self._top: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._top.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._top.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False  # the analysis reports paths used in classes instead

    def _in_chain(self, plan: TmpPathPlan) -> bool:
        return bool(self._top) and self._top[0] in self.chains[plan.variable]

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        try:
            value = ast.literal_eval(original_node.value)
        except (ValueError, SyntaxError):
            return updated_node
        plan = self.literals.get(value) if isinstance(value, str) else None
        return cst.Name(plan.variable) if plan and self._in_chain(plan) else updated_node

    def _replace(self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        bare = original_node.with_changes(lpar=[], rpar=[])  # the analysis saw no parentheses
        found = self.replaced.get(re.sub(r"\s+", "", cst.Module(body=[]).code_for_node(bare)))
        if found is None or not self._in_chain(found[0]):
            return updated_node
        return cst.parse_expression(found[1]).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)

    def leave_BinaryOperation(self, original_node: cst.BinaryOperation,
                              updated_node: cst.BinaryOperation) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)

    def leave_FormattedString(self, original_node: cst.FormattedString,
                              updated_node: cst.FormattedString) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)


class _RemoveAtEnd(HandlerTransformer):
    """The handler's body runs in `try`; `finally` removes the invocation's files, ignoring its own errors."""

    def edit_handler(self, handler: cst.FunctionDef, plans: list[TmpPathPlan]) -> cst.FunctionDef:
        block = as_block(handler.body)
        preamble, rest = split_preamble(block.body)
        removals: list[cst.BaseStatement] = []
        for plan in plans:
            if plan.cleanup == "directory":
                removals.append(statement(f"shutil.rmtree({plan.variable}, ignore_errors=True)"))
            else:
                removals.append(statement(f"with contextlib.suppress(OSError):\n    os.remove({plan.variable})\n"))
        return handler.with_changes(body=block.with_changes(body=[*preamble, try_finally(rest, removals)]))
