"""Answer-set programs for ordering and assignment puzzles, solved with clingo.

An option is the answer when it holds in every answer set of the program: adding the constraint
`:- <option>.` leaves no answer set. The program must have answer sets at all (its statements are
consistent), and every call runs under a time limit.
"""

from __future__ import annotations

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
    return None if (s := solve(f"{program}\n:- {option}.", models=1, seconds=seconds)).satisfiable is None else not s.satisfiable
