"""The files of a project that import given files, directly or through other files: where a change to
those files can change what the analysis finds (a handler that calls into a helper, through a service
module or not). Read from the text of import statements and resolved as the analysis resolves
imports (project.py), without parsing a file."""

from __future__ import annotations

import os
import re
from typing import Iterable

from .module import resolve_relative
from .project import Project

# An import statement, matched where a line or a `;` starts one: `from .x import (a, b)` across lines,
# `import a.b as c, d`, a backslash continuation. Text in strings that looks like one only costs a
# look at one more file.
_STATEMENT = re.compile(
    r"[ \t]*(?:from[ \t]+(?P<module>\.*[ \t]*[\w.]*)[ \t]+import\b(?P<names>[ \t]*\([^)]*\)|(?:\\\n|[^\n;])*)"
    r"|import[ \t]+(?P<modules>(?:\\\n|[^\n;])*))")
_COMMENT = re.compile(r"#[^\n]*")
_WORDS = re.compile(r"\w+")
_DOTTED = re.compile(r"[\w.]+")


def importers_of(project: Project, files: Iterable[str], targets: Iterable[str]) -> tuple[str, ...]:
    """The files among files (not targets) that import one of targets, or a file that does, and so on:
    sorted, spelled as in files. Each file is read and searched for import statements once; only the
    statements that hold a name a target is imported by are resolved."""
    statements: dict[str, list[re.Match[str]]] = {}
    by_word: dict[str, list[str]] = {}  # a word of an import statement -> the files that hold one
    for path in files:
        found = statements[path] = _matches(project.text(path) or "")
        for word in {w for match in found for w in _WORDS.findall(match.group(0))}:
            by_word.setdefault(word, []).append(path)
    done = {project.resolved(t) for t in targets}
    level = set(done)
    importers: list[str] = []
    while level:
        stems = {_stem(target) for target in level}
        following: set[str] = set()
        for path in sorted({path for stem in stems for path in by_word.get(stem, ())}):
            key = project.resolved(path)
            if key not in done and not level.isdisjoint(_imported(project, path, _parsed(statements[path], stems),
                                                                  stems)):
                importers.append(path)
                following.add(key)
        done |= following
        level = following
    return tuple(sorted(importers))


def _stem(path: str) -> str:
    """The last name of the module at path, which an import of it spells: a package's for `__init__.py`."""
    directory, name = os.path.split(path)
    return os.path.basename(directory) if name == "__init__.py" else os.path.splitext(name)[0]


def _parsed(matches: list[re.Match[str]], stems: set[str]) -> list[tuple[int, str, tuple[str, ...]]]:
    """(level, module, names) of each import statement that holds one of stems: `from ..a import b, c`
    is (2, "a", ("b", "c")), `import a.b, c` is (0, "", ("a.b", "c"))."""
    found = []
    for match in matches:
        if not any(stem in match.group(0) for stem in stems):
            continue
        if match.group("modules") is not None:
            found.append((0, "", _names(match.group("modules"))))
            continue
        module = re.sub(r"[ \t]", "", match.group("module"))
        dotted = module.lstrip(".")
        found.append((len(module) - len(dotted), dotted, _names(match.group("names"))))
    return found


def _matches(text: str) -> list[re.Match[str]]:
    """The import statements of text, looked for only on the lines that hold `import` (at the line's
    start, and after each `;` or `:` of it: `try: import x`), not over the whole text."""
    starts: dict[int, None] = {}
    position = text.find("import")
    while position != -1:
        line = text.rfind("\n", 0, position) + 1
        if line not in starts:
            starts[line] = None
            end = text.find("\n", line)
            for at, character in enumerate(text[line:len(text) if end == -1 else end], line):
                if character in ";:":
                    starts[at + 1] = None
        position = text.find("import", position + 6)
    return [m for m in (_STATEMENT.match(text, start) for start in sorted(starts)) if m is not None]


def _names(text: str) -> tuple[str, ...]:
    """The dotted names of `a.b as c, d` (parentheses, comments and continuations left out)."""
    plain = _COMMENT.sub("", text).replace("\\\n", " ").strip().strip("()")
    names = []
    for part in plain.split(","):
        words = part.split()
        if words and _DOTTED.fullmatch(words[0]):
            names.append(words[0])
    return tuple(names)


def _imported(project: Project, path: str, statements: list[tuple[int, str, tuple[str, ...]]],
              stems: set[str]) -> set[str]:
    """The resolved paths of the project files that the statements of the file at path name by a
    dotted name holding one of stems: for `from a import b`, a and a.b; for `import a.b`, a and a.b
    (importing a.b runs a's `__init__.py` too)."""
    package = None  # of the module at path, for its relative imports
    dotted: list[str] = []
    for level, module, names in statements:
        if level == 0 and not module:  # `import a.b`
            for imported in names:
                parts = imported.split(".")
                dotted += (".".join(parts[:cut]) for cut in range(1, len(parts) + 1))
            continue
        if level and package is None:
            name = project.module_name(path)
            package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
        base = resolve_relative(package or "", module or None, level) if level else module
        if base is None:
            continue
        dotted += [base, *(f"{base}.{n}" for n in names if n != "*")]
    found = set()
    for each in dict.fromkeys(d for d in dotted if not stems.isdisjoint(d.split("."))):
        file = project.file_of(each, path)
        if file is not None:
            found.add(project.resolved(file))
    return found
