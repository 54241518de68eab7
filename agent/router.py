"""The router: which tool answers a task, decided before any tool runs, with the evidence recorded.

An explicit `tool` wins; then the shape of a typed `input`; otherwise the message text is read for
what each tool needs, most specific first: a table of numbers (regress), input -> output examples
(induce), premises with a question or conclusion (logic), an entity marked in [brackets] (kg, the
graph's convention), or a question about a linked entity that reads like the graph's own questions
(kg; closer still when the link is weak, a common word like "Up"). What fits none of these is routed
to `none`, which the executor answers by saying what the service can do; it is never sent to the KG
to be answered anyway.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from kg.questions import BRACKETED
from tools.base import Check, Route, Task
from tools.inputs import tool_of_input
from tools.regress.data import MIN_ROWS

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
_ARROW = re.compile(r"->|=>|→|⟶|\b(becomes|turns into|maps to|goes to|gives|returns|yields)\b", re.I)
_IN_MARK = re.compile(r"\b(inputs?|in)\s*:", re.I)
_OUT_MARK = re.compile(r"\b(outputs?|out)\s*:", re.I)
_IN_OUT_HEADER = re.compile(r"^\W*(inputs?|in)\W+(outputs?|out)\W*$", re.I | re.M)
_CALL_PAIR = re.compile(r"\b[a-zA-Z]\w*\s*\([^()]*\)\s*=\s*[^\s,;?]+")
_ARC_JSON = re.compile(r'"train"\s*:\s*\[\s*\{\s*"input"')
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
MIN_TABLE_ROWS = MIN_ROWS  # the regression tool's least


class RouteDecision(BaseModel):
    tool: Route
    explicit: bool = False  # named by the caller, not read from the text
    reason: str
    checks: list[Check] = []  # what the chosen route required, and whether the task had it
    signals: dict[str, str] = {}  # what was seen for each tool


class Router:
    """Routes tasks among the tools the agent serves; reads the KG tool's linker and question evidence."""

    def __init__(self, tools: dict) -> None:
        self.kg = tools.get("kg")

    def route(self, task: Task) -> RouteDecision:
        if task.tool:
            return RouteDecision(tool=task.tool, explicit=True, reason=f"the caller asked for the {task.tool} tool")
        if task.input:
            tool = tool_of_input(task.input)
            if tool:
                return RouteDecision(tool=tool, reason=f"the input has the shape of the {tool} tool's input")
        text = task.question
        signals: dict[str, str] = {}
        table = numeric_table(text)
        signals["regress"] = f"a table of {table[0]} rows x {table[1]} numeric columns" if table else "no table of numbers"
        pairs = example_pairs(text)
        signals["induce"] = f"{pairs} input -> output examples" if pairs else "no input -> output examples"
        premises, question = logic_parts(text)
        signals["logic"] = f"{premises} premise(s), " + ("a question or conclusion" if question else "no question or conclusion")

        if table and table[0] >= MIN_TABLE_ROWS:
            check = Check(name="table", passed=True, detail=signals["regress"])
            return RouteDecision(tool="regress", reason="the message gives a table of numbers", checks=[check], signals=signals)
        if pairs >= 2 or (pairs and _ARC_JSON.search(text)):  # one ARC example is a task too
            check = Check(name="examples", passed=True, detail=signals["induce"])
            return RouteDecision(tool="induce", reason="the message gives input -> output examples", checks=[check], signals=signals)
        if premises and question:
            checks = [Check(name="premises", passed=True, detail=f"{premises} premise(s)"),
                      Check(name="question", passed=True, detail="a question or conclusion to decide")]
            return RouteDecision(tool="logic", reason="the message gives premises and a question", checks=checks, signals=signals)
        marked = BRACKETED.search(text)
        if self.kg is not None and marked and re.search(r"[^\W\d_]", marked.group(1)):  # a name, not a list of numbers
            check = Check(name="entity", passed=True, detail=f"{marked.group(0)} is marked as the topic entity")
            return RouteDecision(tool="kg", reason="the message marks its topic entity in [brackets], as KG questions do",
                                 checks=[check], signals=signals)
        if self.kg is not None:
            checks = self.kg_checks(text)
            signals["kg"] = "; ".join(f"{c.name}: {c.detail}" for c in checks)
            if all(c.passed for c in checks):
                return RouteDecision(tool="kg", reason="a question about an entity of the knowledge graph", checks=checks, signals=signals)
            failed = next(c for c in checks if not c.passed)
            return RouteDecision(tool="none", reason=f"no tool fits this message (not a knowledge-graph question: {failed.detail})",
                                 checks=checks, signals=signals)
        return RouteDecision(tool="none", reason="no tool fits this message", signals=signals)

    def kg_checks(self, text: str) -> list[Check]:
        """A KG route needs an entity link and a question that reads like the graph's questions; a weak link
        (a common word, a fuzzy match) needs the message to come closer to them."""
        links, _, masked_question = self.kg.planner.link(text)
        if not links:
            return [Check(name="entity", passed=False, detail="no entity of the graph is named")]
        best = links[0]
        link = f"{best.entity!r} ({best.method} link of {best.span!r}" + (f"; weak: {best.weak})" if best.weak else ")")
        return [Check(name="entity", passed=True, detail=link), self.kg.reads_like_a_question(masked_question, strict=bool(best.weak))]


