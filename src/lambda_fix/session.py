"""The projects an editor's session keeps between checks (`lambda-fix server`).

A run parses a project's modules once and forgets them when it ends; an editor asks again after every
pause in the typing. So the session keeps, for each project a buffer belongs to (the repository, as
`lambda-fix FILE` finds it), the project's files and the modules parsed so far, and tells the project
what changed: a buffer edited, opened or closed, a file changed on disk. The changed module is parsed
again when next asked for, and what the other modules learnt of one another is forgotten (their own
facts stay; Project.changed says why all of it); nothing else is parsed again. So a helper is parsed
once for all the edits of its handler, and the edit of a helper changes what the handlers that reach
it are found to do.

Each buffer is checked as `lambda-fix FILE` checks the file: the project's other files are read (who
imports a helper, what the tests patch), and only the buffer is reported on. Open buffers are read
before the disk. A file on disk is read again when it is not what was read before (its size or time
changed), so a change the client does not announce is seen too.

Not thread-safe: the server makes every call from one thread, in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .analysis.project import Project, package_of
from .config import Settings
from .discovery import discover, project_root
from .engine import check_buffer, read_source
from .model import FileResult


@dataclass
class _Kept:
    project: Project
    root: str | None  # None: a file of no project, checked with its directory's modules
    templates: tuple[str, ...] = ()  # the deployment templates under root


class Session:
    def __init__(self, workspaces: tuple[str, ...] = ()) -> None:
        """workspaces: the editor's workspace folders. No project of a file inside one reaches above it
        (a `.git` in a home directory must not make the whole home one project); for a file inside
        none, the working directory bounds it, as on the command line."""
        self.workspaces = tuple(os.path.realpath(w) for w in workspaces)
        self._buffers: dict[str, str] = {}  # real path -> the text the editor holds
        self._disk: dict[str, tuple[tuple[int, int], str | None]] = {}  # real path -> (size, mtime), text
        self._projects: dict[str, _Kept] = {}  # by root (or directory, for a file of no project)
        self._real: dict[str, str] = {}
        self._unparsed: dict[str, str | None] = {}  # real path -> the text that could not be parsed

    # ---- what the editor says --------------------------------------------------------------------

    def edited(self, path: str, text: str | None) -> None:
        """The buffer of path holds text now (None: closed, the file on disk counts again)."""
        real = self.real(path)
        if text is None:
            self._buffers.pop(real, None)
        elif self._buffers.get(real) == text:
            return
        else:
            self._buffers[real] = text
        self._changed(real)

    def files_changed(self, paths: list[str], created_or_deleted: bool) -> None:
        """Files changed on disk. A file created or deleted changes what the projects hold and how
        their imports resolve: those projects are made again when next needed."""
        if created_or_deleted:
            self._projects.clear()
            self._disk.clear()
            return
        for path in paths:
            real = self.real(path)
            self._disk.pop(real, None)
            self._changed(real)

    # ---- checks ----------------------------------------------------------------------------------

    def check(self, path: str, text: str, settings: Settings, fixes: bool, trial: bool = False) -> FileResult:
        """The module at path, holding text, checked in its project (engine.check_buffer) as
        `lambda-fix PATH` checks it. trial: text is a change tried (does a comment silence a finding?),
        read for path during this check only."""
        real = self.real(path)
        held = self._buffers.get(real)
        if trial:
            self.edited(path, text)
        kept = self._kept_of(path)
        project = kept.project
        self._refresh(project)
        project.checking((path,))
        try:
            return check_buffer(path, text, settings, project, fixes=fixes,
                                roots=(kept.root, *kept.templates) if kept.root else ())
        finally:
            # What the analysis asked of the other files is kept for a cached result; a session
            # keeps none, and the list would grow with every check.
            project.questions.clear()
            if trial:
                self.edited(path, held)
            # Checking a rewrite leaves the rewritten module in the project: what the editor holds is
            # what the next check must read.
            self._refresh(project)

    def project_of(self, path: str) -> Project:
        return self._kept_of(path).project

    def _kept_of(self, path: str) -> _Kept:
        real = self.real(path)
        inside = [w for w in self.workspaces if real == w or real.startswith(w.rstrip(os.sep) + os.sep)]
        root = project_root(real, max(inside, key=len)) if inside else project_root(path)
        key = root or os.path.dirname(self.real(path))
        kept = self._projects.get(key)
        if kept is None:
            templates: tuple[str, ...] = ()
            if root is None:
                project = Project(self.read, boundary=package_of(Path(key))[0], files=())
            else:
                found = discover([root])
                files = tuple(os.path.abspath(f) for f in found.files)
                project = Project(self.read, boundary=Path(root), files=files)
                templates = found.templates
            kept = self._projects[key] = _Kept(project, root, templates)
        return kept

    # ---- reading -----------------------------------------------------------------------------------

    def read(self, path: str) -> str | None:
        """The text of path: its buffer when open, else the file, read again only when it changed."""
        real = self.real(path)
        if real in self._buffers:
            return self._buffers[real]
        try:
            stat = os.stat(real)
        except OSError:
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        known = self._disk.get(real)
        if known is not None and known[0] == stamp:
            return known[1]
        text = read_source(real)
        self._disk[real] = (stamp, text)
        return text

    def real(self, path: str) -> str:
        found = self._real.get(path)
        if found is None:
            found = self._real[path] = os.path.realpath(path)
        return found

    def _changed(self, real: str) -> None:
        for kept in self._projects.values():
            kept.project.changed(real)

    def _refresh(self, project: Project) -> None:
        """Forget each module the project parsed whose text is not what it now reads (a rewrite being
        checked, a file changed on disk the editor did not announce)."""
        for module in project.parsed_modules():
            if self.read(module.path) != module.source:
                project.changed(module.path)
        for path in project.unparsed_paths():  # read again once its text is no longer what failed
            text = self.read(path)
            if path not in self._unparsed:
                self._unparsed[path] = text
            elif self._unparsed[path] != text:
                del self._unparsed[path]
                project.changed(path)
