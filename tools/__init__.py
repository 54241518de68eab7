"""The symbolic tools, one package each, listed once here with what each one answers.

    kg       relation plans over a knowledge graph, grounded by graph search (tools/kg/)
    logic    premises and a question, translated to first-order logic or ASP and decided by a prover
    induce   input/output examples, explained by a Python program verified in a sandbox
    regress  a table of numbers, explained by a formula whose constants are fitted

A tool that is listed but not `available` answers "not available yet" (status `no_tool`).
"""

from __future__ import annotations

from pydantic import BaseModel

from tools.base import ToolName


class ToolInfo(BaseModel):
    name: ToolName
    answers: str  # what kind of message it serves, in the words the service uses to describe itself
    available: bool


TOOLS: dict[str, ToolInfo] = {
    "kg": ToolInfo(name="kg", available=True,
                   answers="questions about the entities of the knowledge graph (e.g. 'who directed [Inception]')"),
    "logic": ToolInfo(name="logic", available=True,
                      answers="premises with a question or conclusion to decide (true, false or uncertain)"),
    "induce": ToolInfo(name="induce", available=True,
                       answers="input -> output examples, explained by a program that is then applied to new inputs"),
    "regress": ToolInfo(name="regress", available=True,
                        answers="a table of numbers (a header of column names, then rows), explained by a fitted formula"),
}


def capabilities() -> str:
    """What the service can do, for a message no tool serves."""
    return "; ".join(f"{t.name}: {t.answers}" + ("" if t.available else " (not available yet)") for t in TOOLS.values())
