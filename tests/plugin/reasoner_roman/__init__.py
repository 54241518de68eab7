"""A tool from outside the project, registered through the `reasoner.tools` entry point: a Roman numeral read
as a number by the usual rule (a smaller numeral before a larger one is subtracted), and the reading checked
by writing the number back as a numeral, which must give the numeral asked about."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import Attempt, Check, Conclusion, Proposal, Recognition, Refusal, Task
from tools.registry import ToolSpec

NUMERAL = re.compile(r"\b[MDCLXVI]{2,}\b")
ASKED = re.compile(r"\broman\b|\bnumerals?\b", re.I)
VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
WRITTEN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
           (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


class RomanInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numeral: str = Field(pattern=r"^[MDCLXVI]+$")


class RomanResult(BaseModel):
    kind: Literal["roman"] = "roman"
    numeral: str
    value: int
    written_back: str
    answers: list[str]


def read(numeral: str) -> int:
    values = [VALUES[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def write(number: int) -> str:
    out = ""
    for value, letters in WRITTEN:
        while number >= value:
            out, number = out + letters, number - value
    return out


class RomanTool:
    name = "roman"
    max_proposals = 1

    def frame(self, task: Task) -> str | Refusal:
        if task.input:
            return RomanInput.model_validate(task.input).numeral
        found = NUMERAL.search(task.question)
        return found.group(0) if found else Refusal(status="undecided", message="no Roman numeral in the message")

    def propose(self, frame: str, feedback: list[str], earlier: list[Proposal]) -> Proposal:
        return Proposal(by="rule", candidates=[read(frame)])

    def describe(self, candidate: int) -> str:
        return str(candidate)

    def execute(self, frame: str, candidate: int) -> RomanResult:
        return RomanResult(numeral=frame, value=candidate, written_back=write(candidate), answers=[str(candidate)])

    def check(self, frame: str, candidate: int, result: RomanResult) -> list[Check]:
        return [Check(name="written back", passed=result.written_back == frame,
                      detail=f"{candidate} is written {result.written_back}")]

    def conclude(self, frame: str, candidate: int, result: RomanResult) -> Conclusion:
        return Conclusion(answers=result.answers, message=f"{frame} is {candidate}", evidence=result)

    def abstain(self, frame: str, attempts: list[Attempt]) -> Refusal:
        return Refusal(status="undecided", message=f"{frame} is not a numeral as they are written: {attempts[-1].why()}")


def recognise(text: str, tool: RomanTool | None) -> Recognition:
    found = NUMERAL.search(text)
    if not (found and ASKED.search(text)):
        return Recognition(fits=False, signal="no Roman numeral asked about")
    detail = f"the numeral {found.group(0)}"
    return Recognition(fits=True, signal=detail, reason="the message asks about a Roman numeral",
                       checks=[Check(name="numeral", passed=True, detail=detail)])


SPEC = ToolSpec(name="roman", order=5, input=RomanInput, recognise=recognise, build=lambda builder: RomanTool(),
                result=RomanResult, answers="a Roman numeral, read as a number (e.g. 'MCMXCIV in Roman numerals')",
                card=Path(__file__).resolve().parent / "card.js")
