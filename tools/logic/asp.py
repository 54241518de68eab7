"""Answer-set programs for ordering and assignment puzzles, solved with clingo.

An option is the answer when it holds in every answer set of the program: adding the constraint
`:- <option>.` leaves no answer set. The program must have answer sets at all (its statements are
consistent), and every call runs under a time limit.
"""

from __future__ import annotations

import re
import threading
import time

import clingo
from pydantic import BaseModel


class AspError(ValueError):
    """A program clingo cannot ground (a syntax error, an unsafe variable)."""


class Solved(BaseModel):
    satisfiable: bool | None  # None: out of time
    models: int  # answer sets seen (up to the limit asked)
    first: list[str] = []  # the atoms of the first answer set
    seconds: float


def solve(program: str, *, models: int = 2, seconds: float = 5.0) -> Solved:
    """Ground and solve `program`, counting up to `models` answer sets, within `seconds`."""
    started = time.perf_counter()
    messages: list[str] = []
    control = clingo.Control([f"--models={models}"], logger=lambda code, text: messages.append(text.strip()))
    try:
        control.add("base", [], program)
        control.ground([("base", [])])
    except RuntimeError:
        raise AspError("; ".join(messages) or "the program does not ground") from None
    found: list[list[str]] = []
    with control.solve(on_model=lambda m: found.append([str(s) for s in m.symbols(shown=True)]), async_=True) as handle:
        timer = threading.Timer(seconds, handle.cancel)
        timer.start()
        result = handle.get()
        timer.cancel()
    satisfiable = None if result.interrupted and not found else bool(result.satisfiable) or bool(found)
    return Solved(satisfiable=satisfiable, models=len(found), first=sorted(found[0]) if found else [],
                  seconds=round(time.perf_counter() - started, 4))


def entailed(program: str, option: str, seconds: float = 5.0) -> bool | None:
    """Whether `option` (a rule body, e.g. `at(owl, 1)`) holds in every answer set; None if out of time."""
    return None if (s := solve(f"{program}\n:- {condition(option)}.", models=1, seconds=seconds)).satisfiable is None else not s.satisfiable


# ---- ordering puzzles -----------------------------------------------------------------------------

_OBJECTS = re.compile(r"^obj\(([a-z][a-z0-9_]*(?:; [a-z][a-z0-9_]*)*)\)$")
_ATOM_OBJECT = re.compile(r"\bat\(([a-z][a-z0-9_]*),")
# A condition as the translator's grammar writes it (tools/logic/translate.py ASP_GBNF), and nothing else: a
# condition goes into the program as text, so anything more (`#include`, a rule of its own) is refused.
_NAME = r"[a-z][a-z0-9_]{0,40}"
_CONDITION = re.compile(rf"at\({_NAME}, (?:[1-9]|n|n-[1-9])\)|at\({_NAME}, P\), at\({_NAME}, Q\), P [<>] Q")
MAX_OBJECTS = 12  # the program grows with their square
# Objects in a fixed order: each at exactly one position, one object per position, n the number of objects.
ORDER = """pos(1..n).
1 { at(O, P) : pos(P) } 1 :- obj(O).
:- at(O1, P), at(O2, P), O1 != O2.
#show at/2."""


def objects(line: str) -> list[str]:
    """The objects an `obj(a; b; c)` line lists; AspError when the line is not one, or lists one twice."""
    match = _OBJECTS.match(line.strip())
    if not match:
        raise AspError(f"expected the objects as obj(a; b; ...), got {line.strip()!r}")
    names = match.group(1).split("; ")
    if len(set(names)) != len(names):
        raise AspError(f"an object is listed twice: {line.strip()!r}")
    if len(names) > MAX_OBJECTS:
        raise AspError(f"{len(names)} objects: at most {MAX_OBJECTS} are taken")
    return names


def condition(text: str) -> str:
    """`text` if it is a condition on positions (`at(a, 2)`, `at(a, P), at(b, Q), P < Q`); else AspError."""
    if not _CONDITION.fullmatch(text.strip()):
        raise AspError(f"not a condition on positions: {text.strip()[:80]!r}")
    return text.strip()


def unknown_objects(condition: str, names: list[str]) -> list[str]:
    """Objects a condition mentions that the listing does not have."""
    return [o for o in _ATOM_OBJECT.findall(condition) if o not in names]


def ordering_program(listing: str, conditions: list[str]) -> str:
    """The program of an ordering puzzle: its objects, the order's rules, and each statement required to hold."""
    names = objects(listing)
    lines = [f"{listing.strip()}.", f"#const n = {len(names)}.", ORDER]
    for i, text in enumerate(conditions, 1):
        lines += [f"s{i} :- {condition(text)}.", f":- not s{i}."]
    return "\n".join(lines)
