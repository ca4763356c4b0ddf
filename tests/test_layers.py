"""The layers import downward only (docs/how-it-works.md): checked on the import statements that run
when a module is imported (those inside functions load on first use, and TYPE_CHECKING ones never)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lambda_fix

PACKAGE = Path(lambda_fix.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _eager_imports(path: Path) -> set[str]:
    """Modules (lambda_fix's own, fully named, and third-party roots) that importing path imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    statements = list(tree.body)
    while statements:
        stmt = statements.pop()
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            continue
        if isinstance(stmt, (ast.If, ast.Try)):
            statements += [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", []),
                           *(s for h in getattr(stmt, "handlers", []) for s in h.body)]
        elif isinstance(stmt, ast.Import):
            found.update(alias.name for alias in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.level:
                base = package.split(".")
                base = base[: len(base) - stmt.level + 1]
                target = ".".join(base + ([stmt.module] if stmt.module else []))
            else:
                target = stmt.module or ""
            found.add(target)
            # `from . import x` imports the module x when x is one
            for alias in stmt.names:
                candidate = f"{target}.{alias.name}"
                if (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").is_file() or \
                        (PACKAGE.parent / Path(*candidate.split(".")) / "__init__.py").is_file():
                    found.add(candidate)
    return found


GRAPH = {_module_name(p): _eager_imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _own(imports: set[str]) -> set[str]:
    return {i for i in imports if i == "lambda_fix" or i.startswith("lambda_fix.")}


def test_no_import_cycle() -> None:
    def visit(module: str, path: list[str]) -> None:
        for target in sorted(_own(GRAPH.get(module, set()))):
            if target not in GRAPH or target == module or module.startswith(target + "."):
                continue  # a package's own __init__ is loaded before its modules anyway
            assert target not in path, " -> ".join([*path[path.index(target):], target])
            visit(target, [*path, target])

    for module in GRAPH:
        visit(module, [module])


@pytest.mark.parametrize("layer, forbidden", [
    ("lambda_fix.analysis", ("lambda_fix.rules", "lambda_fix.codemods", "lambda_fix.engine", "lambda_fix.worker",
                             "lambda_fix.cache", "lambda_fix.findings", "lambda_fix.formats", "lambda_fix.cli",
                             "libcst", "click")),
    ("lambda_fix.rules", ("lambda_fix.codemods", "lambda_fix.engine", "lambda_fix.worker", "lambda_fix.cache",
                          "lambda_fix.formats", "lambda_fix.cli", "libcst", "click")),
    ("lambda_fix.codes", ("lambda_fix.", "libcst", "click")),
    ("lambda_fix.model", ("lambda_fix.", "libcst", "click")),
    ("lambda_fix.cache", ("lambda_fix.analysis", "lambda_fix.rules", "lambda_fix.codemods", "libcst", "click")),
    ("lambda_fix.formats", ("lambda_fix.analysis", "lambda_fix.rules", "lambda_fix.codemods", "libcst", "click")),
    ("lambda_fix.codemods", ("lambda_fix.engine", "lambda_fix.worker", "lambda_fix.cli", "click")),
])
def test_a_layer_imports_nothing_above_it(layer: str, forbidden: tuple[str, ...]) -> None:
    for module, imports in GRAPH.items():
        if module == layer or module.startswith(layer + "."):
            bad = sorted(i for i in imports if any(i == f or i.startswith(f if f.endswith(".") else f + ".")
                                                    for f in forbidden))
            assert not bad, f"{module} imports {bad}"


def test_only_the_command_line_imports_click() -> None:
    assert sorted(m for m, imports in GRAPH.items() if "click" in imports) == ["lambda_fix.cli"]
