"""The kg tool's entry in the registry (tools/registry.py). It is built with its graph (agent/assemble.py)."""

from pathlib import Path

from kg.paths import one_per_topic, plan_text, render_path
from tools.base import Recognition
from tools.kg import files
from tools.kg.input import KGInput
from tools.kg.tool import KGGrounding
from tools.registry import Files, ToolSpec

MAX_PATHS = 3  # answers whose witness paths are shown


def _recognise(text: str, tool) -> Recognition:
    if tool is None:
        return Recognition(fits=False, signal="no knowledge graph is served", anchored=False)
    return tool.recognise(text)


def lines(answer) -> list[str]:
    """The plan from the topic, then a witness path per topic for the first answers."""
    out = [f"Plan: {plan_text(answer.plan)} from {' and '.join(answer.topics or [answer.topic])}" + (
        f", by the {answer.planner} planner standing in while the model server is down (degraded)." if answer.degraded else ".")]
    decision = getattr(answer.grounding, "decision", None)
    if decision:
        out.append(f"Decided by clingo over the set: {decision.sentence()}")
    for a in (list(answer.evidence) if decision else answer.answers)[:MAX_PATHS]:  # a set's members, not its verdict
        out += ["Evidence: " + render_path(path) for path in one_per_topic(answer.evidence.get(a, []))]
    return out


SPEC = ToolSpec(files=Files.of(files, unit="questions"),
                name="kg", order=40, input=KGInput, recognise=_recognise, result=KGGrounding, lines=lines,
                card=Path(__file__).resolve().parent / "card.js",
                answers="questions about the entities of the knowledge graph (e.g. 'who directed [Inception]')")
