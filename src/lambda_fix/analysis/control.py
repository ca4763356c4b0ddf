"""The order a function's statements run in, path by path: does something happen first on every path
(before anything touches its subject), or last on every way out (each `return`, the end of the body,
and each exception that leaves the function)?

flow.py is flow-insensitive: it says what a function may do, not in which order. Whether a handler
puts a piece of state back on every path is a question of order. The caller names the subject through
a classifier: for each simple statement, and for each expression a compound statement evaluates (an
`if` or `while` test, a loop's iterable, a `with` item, a `match` subject), what that step does to the
subject (`Effect`). An optional guard says when an `if` test already tells the subject is reset (an
empty container, a missing file): `if RESULTS: RESULTS.clear()` leaves it empty on both branches.
The analysis knows no subject: module state, a file under /tmp, anything a classifier describes.

Exceptions are modelled conservatively: any step may raise, after its effect when it is a write
(`WRITE`: a call of a function that may write some and then fail), before it when it is a store (one
write that is its last act), and never when it is a reset, which the classifier vouches for
(`RESULTS.clear()`, `shutil.rmtree(path, ignore_errors=True)`), or a step that evaluates nothing. An
`except` clause catches what its `try` body raises, and only a bare `except:`, `except Exception` or
`except BaseException` keeps it from going further; a `finally` runs on every way out of its `try`; a
`with` block is taken not to swallow exceptions. `break` and `continue` out of a `try` that has a
`finally` are taken to leave the subject written. Bodies of nested functions and classes do not run
where they are defined.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional


class Effect(enum.Enum):
    NONE = "none"  # cannot touch the subject
    READ = "read"  # may read it, does not change it
    WRITE = "write"  # may change it, and may raise after changing some of it (a call of a function that does)
    STORE = "store"  # changes it as its last act, or raises before (`RESULTS.append(item)`, `os.makedirs(path)`)
    RESET = "reset"  # puts it back: nothing an earlier step (or invocation) left in it shows any more


Classifier = Callable[[ast.AST], Effect]
# The value of an `if` test under which the subject is already as a reset leaves it; None: no such value.
Guard = Callable[[ast.expr], Optional[bool]]
_CATCH_ALL = frozenset({"Exception", "BaseException"})


def _no_guard(test: ast.expr) -> bool | None:
    return None


def reset_first(body: list[ast.stmt], classify: Classifier, guard: Guard = _no_guard,
                every_exit: bool = False) -> bool:
    """Does every path through body reset the subject before any step reads or writes it?

    A path that touches nothing and leaves before the first reset (`if not event: return {}`) is fine:
    it saw nothing. Every way out after it (each `return` and `raise`, and the end of the body) must
    have reset the subject: a reset on one branch only is no reset. every_exit: no way out may skip
    the reset, early or not (body is a function its caller counts on to reset). A test that guard
    recognises reads the subject as part of its reset, not before it."""
    walk = _First(classify, guard)
    walk.seen = every_exit
    walk.leave(walk.block(body, False))
    return walk.ok and (every_exit or walk.seen)


@dataclass(frozen=True)
class Exits:
    """How body leaves the subject, starting from a reset one."""

    returned: bool  # reset (or untouched since) at every return and at the end of the body
    raised: bool  # reset (or untouched since) whenever an exception leaves the body
    resets: tuple[int, ...]  # lines of the steps that reset it


def reset_last(body: list[ast.stmt], classify: Classifier, guard: Guard = _no_guard,
               written: bool = False) -> Exits:
    """Is the subject reset after its last write on every way out of body? written: it may hold
    something when body starts (body is a function called to reset it), not only what body writes."""
    walk = _Last(classify, guard)
    end = walk.block(body, written)
    if end is not None:
        walk.returned_dirty |= end
    return Exits(not walk.returned_dirty, not walk.raised_dirty, tuple(sorted(walk.resets)))


def _meet(states: Iterable[bool | None]) -> bool | None:
    """The state that holds on every reaching path (None: no path reaches)."""
    reaching = [s for s in states if s is not None]
    return all(reaching) if reaching else None


def _join(states: Iterable[bool | None]) -> bool | None:
    reaching = [s for s in states if s is not None]
    return any(reaching) if reaching else None


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """What a compound statement evaluates before its blocks."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    return []


_INERT = (ast.Pass, ast.Global, ast.Nonlocal, ast.Name, ast.Constant, ast.expr_context)


