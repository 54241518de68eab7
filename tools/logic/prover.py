"""The prover: E (Debian's `eprover`) on TPTP problems, with a time limit per call.

`decide` gives LINC's three-valued answer: True when the premises prove the conclusion, False when they
prove its negation, Unknown otherwise (including when the prover runs out of time). `consistent` asks
whether the premises can all hold: a contradiction among them proves anything, so it is checked first.
Every call keeps the prover's SZS status, its proof (or why there is none) and its time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from typing import Literal

from pydantic import BaseModel

from tools.logic.fol import Node, negate, problem

EPROVER = "eprover"
_STATUS = re.compile(r"^# SZS status (\w+)", re.MULTILINE)

Label = Literal["True", "False", "Unknown"]


class ProverMissing(RuntimeError):
    pass


class Call(BaseModel):
    """One prover run: what it was asked, its SZS status, the proof when it found one, and its time."""

    goal: str  # "conclusion", "negation" or "consistency"
    status: str  # Theorem, CounterSatisfiable, Satisfiable, Unsatisfiable, ResourceOut, Timeout, GaveUp, ...
    proof: str = ""
    seconds: float


class Verdict(BaseModel):
    label: Label
    calls: list[Call]


def run(tptp: str, goal: str, seconds: float = 5.0) -> Call:
    """E on one TPTP problem, stopped after `seconds` of CPU (and a little more of wall time)."""
    if shutil.which(EPROVER) is None:
        raise ProverMissing("the E prover (`eprover`) is not installed: `make test` installs Debian's package eprover")
    started = time.perf_counter()
    command = [EPROVER, "--auto", "--silent", "--proof-object", f"--cpu-limit={max(1, round(seconds))}", "--memory-limit=1024"]
    try:
        done = subprocess.run(command, check=False, input=tptp, capture_output=True, text=True, timeout=seconds + 5)
    except subprocess.TimeoutExpired:
        return Call(goal=goal, status="Timeout", seconds=round(time.perf_counter() - started, 3))
    found = _STATUS.search(done.stdout)
    status = found.group(1) if found else ("Error: " + (done.stderr.strip().splitlines() or ["no SZS status"])[-1])
    proof = done.stdout[done.stdout.find("# SZS output start"):] if "# SZS output start" in done.stdout else ""
    return Call(goal=goal, status=status, proof=proof, seconds=round(time.perf_counter() - started, 3))


def consistent(premises: list[Node], seconds: float = 5.0) -> Call:
    """Whether the premises can all hold: `Unsatisfiable` means they contradict each other."""
    return run(problem(premises, None), "consistency", seconds)


def decide(premises: list[Node], conclusion: Node, seconds: float = 5.0) -> Verdict:
    """True if the premises prove the conclusion, False if they prove its negation, else Unknown."""
    proved = run(problem(premises, conclusion), "conclusion", seconds)
    if proved.status == "Theorem":
        return Verdict(label="True", calls=[proved])
    refuted = run(problem(premises, negate(conclusion)), "negation", seconds)
    return Verdict(label="False" if refuted.status == "Theorem" else "Unknown", calls=[proved, refuted])
