"""The logic tool's task: its typed input, and how it recognises premises with a question in a message."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import Check, Recognition
from tools.logic import question

_SENTENCE = re.compile(r"[^.?!\n]+[.?!]?")
_QUESTION_MARKERS = re.compile(
    r"\b(conclusion|hypothesis|statement|claim)\s*:|true or false|true, false,? or uncertain|does it follow|"
    r"can we (conclude|infer|deduce)|is it true that|must be true|which of the following|\boptions?\s*:|\(a\)|"
    r"\bprove( that)?\b|\bshow that\b", re.I)
_LOGIC_WORDS = re.compile(
    r"\b(all|every|each|some|no|none|nobody|not|if|then|implies|therefore|whenever|either|neither|only|unless|"
    r"every(one|body|thing)|some(one|body|thing)|nothing|premises?|rules?|left|right|above|below|first|last|"
    r"before|after|always|never|\w+er than)\b", re.I)
_QUANTIFIER = re.compile(r"\b(all|every|each|some|no|none|any|every(one|body|thing)|some(one|body|thing)|nothing)\b", re.I)
_CONDITION = re.compile(r"\b(if|given|assume|assuming|suppose|implies|therefore|then|unless|either|conclude|infer|"
                        r"deduce|prove|follows?)\b", re.I)


class LogicInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    premises: list[str] = Field(min_length=1)
    conclusion: str | None = None  # decide it: true, false or uncertain
    options: list[str] | None = None  # or pick the option that must hold
    premises_fol: list[str] | None = None  # the premises' formulas, when known: no translation then
    conclusion_fol: str | None = None  # the conclusion's formula, when known (with premises_fol: the prover alone)

    @model_validator(mode="after")
    def _aligned(self) -> LogicInput:
        if self.premises_fol is not None and len(self.premises_fol) != len(self.premises):
            raise ValueError(f"premises_fol: {len(self.premises_fol)} formulas for {len(self.premises)} premises")
        return self


def recognise(text: str) -> Recognition:
    """Premises, and a question or conclusion to decide, in a reasoning problem's words. Premises with a bare yes/no
    question and no logical vocabulary ("Anne is kind. Kind people are happy. Is Anne sad?") are left undecided:
    the learned router (agent/route_model.py) tells them from a person's questions about their day."""
    premises, question, sure = logic_parts(text)
    signal = f"{premises} premise(s), " + ("a question or conclusion" if question else "no question or conclusion")
    if not (premises and question and sure):
        return Recognition(fits=False, signal=signal + ("" if sure or not (premises and question) else "; no reasoning vocabulary"))
    return Recognition(fits=True, signal=signal, reason="the message gives premises and a question",
                       checks=[Check(name="premises", passed=True, detail=f"{premises} premise(s)"),
                               Check(name="question", passed=True, detail="a question or conclusion to decide")])


def logic_parts(text: str) -> tuple[int, bool, bool]:
    """(premises, whether a statement is asked about (or options chosen among), whether the text reads as a reasoning
    problem for sure: the question asked in a reasoning problem's words, or premises in logical vocabulary).
    "Is every man mortal if Socrates is a man?" counts the if-clause as its premise."""
    premises_text, statement, explicit = question.split(text)
    sentences = [s.strip() for s in _SENTENCE.findall(premises_text) if s.strip()]
    statements = [s for s in sentences if not s.endswith("?") and not _QUESTION_MARKERS.search(s)]
    asked = statement is not None or bool(_QUESTION_MARKERS.search(text))
    vocabulary = bool(_LOGIC_WORDS.search(text))
    reasoning = bool(_QUANTIFIER.search(text) or _CONDITION.search(text))
    if not statements and asked and _CONDITION.search(text) and (_QUANTIFIER.search(text) or _QUESTION_MARKERS.search(text)):
        return 1, True, True  # the premise is a clause of the question: "does it follow, given that ...", "... if ...?"
    sure = (explicit and statement is not None) or (vocabulary and (len(statements) >= 2 or reasoning))
    return len(statements), asked and bool(statements), sure
