"""## What it does
Finds parameters with a mutable default (`[]`, `{}`, `set()`, `defaultdict(list)`, ...) in functions a
Lambda handler reaches, when the function changes the default or hands it out (returns it, stores it,
passes it on), and makes each call create its own.

## Why is this bad?
A default is evaluated once, when the function is defined, so every call that does not pass the
argument shares one object. In Lambda the module lives on between invocations: items one request
added are still there for the next, and the list or dict grows for the life of the environment.

## Example
```python
def add_tag(tag, tags=[]):
    tags.append(tag)
    return tags


def lambda_handler(event, context):
    return {"tags": add_tag(event["tag"])}
```

## Use instead
```python
def add_tag(tag, tags=None):
    if tags is None:
        tags = []
    tags.append(tag)
    return tags


def lambda_handler(event, context):
    return {"tags": add_tag(event["tag"])}
```

## Fix safety
The default becomes `None` and the original expression is evaluated in the body when the argument is
not passed, so each call starts with what the first call of a cold start got. A type annotation becomes
optional, written as the file already writes it (`X | None` or `Optional[X]`; with neither, and no
`from __future__ import annotations`, `Optional[X]` with its import, which every Python version Lambda
runs accepts). A default that is never changed nor handed out is harmless and left alone.

The rewrite is made only when the function runs at most once per invocation (one call site, outside
loops, comprehensions and lambdas, in a function that itself runs at most once, up to the handler). A
function called several times per invocation shares the default between those calls on a cold start
too, and a fresh default per call would change what the later calls see: that is reported, with the
reason, and left as it is.

The fix is safe unless a call in the module passes `None` for the parameter explicitly, which the
original gave to the function as it is and the fix replaces with a new object, or the function is
passed around as a value, so its callers cannot all be seen; then it is unsafe. A deliberate memo
default (`def fetch(key, _cache={})`) can be kept with `# lambda-fix: ignore[LF005]` on the `def` line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from ..analysis.aliasing import READ_ONLY_CALLS
from ..analysis.flow import MUTATING_FUNCTIONS, MUTATING_METHODS, FunctionKey, HandlerFlow
from ..analysis.module import ModuleInfo, container_kind, is_pure
from ..analysis.project import Project
from ..analysis.scopes import FunctionNode, scope_bindings
from ..analysis.walk import every_node
from ..codes import code_of
from ..model import Applicability
from . import Context
from ._diagnosis import Diagnosis, Plan

CODE = code_of(__name__)


@dataclass(frozen=True)
class DefaultPlan(Plan):
    function: str  # "name" for module-level functions, "Class.name" for methods
    parameter: str
    default_source: str  # re-evaluated in the body on each call that does not pass it
    annotation: Optional[str]  # the new annotation text, or None to leave the parameter unannotated
    typing_import: Optional[str]  # an import the new annotation needs

    def functions(self) -> tuple[str, ...]:
        return (self.function,)


def may_find(project: Project, module: ModuleInfo) -> bool:
    """A cheap first test: some function or lambda of module has a mutable default."""
    return any(container_kind(module, default) is not None for default in module.defaults)


def find(context: Context) -> list[Diagnosis]:
    module, flows = context.module, context.flows
    found: dict[tuple[int, int], Diagnosis] = {}  # by the default's position: one per parameter
    for flow in flows:
        for key, node in flow.reached.items():
            if key[0] != module.path:
                continue
            for finding in _in_function(module, flow, key, node):
                found.setdefault((finding.line, finding.column), finding)
    return list(found.values())


def _in_function(module: ModuleInfo, flow: HandlerFlow, key: FunctionKey, node: FunctionNode):  # noqa: ANN202
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    for arg, default in pairs:
        kind = container_kind(module, default)
        if kind is None:
            continue
        line = default.lineno
        if module.suppressed(line, CODE) or module.suppressed(node.lineno, CODE):
            continue
        how = _mutated_or_escapes(module, node, arg.arg)
        if how is None:
            continue  # never changed and never handed out: sharing it is harmless
        source = module.segment(default) or ""
        message = (f"mutable default `{arg.arg}={source}` of `{key[1]}` is shared by every call and every "
                   f"invocation: {how}")
        problem = _blocker(module, node, arg.arg, default)
        if problem is None and not flow.runs_at_most_once(key):
            # On a cold start the calls of one invocation share the default; a fresh one per call
            # would change what they see.
            problem = (f"`{key[1]}` may run more than once per invocation, and those calls share the "
                       "default on a cold start too")
        if problem:
            yield Diagnosis.reported(CODE, line, default.col_offset, message, problem)
            continue
        annotation, typing_import = _optional_annotation(module, arg.annotation)
        plan = DefaultPlan(key[1], arg.arg, source, annotation, typing_import)
        unsafe = _passes_none(module, key[1], arg.arg, positional.index(arg) if arg in positional else None) \
            or key in flow.escaping
        yield Diagnosis(CODE, line, default.col_offset, message,
                        f"default `{arg.arg}` to None and create `{source}` in the body",
                        Applicability.UNSAFE if unsafe else Applicability.SAFE, plan)


def _mutated_or_escapes(module: ModuleInfo, function: FunctionNode, name: str) -> str | None:
    """How the default object can change or leave the function (changes first), or None."""
    if name not in scope_bindings(function).params:
        return None
    changes: list[tuple[int, str]] = []
    escapes: list[tuple[int, str]] = []
    for node in every_node(function):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and _rooted_at(func.value, name) and func.attr in MUTATING_METHODS:
                changes.append((node.lineno, f"`.{func.attr}(...)` at line {node.lineno} changes it"))
                continue
            arguments = [*node.args, *(k.value for k in node.keywords)]
            if any(_is_name(a, name) for a in arguments):
                qualified = module.qualified_name(func)
                if qualified in MUTATING_FUNCTIONS:
                    changes.append((node.lineno, f"`{qualified}` at line {node.lineno} changes it"))
                elif qualified not in READ_ONLY_CALLS:
                    escapes.append((node.lineno, f"it is passed to a call at line {node.lineno} that may change or "
                                                 "keep it"))
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and _rooted_at(node.value, name):
            changes.append((node.lineno, f"an item or attribute of it is set at line {node.lineno}"))
        elif isinstance(node, ast.AugAssign) and _rooted_at(node.target, name):
            changes.append((node.lineno, f"an augmented assignment at line {node.lineno} changes it in place"))
        elif isinstance(node, (ast.Return, ast.Yield)) and node.value is not None and _holds(node.value, name):
            escapes.append((node.lineno, f"it is returned at line {node.lineno}, so callers can change it"))
        elif isinstance(node, ast.Assign) and _holds(node.value, name) and not all(
                isinstance(t, ast.Name) for t in node.targets):
            escapes.append((node.lineno, f"it is stored at line {node.lineno}"))
    found = sorted(changes) or sorted(escapes)
    return found[0][1] if found else None


def _rooted_at(expr: ast.AST, name: str) -> bool:
    """`name`, `name[k]`, `name.attr`, `name.get(k)`, `name.setdefault(k, [])`: all reach into it."""
    while True:
        if isinstance(expr, (ast.Subscript, ast.Attribute)):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
                and expr.func.attr in ("get", "setdefault"):
            expr = expr.func.value
        else:
            return _is_name(expr, name)


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _holds(expr: ast.AST, name: str) -> bool:
    """Is the object itself (not something computed from it) part of expr?"""
    if _is_name(expr, name):
        return True
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return any(_holds(e, name) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return any(v is not None and _holds(v, name) for v in expr.values)
    if isinstance(expr, (ast.IfExp,)):
        return _holds(expr.body, name) or _holds(expr.orelse, name)
    if isinstance(expr, ast.BoolOp):
        return any(_holds(v, name) for v in expr.values)
    return False


def _blocker(module: ModuleInfo, function: FunctionNode, name: str, default: ast.expr) -> str | None:
    if not is_pure(module, default):
        return "its default has side effects or depends on module state"
    local = scope_bindings(function).local
    shadowed = {n.id for n in ast.walk(default) if isinstance(n, ast.Name)} & local
    if shadowed:
        return f"its default uses `{sorted(shadowed)[0]}`, which the function binds locally"
    return None


def _optional_annotation(module: ModuleInfo, annotation: ast.expr | None) -> tuple[str | None, str | None]:
    """`list[str]` -> `list[str] | None` or `Optional[list[str]]`, as the file already writes it."""
    if annotation is None:
        return None, None
    text = module.segment(annotation) or ""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return repr(f"{annotation.value} | None"), None  # a string annotation stays a string
    uses_union = "| None" in module.source or "None |" in module.source
    future = any(isinstance(s, ast.ImportFrom) and s.module == "__future__"
                 and any(a.name == "annotations" for a in s.names) for s in module.tree.body)
    optional_name = next((local for local, ref in module.imports.items()
                          if ref.module == "typing" and ref.attr == "Optional"), None)
    if optional_name and not uses_union:
        return f"{optional_name}[{text}]", None
    if uses_union or future:
        return f"{text} | None", None
    typing_alias = next((local for local, ref in module.imports.items()
                         if ref.module == "typing" and ref.attr is None), None)
    if typing_alias:
        return f"{typing_alias}.Optional[{text}]", None
    if module.binding_counts.get("Optional"):
        return f"{text} | None", None
    return f"Optional[{text}]", "from typing import Optional"


def _passes_none(module: ModuleInfo, function: str, parameter: str, index: int | None) -> bool:
    """Does any call in the module pass None for the parameter (which the fix would replace)?"""
    name = function.rsplit(".", 1)[-1]
    for node in every_node(module.tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if called != name:
            continue
        if any(k.arg == parameter and _is_none(k.value) for k in node.keywords):
            return True
        offset = 1 if "." in function and isinstance(node.func, ast.Attribute) else 0
        if index is not None and 0 <= index - offset < len(node.args) and _is_none(node.args[index - offset]):
            return True
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
