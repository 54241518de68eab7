"""Batch induction tasks: ARC files or value-task lists in, one JSON line per task out, solved when the test outputs are known.

Each task goes to the induction tool with its test inputs only: the test outputs stay here and
score the predictions. Lines are appended as tasks finish, so `resume` continues a cut run.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from agent.batch import append_lines
from agent.graph import Agent
from agent.runner import answer_question
from agent.traces import TraceStore
from tools.base import Task
from tools.induce.task import InduceTask
from tools.induce.tool import InduceResult


def as_input(task: InduceTask) -> dict:
    """The tool's input: the training pairs and the test inputs, without the test outputs."""
    if task.kind == "grid":
        return {"train": [{"input": ex.inputs[0], "output": ex.output} for ex in task.train],
                "test": [{"input": ex.inputs[0]} for ex in task.test]}
    return {"train": [{"inputs": ex.inputs, "output": ex.output} for ex in task.train],
            "test": [{"inputs": ex.inputs} for ex in task.test]}


def run_induce(agent: Agent, store: TraceStore | None, tasks: list[InduceTask], out: Path, *, concurrency: int = 2,
               resume: bool = False, on_done: Callable[[int], None] | None = None) -> dict:
    names = Counter(t.name for t in tasks)
    if len(names) < len(tasks):
        twice = [n for n, k in names.items() if k > 1][:3]
        raise ValueError(f"task names repeat ({', '.join(twice)}): each line is keyed by its task's name")
    started = time.perf_counter()

    def one(task: InduceTask) -> str:
        try:
            answer = answer_question(agent, store, Task(question=f"induce: {task.name}", tool="induce", input=as_input(task)),
                                     question_id=task.name)
        except Exception as e:  # noqa: BLE001 - one task's failure is its line, not the end of the batch
            return json.dumps({"id": task.name, "name": task.name, "predictions": [], "solved": False if task.test and all(ex.known for ex in task.test) else None,
                               "status": "error", "message": f"{type(e).__name__}: {e}"[:500], "program": None, "by": None,
                               "rounds": 0, "candidates": 0, "seconds": 0.0, "trace_id": ""})
        return json.dumps(record(task, answer), ensure_ascii=False)

    now = append_lines(out, tasks, lambda task: task.name, one, concurrency=concurrency, resume=resume, on_done=on_done)
    return summarise(out, tasks, time.perf_counter() - started, now)


def record(task: InduceTask, answer) -> dict:
    """One output line: the predictions, whether they are right, the program, what was tried, the time."""
    result = answer.grounding if isinstance(answer.grounding, InduceResult) else None
    predictions = result.predictions if result else []
    known = bool(task.test) and all(ex.known for ex in task.test)
    winner = result.winner if result else None
    line = {"id": task.name, "name": task.name, "predictions": predictions,
            "solved": (len(predictions) == len(task.test) and all(p == ex.output for p, ex in zip(predictions, task.test)))
            if known else None,
            "status": answer.status, "program": winner.program.code if winner else None,
            "by": winner.program.by if winner else None, "rounds": len(answer.attempts),
            "candidates": _tried(answer),
            "seconds": round(answer.seconds.get("total", 0.0), 3), "trace_id": answer.trace_id}
    if answer.status != "answered":
        line["message"] = answer.message
    return line


def _tried(answer) -> int:
    """Programs run over all rounds."""
    return sum(len(a.proposed.programs) for a in answer.attempts if getattr(a.proposed, "programs", None) is not None)


def summarise(out: Path, tasks: list[InduceTask], elapsed: float, answered_now: int) -> dict:
    wanted = {t.name for t in tasks}
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = list({line["id"]: line for line in lines if line["id"] in wanted}.values())
    scored = [line for line in lines if line["solved"] is not None]
    solved = sum(line["solved"] for line in scored)
    seconds = [line["seconds"] for line in lines]
    return {"n": len(lines), "solved": solved, "solved_rate": round(solved / len(scored), 4) if scored else None,
            "solved_by": dict(Counter(line["by"] for line in scored if line["solved"])),
            "fitted": sum(line["status"] == "answered" for line in lines),  # a program reproduced the examples
            "status": dict(Counter(line["status"] for line in lines)),
            "tasks_per_s": round(answered_now / elapsed, 3) if elapsed and answered_now else None,
            "median_seconds": round(statistics.median(seconds), 3) if seconds else None, "answered_now": answered_now,
            "seconds": round(elapsed, 1)}
