"""The project around a handler: resolves imports to project files and parses them once each."""

from __future__ import annotations

import ast
import collections
import functools
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Optional

from . import module as module_facts
from .module import ModuleInfo
from .walk import forget_learnt

ReadSource = Callable[[str], Optional[str]]  # path -> decoded text, None when unreadable
# The latest run's index, keyed by the identity of its file list (kept alive beside it).
_SHARED_INDEXES: dict[int, tuple[tuple[str, ...], tuple[dict[str, list[str]], dict[str, list[str]]]]] = {}
# An import statement's line: the module words it names index the files that import them.
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+\S+[ \t]+import[^\n]*|import[ \t][^\n]*)", re.MULTILINE)


def package_of(directory: Path) -> tuple[Path, tuple[str, ...]]:
    """(the first directory up from a resolved directory without an `__init__.py`, the names of the
    packages from there down to directory)."""
    parts = []
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    return directory, tuple(reversed(parts))


def package_markers(path: Path) -> list[str]:
    """The `__init__.py` files package_of looks for: adding or removing one renames the module."""
    markers = []
    directory = path.resolve().parent
    while directory.parent != directory:
        marker = directory / "__init__.py"
        markers.append(str(marker))
        if not marker.is_file():
            break
        directory = directory.parent
    return markers


# Modules analysed on their own that a worker keeps at hand after it is done with them (forget()).
_RECENT = 32