def _cannot_raise(node: ast.AST) -> bool:
    """`pass`, `x = "failed"`, `x = None`: steps that evaluate nothing that could raise."""
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        node = node.value
        if isinstance(node, ast.Name):
            return False  # an unbound local raises
    elif isinstance(node, ast.Expr):
        node = node.value
    return isinstance(node, _INERT) and not isinstance(node, ast.Name) or (
        isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict))
        and all(isinstance(n, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.expr_context))
                for n in ast.walk(node)))


def _catches_all(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    return kind is None or (isinstance(kind, ast.Name) and kind.id in _CATCH_ALL)


class _First:
    """Forward over body, with `fresh`: has every path to here reset the subject (None: unreachable)?"""

    def __init__(self, classify: Classifier, guard: Guard) -> None:
        self.classify = classify
        self.guard = guard
        self.ok = True
        self.seen = False  # a reset has been met (in the order of the source), or every way out must reset

    def leave(self, fresh: bool | None) -> None:
        if fresh is False and self.seen:
            self.ok = False

    def step(self, node: ast.AST, fresh: bool) -> bool:
        effect = self.classify(node)
        if effect is Effect.RESET:
            self.seen = True
            return True
        if effect is not Effect.NONE and not fresh:
            self.ok = False
        return fresh

    def block(self, body: list[ast.stmt], fresh: bool | None) -> bool | None:
        for stmt in body:
            if fresh is None:
                return None  # unreachable
            fresh = self.statement(stmt, fresh)
        return fresh

    def statement(self, stmt: ast.stmt, fresh: bool) -> bool | None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return fresh
        if isinstance(stmt, ast.If):
            known = self.guard(stmt.test)
            if known is None:
                fresh = self.step(stmt.test, fresh)
            return _meet([self.block(stmt.body, True if known is True else fresh),
                          self.block(stmt.orelse, True if known is False else fresh)])
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            fresh = self.step(stmt.test if isinstance(stmt, ast.While) else stmt.iter, fresh)
            self.block(stmt.body, fresh)
            self.block(stmt.orelse, fresh)
            return fresh  # a reset only ever adds freshness: the loop may run no time
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for node in _header(stmt):
                fresh = self.step(node, fresh)
            return self.block(stmt.body, fresh)
        if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            body = self.block(stmt.body, fresh)
            # A handler or the finally may start anywhere in the body: at worst where it started.
            ends = [self.block(h.body, fresh) for h in stmt.handlers]
            normal = _meet([self.block(stmt.orelse, body) if body is not None else None, *ends])
            if stmt.finalbody:
                self.block(stmt.finalbody, fresh)
                return self.block(stmt.finalbody, normal) if normal is not None else None
            return normal
        if isinstance(stmt, ast.Match):
            fresh = self.step(stmt.subject, fresh)
            ends = []
            for case in stmt.cases:
                start = self.step(case.guard, fresh) if case.guard is not None else fresh
                ends.append(self.block(case.body, start))
            return _meet([fresh, *ends])
        if isinstance(stmt, ast.Return):
            self.leave(self.step(stmt.value, fresh) if stmt.value is not None else fresh)
            return None
        if isinstance(stmt, ast.Raise):
            self.leave(self.step(stmt.exc, fresh) if stmt.exc is not None else fresh)
            return None
        if isinstance(stmt, (ast.Break, ast.Continue)):
            return None  # the loop goes on from its start, where it was at worst as fresh as here
        return self.step(stmt, fresh)


@dataclass
class _Frame:
    """A `try` being walked: where its body's exceptions go, and what its `finally` must see."""

    handlers: bool  # a body frame: its exceptions go to the `except` clauses
    finally_: bool  # a finally frame: every way out goes through it
    raised: list[bool] = field(default_factory=list)
    returned: list[bool] = field(default_factory=list)


@dataclass
class _Loop:
    depth: int  # how many frames were open when the loop started
    leaving: list[bool] = field(default_factory=list)  # states at `break`
    again: list[bool] = field(default_factory=list)  # states at `continue`


class _Last:
    """Forward over body, with `dirty`: may the subject have been written since its last reset?"""

    def __init__(self, classify: Classifier, guard: Guard) -> None:
        self.classify = classify
        self.guard = guard
        self.frames: list[_Frame] = []
        self.loops: list[_Loop] = []
        self.returned_dirty = False
        self.raised_dirty = False
        self.resets: set[int] = set()

    def raise_(self, dirty: bool) -> None:
        if self.frames:
            self.frames[-1].raised.append(dirty)
        else:
            self.raised_dirty |= dirty

    def return_(self, dirty: bool) -> None:
        for frame in reversed(self.frames):
            if frame.finally_:
                frame.returned.append(dirty)
                return
        self.returned_dirty |= dirty

    def step(self, node: ast.AST, dirty: bool) -> bool:
        effect = self.classify(node)
        if effect is Effect.RESET:
            self.resets.add(getattr(node, "lineno", 0))
            return False
        after = dirty or effect in (Effect.WRITE, Effect.STORE)
        if not _cannot_raise(node):
            self.raise_(after if effect is Effect.WRITE else dirty)
        return after

    def block(self, body: list[ast.stmt], dirty: bool | None) -> bool | None:
        for stmt in body:
            if dirty is None:
                return None
            dirty = self.statement(stmt, dirty)
        return dirty

    def statement(self, stmt: ast.stmt, dirty: bool) -> bool | None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return dirty
        if isinstance(stmt, ast.If):
            known = self.guard(stmt.test)
            if known is None:
                dirty = self.step(stmt.test, dirty)
            return _join([self.block(stmt.body, False if known is True else dirty),
                          self.block(stmt.orelse, False if known is False else dirty)])
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return self.loop(stmt, dirty)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for node in _header(stmt):
                dirty = self.step(node, dirty)
            return self.block(stmt.body, dirty)
        if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            return self.try_(stmt, dirty)
        if isinstance(stmt, ast.Match):
            dirty = self.step(stmt.subject, dirty)
            ends = []
            for case in stmt.cases:
                start = self.step(case.guard, dirty) if case.guard is not None else dirty
                ends.append(self.block(case.body, start))
            return _join([dirty, *ends])
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                dirty = self.step(stmt.value, dirty)
            self.return_(dirty)
            return None
        if isinstance(stmt, ast.Raise):
            if stmt.exc is not None:
                dirty = self.step(stmt.exc, dirty)
            self.raise_(dirty)
            return None
        if isinstance(stmt, (ast.Break, ast.Continue)) and self.loops:
            loop = self.loops[-1]
            through_finally = any(f.finally_ for f in self.frames[loop.depth:])
            (loop.leaving if isinstance(stmt, ast.Break) else loop.again).append(dirty or through_finally)
            return None
        return self.step(stmt, dirty)

    def loop(self, stmt: ast.For | ast.AsyncFor | ast.While, dirty: bool) -> bool | None:
        loop = _Loop(len(self.frames))
        self.loops.append(loop)
        while_ = isinstance(stmt, ast.While)
        entry = dirty if while_ else self.step(stmt.iter, dirty)  # the iterable, evaluated once
        start = entry
        for _ in range(2):  # two states: a second pass reaches the fixed point
            tested = self.step(stmt.test, start) if while_ else start  # type: ignore[union-attr]
            end = self.block(stmt.body, tested)
            start = bool(_join([entry, end, *loop.again]))
        tested = self.step(stmt.test, start) if while_ else start  # type: ignore[union-attr]
        self.loops.pop()
        forever = while_ and isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)  # type: ignore[union-attr]
        finished = None if forever else self.block(stmt.orelse, tested)
        return _join([finished, *loop.leaving])

    def try_(self, stmt: ast.Try, dirty: bool) -> bool | None:
        finally_frame = _Frame(handlers=False, finally_=True) if stmt.finalbody else None
        if finally_frame is not None:
            self.frames.append(finally_frame)
        body_frame = _Frame(handlers=True, finally_=False) if stmt.handlers else None
        if body_frame is not None:
            self.frames.append(body_frame)
        body = self.block(stmt.body, dirty)
        ends: list[bool | None] = []
        if body_frame is not None:
            self.frames.pop()
            start = bool(_join([dirty, *body_frame.raised]))
            ends = [self.block(h.body, start) for h in stmt.handlers]
            if not any(_catches_all(h) for h in stmt.handlers):
                for raised in set(body_frame.raised):
                    self.raise_(raised)  # what no clause catches goes on, through the finally
        normal = _join([self.block(stmt.orelse, body) if body is not None else None, *ends])
        if finally_frame is None:
            return normal
        self.frames.pop()
        for raised in set(finally_frame.raised):
            after = self.block(stmt.finalbody, raised)
            if after is not None:
                self.raise_(after)
        for returned in set(finally_frame.returned):
            after = self.block(stmt.finalbody, returned)
            if after is not None:
                self.return_(after)
        return self.block(stmt.finalbody, normal) if normal is not None else None
