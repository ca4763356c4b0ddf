"""Facts about one module: imports, functions, classes, module-level state, where names are used."""

from __future__ import annotations

import ast
import bisect
import builtins
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .scopes import FunctionNode, default_values
from .walk import nodes as nodes_of

# Qualified constructor -> the container kind, which decides how the state can be reset.
MUTABLE_CONSTRUCTORS = {
    "list": "list",
    "dict": "dict",
    "set": "set",
    "bytearray": "list",
    "collections.defaultdict": "dict",
    "collections.OrderedDict": "dict",
    "collections.Counter": "dict",
    "collections.deque": "deque",
    "types.SimpleNamespace": "namespace",
}
_DISPLAYS = {ast.List: "list", ast.ListComp: "list", ast.Dict: "dict", ast.DictComp: "dict",
             ast.Set: "set", ast.SetComp: "set"}
_BUILTINS = frozenset(dir(builtins))
# Calls that give the same value whenever they run in one environment. The environment's variables
# are fixed for its life (the premise of reusing clients built from them), so reading them again
# inside the handler gives what the import read.
_PURE_CALLS = frozenset({"tuple", "frozenset", "int", "str", "float", "bool", "os.environ.get", "os.getenv"})
# The suppression word in any case, as Ruff and flake8 read it (upper case NOQA too); codes in any case.
_SUPPRESSION = re.compile(
    r"#\s*(?:lambda-fix:\s*ignore|(?i:noqa))\b"
    r"(?:\s*(?:\[|:)\s*(?P<codes>[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*))?"
)
ALL_CODES = "*"
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")
_DYNAMIC_ACCESS = ("globals", "eval", "exec", "vars", "locals")


@dataclass(frozen=True)
class ImportRef:
    """What a module-level import binds: a module, or an attribute (maybe a submodule) of one."""

    module: str  # absolute dotted name
    attr: str | None = None

    @property
    def dotted(self) -> str:
        """What the bound name stands for: `boto3.client` for `from boto3 import client`."""
        return f"{self.module}.{self.attr}" if self.attr else self.module


@dataclass(frozen=True)
class StateBinding:
    name: str
    node: ast.stmt  # the module-level assignment
    kind: str  # list / dict / set / deque / namespace for containers, "scalar" otherwise
    init: ast.expr
    init_pure: bool  # re-evaluating it gives an equal, fresh value and has no side effects
    init_empty: bool


@dataclass(frozen=True)
class Use:
    """A reference to a module-level name, and where it sits."""

    # "module" and "class" (class bodies) run at import; "function" and "method" when called;
    # "signature" is a function's decorators, defaults and annotations, also run at import;
    # "main" is an `if __name__ == "__main__":` block, which runs only when the file is a script.
    where: str
    owner: str | None  # the module-level function or class it is in
    node: ast.AST