class Project:
    """Modules parsed on demand. Search roots: each handler's code root and the directories above it."""

    def __init__(self, read: ReadSource, boundary: Path | None = None, files: tuple[str, ...] = (),
                 checked: tuple[str, ...] | None = None) -> None:
        self._read = read
        self._boundary = boundary.resolve() if boundary else None
        self._files = files  # every file of the run, for "is this name used anywhere else?"
        # The files the run reports on, when not all of files: a file named on the command line is
        # analysed with its whole project around it, and the project's other files are only read.
        self._checked = None if checked is None else frozenset(os.path.realpath(p) for p in checked)
        self._files_index: tuple[dict[str, list[str]], dict[str, list[str]]] | None = None
        self._order: dict[str, int] | None = None  # each file's place in files
        self._by_path: dict[str, ModuleInfo | None] = {}
        self._recent: collections.OrderedDict[str, ModuleInfo] = collections.OrderedDict()  # forgotten last
        self._keys: dict[str, str] = {}  # path as asked for -> resolved
        # (importer's directory, dotted name) -> (the file it names, every path looked at to find it)
        self._resolved: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}
        self._search_roots: dict[str, list[Path]] = {}  # by resolved directory
        self._code_roots: dict[str, tuple[Path, tuple[str, ...]]] = {}  # by resolved directory
        # Answers from the file system, which a run does not change: (search root, dotted name) ->
        # (module file or None, paths looked at), and -> whether it is a directory.
        self._probes: dict[tuple[Path, str], tuple[str | None, tuple[str, ...]]] = {}
        self._directories: dict[tuple[Path, str], bool] = {}
        self._looked_at: set[str] | None = None
        self._markers_by_path: dict[str, list[str]] = {}
        self._vendored_roots: dict[str, bool] = {}
        # What the analysis asked about the other files of the run, and the answers: ("imported", path,
        # module, name, answer) and ("mentions", path, topic, word, answer). A cached result holds while they do.
        self.questions: list[tuple[object, ...]] = []

    def text(self, path: str) -> str | None:
        """The decoded text of the file at path, None when it cannot be read."""
        return self._read(path)

    def record(self) -> None:
        """From now on, remember every file the analysis looks at (what a cached result depends on)."""
        self._looked_at = set()
        self.questions = []

    def looked_at(self) -> set[str]:
        """Files read or looked for since record(): resolved paths, some of which may not exist."""
        return set(self._looked_at or ())

    def imported_elsewhere(self, path: str, module_stem: str, name: str) -> bool:
        """Does another file of the run import module_stem (in an import statement) and mention name?"""
        importers = self._index()[0].get(module_stem, ())
        answer = self._any_mentions(path, importers, name)
        self.questions.append(("imported", path, module_stem, name, answer))
        return answer

    def mentioned_elsewhere(self, path: str, word: str, alongside: str) -> bool:
        """Does another file of the run that holds the text `alongside` (say "/tmp") mention word?"""
        topics = self._index()[1]
        if alongside not in topics:
            topics[alongside] = [other for other in self._files if alongside in (self._read(other) or "")]
        answer = self._any_mentions(path, topics[alongside], word)
        self.questions.append(("mentions", path, alongside, word, answer))
        return answer

    def answers(self, question: tuple[object, ...]) -> bool:
        """Whether a question recorded in `questions` still gets the answer it got."""
        kind, path, *words, answer = question
        if kind == "imported":
            return self.imported_elsewhere(str(path), str(words[0]), str(words[1])) == answer
        if kind == "spelled":
            return self.spelled_elsewhere(str(path), str(words[0]), str(words[1])) == answer
        if kind == "importers":
            return "\n".join(self.importers_of(str(path), str(words[0]))) == answer
        if kind == "patched":
            return self.patched_elsewhere(str(path), str(words[0]), str(words[1])) == answer
        if kind == "checked":
            return self.in_run(str(path)) == answer
        return kind == "mentions" and self.mentioned_elsewhere(str(path), str(words[1]), str(words[0])) == answer

    def referenced_elsewhere(self, module: ModuleInfo, name: str) -> bool:
        """Does another file of the run refer to module's `name`: by name after importing the module,
        or by its dotted path (`mock.patch("app.CACHE")`, `app.lambda_handler(...)` in a test)?"""
        stem = module.name.rsplit(".", 1)[-1] if module.name else ""
        return bool(stem) and (self.imported_elsewhere(module.path, stem, name)
                               or self.spelled_elsewhere(module.path, stem, f"{stem}.{name}"))

    def threaded_helper_used_elsewhere(self, module: ModuleInfo, threaded: Iterable[tuple[str, object]]) -> str | None:
        """The first helper of a Threading plan (`(function, how)` pairs) that another file of the run
        uses: a parameter added to it would be missing from that file's calls, which no rewrite updates."""
        return next((function for function, _ in threaded
                     if self.referenced_elsewhere(module, function.split(".")[0])), None)

    def spelled_elsewhere(self, path: str, module_stem: str, spelling: str) -> bool:
        """Does another file of the run that imports module_stem spell `spelling`, a dotted path such
        as "app.CACHE" (also after a package: "src.app.CACHE", as `mock.patch` targets are written)?"""
        answer = self._any_mentions(path, self._index()[0].get(module_stem, ()), spelling, after_dot=True)
        self.questions.append(("spelled", path, module_stem, spelling, answer))
        return answer

    def patched_elsewhere(self, path: str, module_stem: str, word: str) -> bool:
        """Does another file of the run that imports module_stem patch something and mention word: a
        test that replaces `boto3` or `boto3.client` (`mock.patch`, `monkeypatch.setattr`, `setattr`)?"""
        here = self.resolved(path)
        answer = any(self.resolved(other) != here and _patches(self._read(other) or "", word)
                     and self._may_import(other, path) for other in self._index()[0].get(module_stem, ()))
        self.questions.append(("patched", path, module_stem, word, answer))
        return answer

    def importers_of(self, path: str, module_stem: str) -> tuple[str, ...]:
        """The other files of the run whose import statements name module_stem, the last dotted name
        of the module at path: the files that may import it (resolving their imports tells)."""
        here = self.resolved(path)
        found = tuple(other for other in self._index()[0].get(module_stem, ()) if module_stem
                      and self.resolved(other) != here)
        self.questions.append(("importers", path, module_stem, "\n".join(found)))
        return found

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of the run (or of the project an editor's session keeps)."""
        return self._files

    def in_run(self, path: str) -> bool:
        """Is path one of the files this run checks (and may rewrite)?"""
        here = self.resolved(path)
        if self._checked is not None:
            answer = here in self._checked
        else:
            answer = any(self.resolved(other) == here for other in self._files)
        self.questions.append(("checked", path, answer))
        return answer

    def _may_import(self, importer: str, path: str) -> bool:
        """Can importer's `import app` be this `app.py`? When the run holds several modules of that
        file name (one `app.py` per function is common), only if importer, or a conftest.py above it,
        names this one's directory (`from src.dispatch import app`, `sys.path.insert(0, "src/dispatch")`)."""
        name = os.path.basename(path)
        if sum(os.path.basename(other) == name for other in self._files) < 2:
            return True
        directory = os.path.basename(os.path.dirname(os.path.abspath(path)))
        pattern = re.compile(rf"(?<![\w-]){re.escape(directory)}(?![\w-])")
        texts = [self._read(importer) or ""]
        folder = os.path.dirname(os.path.abspath(importer))
        while folder != os.path.dirname(folder):
            conftest = os.path.join(folder, "conftest.py")
            if conftest in self._files or os.path.abspath(conftest) in self._files:
                texts.append(self._read(conftest) or "")
            folder = os.path.dirname(folder)
        return any(pattern.search(text) for text in texts)

    def _any_mentions(self, path: str, candidates: Iterable[str], word: str, after_dot: bool = False) -> bool:
        before = r"(?<!\w)" if after_dot else r"(?<![\w.])"
        pattern = re.compile(rf"{before}{re.escape(word)}(?!\w)")
        here = self.resolved(path)
        for other in candidates:
            text = self._read(other)
            if text and pattern.search(text) and self.resolved(other) != here:
                return True
        return False

    def _index(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """One pass over the run's files, the first time it is needed: module words their import
        statements name, and the files that hold each topic asked about (the common one, "/tmp",
        found in the same pass). Answers "used elsewhere?" in linear time."""
        if self._files_index is None and id(self._files) in _SHARED_INDEXES:
            files, self._files_index = _SHARED_INDEXES[id(self._files)]
        if self._files_index is None:
            importers: dict[str, list[str]] = {}
            topics: dict[str, list[str]] = {"/tmp": []}
            for other in self._files:
                _index_file(other, self._read(other) or "", importers, topics)
            self._files_index = (importers, topics)
            # Every project of a run (each rewrite is checked by a fresh one) shares the index: built
            # per project, a run with many fixes would read every file once per fix.
            _SHARED_INDEXES.clear()
            _SHARED_INDEXES[id(self._files)] = (self._files, self._files_index)
        return self._files_index

    def resolved(self, path: str) -> str:
        """path made absolute with symlinks followed. That asks the file system, and the same paths
        are asked for again and again: once per path and run."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = os.path.realpath(path)
        return key

    def module_name(self, path: str) -> str:
        """path's dotted module name, from its code root (the first directory up without an
        `__init__.py`, found once per directory)."""
        resolved = self.resolved(path)
        directory, file_name = os.path.split(resolved)
        _, package = self._code_root(directory)
        stem = os.path.splitext(file_name)[0]
        return ".".join(package if file_name == "__init__.py" else (*package, stem))

    def _code_root(self, directory: str) -> tuple[Path, tuple[str, ...]]:
        """(the first directory up without an `__init__.py`, the package names on the way down)."""
        if directory not in self._code_roots:
            self._code_roots[directory] = package_of(Path(directory))
        return self._code_roots[directory]

    def module_at(self, path: str) -> ModuleInfo | None:
        key = self.resolved(path)
        if self._looked_at is not None and key not in self._looked_at:
            self._looked_at.add(key)
            self._looked_at.update(self._markers(key))
        if key not in self._by_path:
            recent = self._recent.pop(key, None)
            self._by_path[key] = recent if recent is not None else self._load(key)
        return self._by_path[key]

    def parsed(self, path: str, source: str) -> ModuleInfo | None:
        """The module at path as already parsed (a handler imported it), when it was parsed from
        source: the worker analysing that file reads these facts instead of parsing it again. Asks
        nothing of the disk."""
        found = self._by_path.get(self.resolved(path))
        return found if found is not None and found.source == source else None

    def _markers(self, path: str) -> list[str]:
        if path not in self._markers_by_path:
            self._markers_by_path[path] = package_markers(Path(path))
        return self._markers_by_path[path]

    def add(self, info: ModuleInfo) -> None:
        """The text given wins over what is on disk. When it differs from the module parsed before (a
        rewrite being checked), what the analysis remembers on the nodes of the modules that import it
        (how their calls resolve into it, what their functions' walks saw there) was learnt of the old
        one: that is forgotten, and the rest of their facts kept, so they are not parsed again. An
        importer spells the module's name, or a package's on its path (re-exports): others are
        left as they are (most rewrites are of handlers, which nothing imports)."""
        key = self.resolved(info.path)
        earlier = self._by_path.get(key)
        if earlier is not None and earlier.source != info.source:
            self._forget_what_importers_learnt(earlier)
        self._by_path[key] = info

    def _forget_what_importers_learnt(self, changed: ModuleInfo) -> None:
        """The modules that import changed, and those that import them in turn (a re-export, a call
        into a helper that calls into it), forget what they learnt of it."""
        kept = [m for m in (*self._by_path.values(), *self._recent.values()) if m is not None and m is not changed]
        words = _names_of(changed)
        while words:
            reached = [m for m in kept if any(word in m.source for word in words)]
            kept = [m for m in kept if all(m is not r for r in reached)]
            words = set()
            for module in reached:
                forget_learnt(module.tree)
                words |= _names_of(module)

    # ---- a project kept between checks (an editor's session) ----------------------------------

    def changed(self, path: str) -> None:
        """The text at path is no longer what it was (an editor's buffer, or the file on disk): the
        module is read again when next asked for, what every kept module learnt of the others is
        forgotten, and its entries in the index of the files are made again from its new text."""
        key = self.resolved(path)
        known = key in self._by_path or key in self._recent  # parsed, or looked for and unreadable
        self._by_path.pop(key, None)
        self._recent.pop(key, None)
        if known:
            # Not only its importers: what a module learns of another may be keyed by the other's nodes
            # (a helper's base class walked for a subclass in the handler), and would be kept, and
            # grow, for every version of a module edited again and again. Every module's own facts stay;
            # a check walks again the functions it reaches.
            for module in self.parsed_modules():
                forget_learnt(module.tree)
        spelled = [other for other in self._files if self.resolved(other) == key]
        if self._files_index is not None and spelled:
            importers, topics = self._files_index
            for files in (*importers.values(), *topics.values()):
                files[:] = [other for other in files if other not in spelled]
            for other in spelled:
                for files in _index_file(other, self._read(other) or "", importers, topics):
                    self._in_files_order(files)

    def _in_files_order(self, files: list[str]) -> None:
        """As the index was built: in the order of the run's files (which handler a finding names first
        follows it)."""
        if self._order is None:
            self._order = {path: number for number, path in enumerate(self._files)}
        files.sort(key=lambda path: self._order.get(path, -1))  # type: ignore[union-attr]

    def parsed_modules(self) -> list[ModuleInfo]:
        """The modules parsed and kept: what a session compares with the files' texts now."""
        return [m for m in (*self._by_path.values(), *self._recent.values()) if m is not None]

    def unparsed_paths(self) -> list[str]:
        """The modules looked for that could not be read or parsed (a syntax error being fixed)."""
        return [path for path, module in self._by_path.items() if module is None]

    def checking(self, paths: tuple[str, ...] | None) -> None:
        """The files the next analysis reports on and may rewrite (in_run), when not all the files."""
        self._checked = None if paths is None else frozenset(os.path.realpath(p) for p in paths)

    def vendored(self, path: str) -> bool:
        """Is the module at path part of an installed distribution (a layer's `python/` directory or a
        vendored tree holds its `*.dist-info`): a library's code, not the project's?"""
        root = str(self._code_root(os.path.dirname(self.resolved(path)))[0])
        if root not in self._vendored_roots:
            try:
                names = os.listdir(root)
            except OSError:
                names = []
            self._vendored_roots[root] = any(n.endswith((".dist-info", ".egg-info")) for n in names)
        return self._vendored_roots[root]

    def forget(self, path: str) -> None:
        """Drop a module analysed on its own: a worker keeps the modules handlers import, not every
        module it has seen (memory would grow with the run). The last few stay at hand, since the
        files of a run come in order and a module is most often imported by its neighbours
        (`common.py` before `handler_1.py`): imported while there, it is not parsed again."""
        key = self.resolved(path)
        info = self._by_path.pop(key, None)
        if info is not None:
            self._recent[key] = info
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)

    def resolve(self, dotted: str, importer: ModuleInfo) -> ModuleInfo | None:
        """The project module an import names, looked up from importer's code root upwards. Where it
        is looked for depends on importer's directory only: each is looked up once per directory."""
        found, probed = self._lookup(dotted, importer.path)
        if self._looked_at is not None:
            # A file created where the search found none would change what the import means.
            self._looked_at.update(probed)
        return self.module_at(found) if found is not None else None

    def file_of(self, dotted: str, importer: str) -> str | None:
        """The project file that `import dotted` names in the module at path importer, or None: as
        resolve() finds it, without parsing either module."""
        return self._lookup(dotted, importer)[0]

    def _lookup(self, dotted: str, importer: str) -> tuple[str | None, tuple[str, ...]]:
        key = (importer if importer == "-" else os.path.dirname(importer), dotted)
        if key not in self._resolved:
            self._resolved[key] = self._find(dotted, importer)
        return self._resolved[key]

    def _find(self, dotted: str, importer: str) -> tuple[str | None, tuple[str, ...]]:
        """(the file dotted names, or None; the paths looked at)."""
        if not dotted or importer == "-":
            return None, ()
        probed: list[str] = []
        for root in self._roots(importer):
            found, looked = self._probe(root, dotted)
            probed.extend(looked)
            if found is not None:
                return found, tuple(probed)
        return None, tuple(probed)

    def _probe(self, root: Path, dotted: str) -> tuple[str | None, tuple[str, ...]]:
        """(the module file for dotted under root or None, the paths looked at). Handlers of one
        directory import the same modules from the same roots: each is looked up once per run."""
        key = (root, dotted)
        if key not in self._probes:
            base = os.path.join(root, *dotted.split("."))
            looked: tuple[str, ...] = ()
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                looked += (candidate,)
                if os.path.isfile(candidate):
                    found = candidate
                    break
            self._probes[key] = (found, looked)
        return self._probes[key]

    def names_a_directory(self, dotted: str, importer: ModuleInfo) -> bool:
        """Is dotted a directory under importer's search roots (a package, or a namespace package)?
        Then `dotted.anything` may name a project module too."""
        if importer.path == "-":
            return False  # standard input: no project to import from (as _find)
        for root in self._roots(importer.path):
            key = (root, dotted)
            if key not in self._directories:
                self._directories[key] = os.path.isdir(os.path.join(root, *dotted.split(".")))
            if self._directories[key]:
                return True
        return False

    def resolve_attribute(self, qualified: str, importer: ModuleInfo, _depth: int = 0) -> tuple[ModuleInfo, str] | None:
        """"pkg.mod.name" -> (module pkg.mod, "name") when pkg.mod is a project module. A name the
        module only re-exports (`from .core import collect, results` in a package's `__init__.py`) is
        followed to the module that defines it."""
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            found = self.resolve(".".join(parts[:cut]), importer)
            if found is not None:
                rest = parts[cut:]
                if len(rest) != 1:
                    return None
                name = rest[0]
                ref = found.imports.get(name)
                if ref is not None and ref.attr is not None and _depth < 4 and name not in found.functions \
                        and name not in found.classes and name not in found.state:
                    return self.resolve_attribute(ref.dotted, found, _depth + 1) or (found, name)
                return found, name
        return None

    def may_name(self, importer: str, module: str) -> bool:
        """Can the file at importer import the module at path module, by what its text spells? Imports
        are looked for under the importer's search roots (_roots), so module is importable only as
        its path relative to one of them; the text must then spell that name's package (`lib` of
        `lib.db`), unless the module sits at the root itself. A relative import (`from .`) is not
        judged. Asked before parsing importer: a run over several copies of one repository must not
        parse every `main.py` of every copy for each other's `import main`."""
        text = self.text(importer)
        if text is None or "from ." in text:
            return True
        target = Path(self.resolved(module))
        parts = target.with_suffix("").parts if target.name != "__init__.py" else target.parent.parts
        for root in self._roots(importer):
            if target.is_relative_to(root):
                package = ".".join(parts[len(root.parts):-1])
                if not package or package in text:
                    return True
        return False

    def _roots(self, importer: str) -> list[Path]:
        """Where the imports of the module at path importer are looked for: the same for every module
        of a directory."""
        directory = os.path.dirname(self.resolved(importer))
        if directory not in self._search_roots:
            roots = [self._code_root(directory)[0]]
            for parent in (Path(directory), *Path(directory).parents):
                if parent not in roots and (self._boundary is None or parent.is_relative_to(self._boundary)):
                    roots.append(parent)
            self._search_roots[directory] = roots
        return self._search_roots[directory]

    def _load(self, path: str) -> ModuleInfo | None:
        source = self._read(path)
        if source is None:
            return None
        try:
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return module_facts.build(path, self.module_name(path), source, tree)


# The start of what a patch replaces: `patch("app.boto3")`, `patch.object(app, "boto3")`,
# `monkeypatch.setattr(boto3, "client", ...)`, `setattr(app, "boto3", ...)`: the text up to the
# first nested parenthesis holds the target. And `app.boto3 = fake`, `boto3.client = fake`.
_PATCH_ARGUMENTS = re.compile(r"\b(?:patch(?:\.object|\.multiple|\.dict)?|setattr)\(([^()]*)")
_ATTRIBUTE_ASSIGNMENT = re.compile(r"^[ \t]*([\w.]+\.\w+|\w+\.[\w.]+)[ \t]*=(?!=)", re.MULTILINE)
# A patch target held in a name (`client = "boto3.client"` ... `patch(client, ...)`).
_NAMED_TARGET = re.compile(r"""^[ \t]*(\w+)[ \t]*=[ \t]*[rbu]?(['"])([\w.]+)\2[ \t]*$""", re.MULTILINE)
# An environment variable a test sets: `os.environ["AWS_REGION"] = ...`, `monkeypatch.setenv("AWS_REGION", ...)`.
_ENVIRONMENT_SET = re.compile(r"""environ\[\s*['"](\w+)['"]\s*\][ \t]*=(?!=)|setenv\(\s*['"](\w+)['"]""")


def _names_of(module: ModuleInfo) -> set[str]:
    """The words an importer of module spells: its dotted name's, or its file's stem."""
    return {word for word in module.name.split(".") if word} or {Path(module.path).stem}


def _index_file(path: str, text: str, importers: dict[str, list[str]],
                topics: dict[str, list[str]]) -> list[list[str]]:
    """path entered in the index under each module word its imports spell and each topic its text
    holds; the lists it was added to."""
    added = []
    for word in _import_words(text):
        added.append(importers.setdefault(word, []))
    for topic, files in topics.items():
        if topic in text:
            added.append(files)
    for files in added:
        files.append(path)
    return added


def _import_words(text: str) -> set[str]:
    """The words the import statements of text spell: what the index of importers is keyed by."""
    return {word for line in _IMPORT_LINE.findall(text) for word in re.findall(r"\w+", line)}


def _patches(text: str, word: str) -> bool:
    """Does a test's text replace `word` (a module or one of its attributes), not only use it?
    A test that patches other names and builds a `boto3` client for moto does not patch `boto3`."""
    mention = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
    return any(mention.search(target) for target in _patch_targets(text))


@functools.lru_cache(maxsize=512)
def _patch_targets(text: str) -> tuple[str, ...]:
    """What a test's text replaces: the targets of its patches, the attributes it assigns and the
    environment variables it sets. Once per text: each client of each module asks of the same tests."""
    targets = [m.group(1) for m in _PATCH_ARGUMENTS.finditer(text)]
    named = {m.group(1): m.group(3) for m in _NAMED_TARGET.finditer(text)}
    targets += [named[first] for target in targets for first in [target.split(",")[0].strip()] if first in named]
    targets += [m.group(1) for m in _ATTRIBUTE_ASSIGNMENT.finditer(text)]
    targets += [m.group(1) or m.group(2) for m in _ENVIRONMENT_SET.finditer(text)]
    return tuple(targets)
