"""What the rules that look at every function a handler reaches share: each such function with the
module that holds it, the calls that lead there, and a report placed where the checked module can show
it (at the node in its own file; at the handler, naming the other module, otherwise)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..analysis.flow import FunctionKey, HandlerFlow
from ..analysis.module import ModuleInfo
from ..analysis.scopes import FunctionNode
from . import Context
from ._diagnosis import Diagnosis


@dataclass(frozen=True)
class Reached:
    """A function the handler of flow reaches, and the module it is in."""

    flow: HandlerFlow
    key: FunctionKey
    owner: ModuleInfo
    function: FunctionNode

    def where(self, module: ModuleInfo) -> str:
        """"the handler", or "`helper`", then " of other.module" when it is not in module."""
        place = "" if self.owner is module else f" of {self.owner.name or self.owner.path}"
        return ("the handler" if self.key == self.flow.handler else f"`{self.key[1]}`") + place


def reached(context: Context) -> Iterator[Reached]:
    """Every function each handler of the context reaches, with its module (once per handler)."""
    module, project = context.module, context.project
    for flow in context.flows:
        for key, function in flow.reached.items():
            owner = module if key[0] == module.path else project.module_at(key[0])
            if owner is not None:
                yield Reached(flow, key, owner, function)


def chain(flow: HandlerFlow, function: FunctionKey) -> tuple[tuple[str, int, str], ...]:
    """The calls from the handler to function, as related locations."""
    return tuple((caller[0], at, f"`{caller[1]}` calls `{callee[1]}`")
                 for caller, callee, at in flow.call_chain(function))


def report(code: str, module: ModuleInfo, at: Reached, node: ast.AST, message: str, reason: str,
           note: str) -> Diagnosis:
    """A reported finding on node of at's function: at node when module holds it, else at the handler;
    related: the calls that lead there, and node with note."""
    related = (*chain(at.flow, at.key), (at.owner.path, node.lineno, note))  # type: ignore[attr-defined]
    place = node if at.owner is module else at.flow.reached[at.flow.handler]
    return Diagnosis.reported(code, place.lineno, place.col_offset, message, reason,  # type: ignore[attr-defined]
                              related=related)


def unique(diagnoses: Iterable[Diagnosis]) -> list[Diagnosis]:
    """One finding for each node: handlers that reach the same code find it each. Findings on code of
    other modules are all placed at the handler, so the node is told by the related location report()
    gives it last."""
    found: dict[tuple[object, ...], Diagnosis] = {}
    for diagnosis in diagnoses:
        node = diagnosis.related[-1][:2] if diagnosis.related else None
        found.setdefault((diagnosis.line, diagnosis.column, node), diagnosis)
    return list(found.values())


def shortened(text: str | None, fallback: str, width: int = 60) -> str:
    """text (a node's source) cut to width for a message."""
    text = text or fallback
    return text if len(text) <= width else text[:width - 3] + "..."
