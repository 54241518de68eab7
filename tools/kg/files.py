"""The KG tool's batch files: question<TAB>answer|answer lines (or JSONL {id, question, answers?}) in, the whole
structured answer per line out; exact match, F1 and hits@1 when gold answers are given, overall and per hop."""

from __future__ import annotations

from pathlib import Path

from kg.metrics import score_answers
from kg.questions import Question, read_questions
from tools.base import BatchItem, Task


def read(path: Path) -> list[BatchItem]:
    return items(read_questions(path))


def items(questions: list[Question]) -> list[BatchItem]:
    return [BatchItem(id=q.id, task=Task(question=q.question, tool="kg"),
                      gold={"answers": q.answers, "hops": q.hops} if q.answers is not None else None)
            for q in questions]


def record(item: BatchItem, answer) -> dict:
    """The structured answer as the API gives it (the question alone, with no answer, when it failed)."""
    if answer is None:
        return {"question": item.task.question, "answers": [], "inferred": False}
    # A column of its own: inferred answers come from rules mined from the graph, not from its facts.
    return answer.model_dump(mode="json") | {"inferred": answer.status == "inferred"}


def summary(items: list[BatchItem], lines: dict[str, dict]) -> dict:
    out: dict = {}
    gold = [i for i in items if i.gold is not None and i.id in lines]
    if gold:
        out |= score_answers((lines[i.id]["answers"], i.gold["answers"]) for i in gold).model_dump(exclude={"n"})
        for hops in sorted({i.gold["hops"] for i in gold if i.gold["hops"] is not None}):
            group = [i for i in gold if i.gold["hops"] == hops]
            out[f"{hops}-hop"] = score_answers((lines[i.id]["answers"], i.gold["answers"]) for i in group).model_dump()
    timed = [line["seconds"] for line in lines.values() if isinstance(line.get("seconds"), dict)]
    if timed:
        nodes = sorted({node for seconds in timed for node in seconds})
        out["mean_seconds_per_question"] = {node: round(sum(s.get(node, 0.0) for s in timed) / len(timed), 4) for node in nodes}
    return out
