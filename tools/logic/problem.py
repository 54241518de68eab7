"""A logic problem as the tool reads it: premises, and a conclusion to decide or options to choose from.

From a typed input (`tools.logic.input.LogicInput`), or from a message: premises, and a statement asked about in
any common wording (tools/logic/question.py), or options written `A) …` one per line or `(A) … (B) …` on one.
The tool then chooses how to decide it, and says why: a conclusion goes to first-order logic and the prover; an
ordering puzzle with options goes to an answer-set program and clingo.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from tools.logic import question
from tools.logic.fol import FormulaError, parse, show

Mode = Literal["fol", "asp"]

_OPTION = re.compile(r"^\s*\(?([A-Ga-g])\)\s*(.+?)\s*$")
_INLINE_OPTION = re.compile(r"(?<![^\s:?.!])\(([A-Ga-g])\)\s*")
_OPTIONS_LABEL = re.compile(r"\b(?:options|choices|answers?)\s*:?\s*$", re.I)
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
    """Premises and a conclusion (or options) read from a message: the statement asked about is found in any
    common wording of the question (tools/logic/question.py)."""
    options, body = _options(text)
    premises_text, conclusion, _ = question.split(body)
    if options:  # the question is the choice among the options: what precedes it is the puzzle
        premises_text = premises_text if conclusion is None else body
        conclusion = None
    sentences = [s.strip() for s in _SENTENCE.findall(premises_text) if s.strip()]
    return choose([s for s in sentences if not s.endswith("?")], conclusion, options)


def _options(text: str) -> tuple[list[tuple[str, str]], str]:
    """The options, written one per line ("(A) ...") or on one line ("Options: (A) ... (B) ..."), and the rest."""
    options, body = [], []
    for line in text.splitlines():
        if m := _OPTION.match(line):
            options.append((m.group(1).upper(), m.group(2)))
            continue
        marks = list(_INLINE_OPTION.finditer(line))
        if len(marks) >= 2 and [m.group(1).upper() for m in marks] == [chr(ord("A") + i) for i in range(len(marks))]:
            ends = [m.start() for m in marks[1:]] + [len(line)]
            options += [(m.group(1).upper(), line[m.end():end].strip()) for m, end in zip(marks, ends)]
            line = line[:marks[0].start()]
        body.append(line)
    if options:
        body = [_OPTIONS_LABEL.sub("", line) for line in body]
    return options, "\n".join(body)


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