@dataclass
class ModuleInfo:
    path: str
    name: str  # dotted module name ("pkg.app"); "" when unknown
    source: str
    tree: ast.Module
    imports: dict[str, ImportRef] = field(default_factory=dict)
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    binding_counts: Counter = field(default_factory=Counter)
    _uses: dict[str, list[Use]] | None = field(default=None, repr=False)  # see `uses`
    rebound_in: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # name -> functions
    state: dict[str, StateBinding] = field(default_factory=dict)
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)
    exported: frozenset[str] = frozenset()  # names in __all__
    dynamic_globals: bool = False  # globals(), eval or exec: names can be used out of sight
    # Every default value of a function or lambda: what LF005's cheap first test looks at.
    defaults: list[ast.expr] = field(default_factory=list)
    _lines: list[str] | None = field(default=None, repr=False)  # see `lines`
    _line_starts: list[int] | None = field(default=None, repr=False)  # see `statements_naming`

    @property
    def uses(self) -> dict[str, list[Use]]:
        """Every reference to a module-level name (a scope analysis of every function): computed on
        first use, since only the decisions about state a handler writes need it."""
        if self._uses is None:
            self._uses = defaultdict(list)
            _collect_uses(self)
        return self._uses

    def statements_naming(self, names: Iterable[str]) -> list[ast.stmt]:
        """The top-level statements whose lines hold one of names as a whole word, in order.

        Facts about a few names or keywords (`global`, `eval`, `lambda`, a client factory) are looked
        for where the text names them: searching the text is far cheaper than a walk of every node. A
        match in a comment or a string only costs that statement's walk."""
        source = self.source
        offsets = []
        for name in names:
            start = source.find(name)
            while start != -1:
                end = start + len(name)
                if not (start and _is_word_character(source[start - 1])) \
                        and not (end < len(source) and _is_word_character(source[end])):
                    offsets.append(start)
                start = source.find(name, end)
        if not offsets:
            return []
        if self._line_starts is None:
            self._line_starts = [0, *itertools.accumulate(len(line) for line in self.lines)]
        lines = sorted({bisect.bisect_right(self._line_starts, offset) for offset in offsets})
        return [stmt for stmt in self.tree.body
                if any(_first_line(stmt) <= line <= (stmt.end_lineno or stmt.lineno) for line in lines)]

    @property
    def lines(self) -> list[str]:
        """The source's lines with their ends, split as Python splits them: at \n, \r\n or a lone \r
        (str.splitlines knows more breaks)."""
        if self._lines is None:
            self._lines = _LINE.findall(self.source)
        return self._lines

    def segment(self, node: ast.AST) -> str | None:
        """ast.get_source_segment(source, node), on lines split once: ast splits the whole source
        again, a character at a time, on every call."""
        end_line, end_column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_column is None:
            return None
        line, column = node.lineno - 1, node.col_offset  # type: ignore[attr-defined]
        lines = self.lines
        if end_line - 1 == line:
            return lines[line].encode()[column:end_column].decode()
        return "".join([lines[line].encode()[column:].decode(), *lines[line + 1:end_line - 1],
                        lines[end_line - 1].encode()[:end_column].decode()])

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of node, columns in characters rather than ast's UTF-8
        bytes: where libcst's positions put the same node."""
        lines = self.lines

        def characters(line: int, byte_offset: int) -> int:
            return len(lines[line - 1].encode()[:byte_offset].decode(errors="ignore"))

        return (node.lineno, characters(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                node.end_lineno, characters(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def suppressed(self, line: int, code: str) -> bool:
        codes = self.suppressions.get(line)
        return bool(codes) and (ALL_CODES in codes or code in codes)

    def qualified_name(self, expr: ast.expr) -> str | None:
        """`defaultdict` / `collections.defaultdict` -> "collections.defaultdict"; builtins by name."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        root = expr.id
        ref = self.imports.get(root)
        if ref is not None:
            base = ref.dotted
        elif root in _BUILTINS and not self.binding_counts.get(root):
            base = root
        else:
            return None
        return ".".join([base, *reversed(parts)])


def is_main_block(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":`: code that runs when the file is run as a script, never in Lambda."""
    if not isinstance(stmt, ast.If) or stmt.orelse or not isinstance(stmt.test, ast.Compare):
        return False
    test = stmt.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
        any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def build(path: str, name: str, source: str, tree: ast.Module) -> ModuleInfo:
    info = ModuleInfo(path=path, name=name, source=source, tree=tree)
    # A `__main__` block does not run when Lambda imports the module: what it binds is no module state.
    at_import = statements_within([stmt for stmt in tree.body if not is_main_block(stmt)])
    _collect_imports(info, at_import)
    for stmt in at_import:
        for bound in _bound_names(stmt):
            info.binding_counts[bound] += 1
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            info.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            info.classes[stmt.name] = stmt
    _collect_defaults_and_globals(info)
    _collect_state(info)
    info.suppressions = _suppressions(source)
    info.exported = _exported(tree)
    return info


def statements_within(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of body and of the blocks inside them (if, try, with, for, match), in order,
    but not inside a def or a class: what runs when body runs. For a module, what runs at import."""
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in _blocks(stmt):
                found.extend(statements_within(block))
    return found


def _bound_names(stmt: ast.stmt) -> Iterator[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
        return
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if alias.name != "*":
                yield alias.asname or alias.name.split(".")[0]
        return
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target] if stmt.value is not None or isinstance(stmt, ast.AugAssign) else []
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    elif isinstance(stmt, ast.Delete):
        targets = list(stmt.targets)
    for target in targets:
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id
    if isinstance(stmt, ast.Try):
        for handler in stmt.handlers:
            if handler.name:
                yield handler.name


def _collect_imports(info: ModuleInfo, at_import: list[ast.stmt]) -> None:
    package = info.name.rsplit(".", 1)[0] if "." in info.name else ""
    if info.path.endswith("__init__.py"):
        package = info.name
    for stmt in at_import:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    info.imports[alias.asname] = ImportRef(alias.name)
                else:
                    root = alias.name.split(".")[0]
                    info.imports.setdefault(root, ImportRef(root))
        elif isinstance(stmt, ast.ImportFrom):
            module = resolve_relative(package, stmt.module, stmt.level)
            if module is None:
                continue
            for alias in stmt.names:
                if alias.name != "*":
                    info.imports[alias.asname or alias.name] = ImportRef(module, alias.name)


def resolve_relative(package: str, module: str | None, level: int) -> str | None:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) if base else None


def _is_word_character(character: str) -> bool:
    return character.isalnum() or character == "_"


# Statements that hold statements, and the fields that hold them: everything else is a simple
# statement. (A `try`'s handlers come last: the order module facts have always been collected in.)
_COMPOUND: dict[type, tuple[str, ...]] = {
    ast.FunctionDef: ("body",), ast.AsyncFunctionDef: ("body",), ast.ClassDef: ("body",),
    ast.If: ("body", "orelse"), ast.For: ("body", "orelse"), ast.AsyncFor: ("body", "orelse"),
    ast.While: ("body", "orelse"), ast.With: ("body",), ast.AsyncWith: ("body",),
    ast.Try: ("body", "orelse", "finalbody", "handlers"),
    **{getattr(ast, name): fields for name, fields in (("TryStar", ("body", "orelse", "finalbody", "handlers")),
                                                         ("Match", ("cases",))) if hasattr(ast, name)},
}


def _blocks(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The blocks of statements directly inside stmt: an except handler's and a case's bodies too."""
    for name in _COMPOUND.get(type(stmt), ()):
        if name in ("handlers", "cases"):
            yield from (block.body for block in getattr(stmt, name))
        else:
            yield getattr(stmt, name)


def _first_line(stmt: ast.stmt) -> int:
    """A definition starts at its first decorator (its own lineno is the `def` line)."""
    decorators = getattr(stmt, "decorator_list", None)
    return min(stmt.lineno, *(d.lineno for d in decorators)) if decorators else stmt.lineno


def _collect_defaults_and_globals(info: ModuleInfo) -> None:
    """Defaults of functions and lambdas, `global` declarations and dynamic access to globals, each
    looked for only in the statements that can hold it (what the rules and the module's state need)."""
    for function in _definitions(info.tree.body):
        info.defaults.extend(default_values(function.args))
    for stmt in info.statements_naming(("lambda",)):
        for sub in nodes_of(stmt):
            if type(sub) is ast.Lambda:
                info.defaults.extend(default_values(sub.args))
    for stmt in info.statements_naming(("global", *_DYNAMIC_ACCESS)):
        in_function = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        for sub in nodes_of(stmt):
            kind = type(sub)
            if kind is ast.Call:
                if isinstance(sub.func, ast.Name) and sub.func.id in _DYNAMIC_ACCESS:
                    info.dynamic_globals = True
            elif kind is ast.Global and in_function:
                for bound in sub.names:
                    info.rebound_in[bound].add(stmt.name)  # type: ignore[attr-defined]


def _definitions(body: list[ast.stmt]) -> list[FunctionNode]:
    """Every `def` in body, at any depth: they are statements, so only statements are visited."""
    found: list[FunctionNode] = []
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(stmt)
        for block in _blocks(stmt):
            stack.extend(block)
    return found


def calls_in_functions(statements: list[ast.stmt]) -> Iterator[ast.Call]:
    """Every call in a function, method, lambda or class body among these top-level statements: what
    code a handler reaches can call. Definitions inside module-level blocks count too, to be safe."""
    for stmt in statements:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from (sub for sub in nodes_of(stmt) if type(sub) is ast.Call)
            continue
        for sub in nodes_of(stmt):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                yield from (inner for inner in nodes_of(sub) if type(inner) is ast.Call)


def _collect_uses(info: ModuleInfo) -> None:
    """Every reference to a module-level name, and where it sits: needed only to decide what to do
    with state a handler writes, so computed on first use (ModuleInfo.uses)."""
    from .scopes import global_name_refs  # local import keeps the module graph flat

    def record(node: ast.AST, where: str, owner: str | None) -> None:
        for sub in nodes_of(node):
            if isinstance(sub, ast.Name):
                info.uses[sub.id].append(Use(where, owner, sub))

    for stmt in info.tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in _signature_parts(stmt):
                record(part, "signature", stmt.name)
            for ref, _nested in global_name_refs(stmt):
                info.uses[ref.id].append(Use("function", stmt.name, ref))
        elif isinstance(stmt, ast.ClassDef):
            _record_class(info, stmt)
        elif is_main_block(stmt):
            record(stmt, "main", None)
        else:
            nodes = nodes_of(stmt)
            for sub in nodes:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    record(sub, "class", getattr(sub, "name", None))  # defined in a block: out of reach
            for sub in nodes:
                if isinstance(sub, ast.Name):
                    info.uses[sub.id].append(Use("module", None, sub))


def _record_class(info: ModuleInfo, cls: ast.ClassDef) -> None:
    """Uses in methods run when called ("method"); the rest of a class body runs at import ("class")."""
    stack: list[ast.AST] = [cls]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not cls:
            for part in _signature_parts(node):
                for sub in ast.walk(part):
                    if isinstance(sub, ast.Name):
                        info.uses[sub.id].append(Use("class", cls.name, sub))
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    info.uses[sub.id].append(Use("method", cls.name, sub))
            continue
        if isinstance(node, ast.Name):
            info.uses[node.id].append(Use("class", cls.name, node))
        stack.extend(ast.iter_child_nodes(node))


def _signature_parts(function: FunctionNode) -> Iterator[ast.AST]:
    yield from function.decorator_list
    args = function.args
    yield from args.defaults
    yield from (d for d in args.kw_defaults if d is not None)
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None and arg.annotation is not None:
            yield arg.annotation
    if function.returns is not None:
        yield function.returns


def _collect_state(info: ModuleInfo) -> None:
    """Module-level names holding mutable containers, and names that functions rebind via `global`."""
    for stmt in info.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None and stmt.simple:
            target, value = stmt.target, stmt.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id in info.state:
            continue
        kind = container_kind(info, value)
        if kind is None and target.id not in info.rebound_in:
            continue
        info.state[target.id] = StateBinding(
            name=target.id,
            node=stmt,
            kind=kind or "scalar",
            init=value,
            init_pure=is_pure(info, value),
            init_empty=_is_empty(value),
        )


def container_kind(info: ModuleInfo, value: ast.expr) -> str | None:
    if type(value) in _DISPLAYS:
        return _DISPLAYS[type(value)]
    if isinstance(value, ast.Call):
        return MUTABLE_CONSTRUCTORS.get(info.qualified_name(value.func) or "")
    return None


def _is_empty(value: ast.expr) -> bool:
    """No items at creation: `[]`, `dict()`, `defaultdict(list)`, `deque(maxlen=5)`."""
    if isinstance(value, (ast.List, ast.Set)):
        return not value.elts
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, ast.Call):
        callee = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
        items = value.args[1:] if callee == "defaultdict" else value.args  # defaultdict's first is the factory
        if any(k.arg != "maxlen" for k in value.keywords):
            return False
        return all(_is_container_literal(a) and _is_empty(a) for a in items)
    return isinstance(value, ast.Constant)


def _is_container_literal(value: ast.expr) -> bool:
    return isinstance(value, (ast.List, ast.Set, ast.Dict))


def is_pure(info: ModuleInfo, value: ast.expr) -> bool:
    """True when evaluating value again later gives an equal, independent object, with no side effect."""
    for node in ast.walk(value):
        if isinstance(node, ast.Call):
            name = info.qualified_name(node.func)
            if name not in MUTABLE_CONSTRUCTORS and name not in _PURE_CALLS:
                return False
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in info.imports:
                continue
            if node.id in _BUILTINS and not info.binding_counts.get(node.id):
                continue
            if _is_immutable_constant(info, node.id):
                continue
            return False
        elif isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Attribute)) \
                and not (isinstance(node, ast.Attribute) and info.qualified_name(node)):
            return False
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
            continue
    return True


def _is_immutable_constant(info: ModuleInfo, name: str) -> bool:
    if info.binding_counts.get(name) != 1 or name in info.rebound_in:
        return False
    for stmt in info.tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            return all(isinstance(n, (ast.Constant, ast.Tuple, ast.Load, ast.UnaryOp, ast.USub))
                       for n in ast.walk(stmt.value))
    return False


def _suppressions(source: str) -> dict[int, frozenset[str]]:
    found: dict[int, frozenset[str]] = {}
    if "lambda-fix" not in source and "noqa" not in source.lower():
        return found
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match:
            codes = match.group("codes")
            found[number] = frozenset(c.strip().upper() for c in codes.split(",")) if codes else frozenset({ALL_CODES})
    return found


def _exported(tree: ast.Module) -> frozenset[str]:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            if isinstance(stmt.value, (ast.List, ast.Tuple)):
                return frozenset(e.value for e in stmt.value.elts
                                 if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return frozenset()
