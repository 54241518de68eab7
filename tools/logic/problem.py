"""A logic problem as the tool reads it: premises, and a conclusion to decide or options to choose from.

From a typed input (`tools.logic.input.LogicInput`), or from a message: "Conclusion: …", "Is it true that …?",
ProofWriter's "… true, false, or unknown? <statement>", or options written `A) …` one per line. The tool
then chooses how to decide it, and says why: a conclusion goes to first-order logic and the prover; an
ordering puzzle with options goes to an answer-set program and clingo.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from tools.logic.fol import FormulaError, parse, show

Mode = Literal["fol", "asp"]

_OPTION = re.compile(r"^\s*\(?([A-Ga-g])\)\s*(.+?)\s*$")
_MARKED = re.compile(r"^\s*(?:conclusion|hypothesis|statement|claim)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_ASKED = [
    re.compile(r"(?:true|false),? (?:false,? )?or (?:unknown|uncertain)\s*\?\s*(.+)$", re.IGNORECASE | re.DOTALL),  # ProofWriter
    re.compile(r"\b(?:is it true that|does it follow that|can we conclude that|must it be true that)\s+(.+?)\?", re.IGNORECASE | re.DOTALL),
]
_PREAMBLE = re.compile(r"^\s*(?:premises|context|facts|rules)\s*:\s*", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


class LogicProblem(BaseModel):
    premises: list[str]
    conclusion: str | None = None
    options: list[tuple[str, str]] = []  # (letter, text)
    mode: Mode
    why: str  # why this way of deciding it
    premise_formulas: list[str] | None = None  # given with the problem (canonical spelling): not translated
    conclusion_formula: str | None = None


def choose(premises: list[str], conclusion: str | None, options: list[tuple[str, str]], *,
           premise_formulas: list[str] | None = None, conclusion_formula: str | None = None) -> LogicProblem:
    """The problem, with its mode; ValueError when it has nothing to decide, or a given formula does not parse."""
    if premise_formulas is not None:
        premise_formulas = [_canonical(f, f"premise formula {i}") for i, f in enumerate(premise_formulas, 1)]
        conclusion_formula = _canonical(conclusion_formula, "conclusion formula") if conclusion_formula else None
        return LogicProblem(premises=premises, conclusion=conclusion, mode="fol", premise_formulas=premise_formulas,
                            conclusion_formula=conclusion_formula,
                            why="formulas given: the prover decides" + ("" if conclusion_formula else " (the conclusion translated)"))
    premises = [p.strip() for p in premises if p.strip()]
    if not premises:
        raise ValueError("the problem has no premises")
    if options:
        listing = next((i for i, p in enumerate(premises) if ":" in p), None)
        if listing is None:
            raise ValueError("options are decided over an ordering puzzle that lists its objects after a colon "
                             "('On a shelf, there are three books: a red book, ...'); no premise does")
        return LogicProblem(premises=premises[listing:], options=options, mode="asp",
                            why="options over objects in an order: an answer-set program, and the option that holds in "
                                "every answer set")
    if not conclusion or not conclusion.strip():
        raise ValueError("the problem has no conclusion to decide and no options: state one ('Conclusion: ...')")
    return LogicProblem(premises=premises, conclusion=conclusion.strip(), mode="fol",
                        why="a conclusion to decide: first-order logic, proved or refuted by the prover")


def from_text(text: str) -> LogicProblem:
    """Premises and a conclusion (or options) read from a message."""
    options = [(m.group(1).upper(), m.group(2)) for line in text.splitlines() if (m := _OPTION.match(line))]
    body = "\n".join(line for line in text.splitlines() if not _OPTION.match(line))
    conclusion = None
    if match := _MARKED.search(body):
        conclusion, body = match.group(1), body[: match.start()] + body[match.end():]
    else:
        for pattern in _ASKED:
            if match := pattern.search(body):
                conclusion, body = match.group(1), re.sub(r"[^.!?\n]*$", "", body[: match.start()])  # and the question's start
                break
    body = _PREAMBLE.sub("", body)
    sentences = [s.strip() for s in _SENTENCE.findall(body) if s.strip()]
    premises = [s for s in sentences if not s.endswith("?")]
    if conclusion is None and not options and sentences and sentences[-1].endswith("?"):
        conclusion = sentences[-1]  # a yes/no question ("Is Socrates mortal?"): translated as the statement it asks about
    return choose(premises, conclusion, options)


def _canonical(formula: str, what: str) -> str:
    """A given formula in the translator's spelling (as it is, when that spelling cannot hold its names)."""
    try:
        node = parse(formula)
    except FormulaError as e:
        raise ValueError(f"{what}: {e}") from None
    try:
        return show(node)
    except FormulaError:
        return formula
