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
constants, imports, module constants, environment variables (`os.environ`, `os.getenv`), and locals
assigned once from those (inlined into the new function). A client built from the event, from
per-request credentials (`sts.assume_role`) or from anything else is reported, not hoisted: one
shared client would serve a request with another tenant's credentials. So is a client used as a
context manager or closed by the handler, and one already cached at module level is left alone.

The client is built lazily, by a `functools.cache`d function, on first use rather than at import:
a failure stays out of the import (which would break the whole environment), and tests that set
environment variables or patch `boto3.client` after importing the module keep working. Connections
that can go stale (`pymysql`, `psycopg2`, `psycopg`, `mysql.connector`) are kept in a module-level
name and made again when the cached one has been closed; a connection the server dropped is not
detected until it is used.

boto3 and botocore clients, resources and sessions, urllib3 pools, Redis, MongoDB, SQLAlchemy engines
and search clients keep no per-request state: their fix is safe. A `requests.Session` or `httpx.Client`
keeps cookies, and a database connection keeps open transactions and session settings, which a shared
one carries from one invocation into the next: those fixes are unsafe.
"""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..analysis.client_reuse import HoistPlan, call_key
from ._edit import PlanCodemod, ScopedTransformer, add_module_statements

CODE = "LF004"
NAME = "per-invocation-client"
SUMMARY = "a client built on every invocation from fixed settings: build it once per environment"


def accessor_source(plan: HoistPlan) -> str:
    def indented(depth: int) -> str:  # continuation lines follow the statement they are in
        return plan.built_by.replace("\n", "\n" + " " * depth)

    if plan.closed_test is None:
        return f"@functools.cache\ndef {plan.accessor}():\n    return {indented(4)}\n"
    variable = "_" + plan.accessor[len("_get_"):]
    closed = plan.closed_test.format(name=variable)
    return (f"{variable} = None\n\n\ndef {plan.accessor}():\n    global {variable}\n"
            f"    if {variable} is None or {closed}:\n        {variable} = {indented(8)}\n    return {variable}\n")


class _HoistClient(ScopedTransformer):
    def __init__(self, plans: Sequence[HoistPlan]) -> None:
        super().__init__(within={p.function.split(".")[0] for p in plans})
        self.plans = list(plans)
        self._by_call = {(p.function, call_key(p.call_source)): p for p in self.plans}

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.scopes:
            return updated_node
        source = call_key(cst.Module(body=[]).code_for_node(original_node))
        # The plan names the function the call is in: its qualified name is a prefix of the scopes
        # (a call in a closure belongs to the enclosing function the analysis reached).
        for depth in range(len(self.scopes), 0, -1):
            plan = self._by_call.get((".".join(self.scopes[:depth]), source))
            if plan is not None:
                return cst.Call(func=cst.Name(plan.accessor))
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        done: set[str] = set()
        for plan in self.plans:
            if plan.accessor in done:
                continue
            done.add(plan.accessor)
            index = next((i for i, s in enumerate(body) if isinstance(s, (cst.FunctionDef, cst.ClassDef))
                          and s.name.value == plan.before), len(body))
            added = list(cst.parse_module(accessor_source(plan)).body)
            added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            body[index:index] = added
        updated_node = updated_node.with_changes(body=body)
        if any(p.closed_test is None for p in self.plans):
            updated_node = add_module_statements(updated_node, ["import functools"])
        return updated_node


class HoistClient(PlanCodemod):
    DESCRIPTION = "Build clients once per execution environment instead of on every invocation."
    TRANSFORMER = _HoistClient
