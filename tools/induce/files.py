"""The induction tool's batch files: ARC task files (a file, or a folder searched recursively) or a JSON list of
value tasks in, a line per task out, solved when the test outputs are known.

Each task goes to the tool with its test inputs only: the test outputs stay here and score the predictions.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from tools.base import BatchItem, Task
from tools.induce.task import InduceTask, load
from tools.induce.tool import InduceResult


def as_input(task: InduceTask) -> dict:
    """The tool's input: the training pairs and the test inputs, without the test outputs."""
    if task.kind == "grid":
        return {"train": [{"input": ex.inputs[0], "output": ex.output} for ex in task.train],
                "test": [{"input": ex.inputs[0]} for ex in task.test]}
    return {"train": [{"inputs": ex.inputs, "output": ex.output} for ex in task.train],
            "test": [{"inputs": ex.inputs} for ex in task.test]}


def read(path: Path) -> list[BatchItem]:
    return items(load(path))


def items(tasks: list[InduceTask]) -> list[BatchItem]:
    """Each task, keyed by its name; its gold is the test outputs, when every one is known."""
    names = Counter(t.name for t in tasks)
    if len(names) < len(tasks):
        twice = [n for n, k in names.items() if k > 1][:3]
        raise ValueError(f"task names repeat ({', '.join(twice)}): each line is keyed by its task's name")
    return [BatchItem(id=t.name, task=Task(question=f"induce: {t.name}", tool="induce", input=as_input(t)),
                      gold=[ex.output for ex in t.test] if t.test and all(ex.known for ex in t.test) else None)
            for t in tasks]


def record(item: BatchItem, answer) -> dict:
    """The predictions, whether they are right, the program, how many were tried."""
    result = answer.grounding if answer and isinstance(answer.grounding, InduceResult) else None
    predictions = result.predictions if result else []
    winner = result.winner if result else None
    line = {"name": item.id, "predictions": predictions,
            "solved": (len(predictions) == len(item.gold) and all(p == g for p, g in zip(predictions, item.gold)))
            if item.gold is not None else None,
            "program": winner.program.code if winner else None, "by": winner.program.by if winner else None,
            "rounds": len(answer.attempts) if answer else 0,
            "candidates": sum(len(a.proposed.programs) for a in answer.attempts
                              if getattr(a.proposed, "programs", None) is not None) if answer else 0}
    if answer and answer.status != "answered":
        line["message"] = answer.message
    return line


def summary(items: list[BatchItem], lines: dict[str, dict]) -> dict:
    scored = [line for line in lines.values() if line["solved"] is not None]
    won = [line for line in scored if line["solved"]]
    solved = len(won)
    return {"solved": solved, "solved_rate": round(solved / len(scored), 4) if scored else None,
            "solved_by": dict(Counter(line["by"] for line in won)),
            "fitted": sum(line["status"] == "answered" for line in lines.values()),  # a program reproduced the examples
            # per solved task: the programs run (proposed and enumerated) and the seconds taken
            "solved_median_candidates": statistics.median(line["candidates"] for line in won) if won else None,
            "solved_median_seconds": round(statistics.median(line["seconds"] for line in won), 3) if won else None}