# ---- what the text holds -------------------------------------------------------------------------


def numeric_table(text: str) -> tuple[int, int] | None:
    """(rows, columns) of the longest run of lines with the same number (>= 2) of numeric cells; a first
    cell that labels the row ("Mercury 0.387 0.241") is not counted."""
    best: tuple[int, int] | None = None
    rows, width = 0, 0
    for line in text.splitlines() + [""]:
        cells = [c for c in re.split(r"[,\s|;]+", line.strip()) if c]
        if len(cells) >= 3 and not _NUMBER.match(cells[0]) and all(_NUMBER.match(c) for c in cells[1:]):
            cells = cells[1:]
        numeric = len(cells) >= 2 and all(_NUMBER.match(c) for c in cells)
        if numeric and (rows == 0 or len(cells) == width):
            rows, width = rows + 1, len(cells)
        else:
            if rows and (best is None or rows > best[0]):
                best = (rows, width)
            rows, width = (1, len(cells)) if numeric else (0, 0)
    return best


def example_pairs(text: str) -> int:
    """How many input -> output examples the text gives (ARC JSON counts its train pairs)."""
    start = text.find("{")
    if start >= 0 and _ARC_JSON.search(text):
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
            return len(value.get("train", [])) if isinstance(value, dict) else 0
        except json.JSONDecodeError:
            return len(re.findall(r'"output"\s*:', text))
    header = _IN_OUT_HEADER.search(text)  # a table of in | out rows
    rows = len([line for line in text[header.end():].splitlines() if line.count("|") >= 2 and "---" not in line]) if header else 0
    return max(len(_ARROW.findall(text)), min(len(_IN_MARK.findall(text)), len(_OUT_MARK.findall(text))),
               len(_CALL_PAIR.findall(text)), rows)


def logic_parts(text: str) -> tuple[int, bool]:
    """(premises, whether there is a question or conclusion to decide) of a reasoning problem; (0, False)
    when the text has no logical vocabulary. "Is every man mortal if Socrates is a man?" counts the
    if-clause as its premise."""
    if not _LOGIC_WORDS.search(text):
        return 0, False
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    statements = [s for s in sentences if not s.endswith("?") and not _QUESTION_MARKERS.search(s)]
    has_question = bool(_QUESTION_MARKERS.search(text)) or any(s.endswith("?") for s in sentences)
    reasoning = bool(_QUANTIFIER.search(text) or _CONDITION.search(text))
    if not statements and has_question and _CONDITION.search(text) and (_QUANTIFIER.search(text) or _QUESTION_MARKERS.search(text)):
        return 1, True  # the premise is a clause of the question: "does it follow, given that ...", "... if ...?"
    return len(statements), has_question and bool(statements) and (len(statements) >= 2 or reasoning)
