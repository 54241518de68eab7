"""Batch logic problems: a benchmark file in, one JSON line per problem out, accuracy when gold is known.

Reads a JSON list in the format of ProofWriter and BIG-bench logical deduction (`id`, `context`,
`question`, `options`, `answer` letter; options that are just True / False / Unknown make it a
conclusion to decide) or FOLIO JSONL (`premises`, `conclusion`, `label`, and `premises-FOL` /
`conclusion-FOL`, used with `gold_fol`). Every problem goes to the logic tool. Lines are appended as
problems finish, so `resume` continues a cut run.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.batch import append_lines
from agent.graph import Agent
from agent.runner import answer_question
from agent.traces import TraceStore
from tools.base import Task
from tools.logic.problem import from_text
from tools.logic.tool import LogicResult

_LABELS = {"true": "True", "false": "False", "unknown": "Unknown", "uncertain": "Unknown"}


class LogicItem(BaseModel):
    id: str
    task: Task
    gold: str | None = None  # True / False / Unknown, or an option's letter


def read_problems(path: Path, *, gold_fol: bool = False) -> list[LogicItem]:
    """The problems of a benchmark file; ValueError naming the item and field that is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist" + (" as a file (it is a folder)" if path.is_dir() else ""))
    try:
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not text in UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON (a list) or JSONL: line {e.lineno}: {e.msg}") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to be a list of problems") from None
    items = []
    for i, row in enumerate(rows):
        where = f"{path} item {i + 1}"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected an object")
        try:
            items.append(_folio(row, i, gold_fol) if "premises" in row else _context(row, i, gold_fol))
        except KeyError as e:
            raise ValueError(f"{where}: missing field {e.args[0]!r}") from None
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    return items


def _folio(row: dict, i: int, gold_fol: bool) -> LogicItem:
    premises = row["premises"] if isinstance(row["premises"], list) else [row["premises"]]
    fields = {"premises": premises, "conclusion": row["conclusion"]}
    if gold_fol:
        fields |= {"premises_fol": row["premises-FOL"], "conclusion_fol": row.get("conclusion-FOL")}
    gold = _LABELS.get(str(row.get("label", "")).lower())
    ident = str(row.get("example_id", row.get("id", i + 1)))
    question = "\n".join(premises) + f"\nConclusion: {row['conclusion']}"
    return LogicItem(id=ident, task=Task(question=question, tool="logic", input=fields), gold=gold)


def _context(row: dict, i: int, gold_fol: bool) -> LogicItem:
    if gold_fol:
        raise ValueError("--gold-fol needs FOLIO-style items with 'premises-FOL'")
    options = row.get("options") or []
    letters = {o.partition(")")[0].strip(): o.partition(")")[2].strip() for o in options}
    question = f"{row['context']}\n{row['question']}"
    if options and {v.lower() for v in letters.values()} <= set(_LABELS):  # ProofWriter: a statement to decide
        gold = _LABELS[letters[row["answer"]].lower()] if row.get("answer") in letters else None
    else:
        question += "\n" + "\n".join(options)
        gold = row.get("answer")
    problem = from_text(question)  # fails early, with the item named, when the text has nothing to decide
    fields = {"premises": problem.premises, "conclusion": problem.conclusion, "options": [t for _, t in problem.options] or None}
    return LogicItem(id=str(row.get("id", i + 1)), task=Task(question=question, tool="logic", input=fields), gold=gold)


def run_logic(agent: Agent, store: TraceStore | None, items: list[LogicItem], out: Path, *, concurrency: int = 4,
              resume: bool = False, on_done: Callable[[int], None] | None = None) -> dict:
    started = time.perf_counter()

    def one(item: LogicItem) -> str:
        try:
            answer = answer_question(agent, store, item.task, question_id=item.id)
        except Exception as e:  # noqa: BLE001 - one problem's failure is its line, not the end of the batch
            return json.dumps({"id": item.id, "answer": None, "gold": item.gold, "correct": False if item.gold else None,
                               "status": "error", "mode": None, "votes": {}, "formulas": None, "verdicts": [], "prover": [],
                               "message": f"{type(e).__name__}: {e}"[:500], "seconds": 0.0, "trace_id": "", "read": True},
                              ensure_ascii=False)
        return json.dumps(record(item, answer), ensure_ascii=False)

    now = append_lines(out, items, lambda item: item.id, one, concurrency=concurrency, resume=resume, on_done=on_done)
    return summarise(out, items, time.perf_counter() - started, now)


def record(item: LogicItem, answer) -> dict:
    """One output line: the answer, the vote, the winning translation, every sample's verdict, the time."""
    result = answer.grounding if isinstance(answer.grounding, LogicResult) else None
    chosen = result.samples[result.winner] if result and result.winner is not None else None
    line = {"id": item.id, "answer": answer.answers[0] if answer.answers else None, "gold": item.gold,
            "correct": (answer.answers[:1] == [item.gold]) if item.gold else None, "status": answer.status,
            "mode": result.mode if result else None, "votes": result.votes if result else {},
            "formulas": chosen.model_dump(exclude={"finish"}) if chosen else None,
            "verdicts": [o.verdict for o in result.outcomes] if result else [],
            "prover": [[f"{c.goal}: {c.status}" for c in o.calls] for o in result.outcomes] if result else [],
            "message": answer.message, "seconds": round(answer.seconds.get("total", 0.0), 3), "trace_id": answer.trace_id}
    line["read"] = answer.status == "answered" or bool(answer.attempts)  # False: refused before translating (bad input)
    if answer.status != "answered":
        line["attempts"] = [a.why() for a in answer.attempts]
    return line


def summarise(out: Path, items: list[LogicItem], elapsed: float, answered_now: int) -> dict:
    wanted = {item.id for item in items}
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = list({line["id"]: line for line in lines if line["id"] in wanted}.values())
    scored = [line for line in lines if line["gold"] is not None]
    per_label = {}
    for label in sorted({line["gold"] for line in scored}):
        group = [line for line in scored if line["gold"] == label]
        per_label[label] = {"n": len(group), "accuracy": round(sum(line["correct"] for line in group) / len(group), 4)}
    seconds = [line["seconds"] for line in lines]
    read = [line for line in scored if line["read"]]
    return {"n": len(lines), "accuracy": round(sum(line["correct"] for line in scored) / len(scored), 4) if scored else None,
            "unread": len(scored) - len(read),  # refused before translating: a given formula that does not parse, no conclusion
            "accuracy_read": round(sum(line["correct"] for line in read) / len(read), 4) if read else None,
            "per_label": per_label, "status": dict(Counter(line["status"] for line in lines)),
            "translation_failures": sum(line["status"] != "answered" for line in lines),
            "problems_per_s": round(answered_now / elapsed, 3) if elapsed and answered_now else None,
            "median_seconds": round(statistics.median(seconds), 3) if seconds else None, "answered_now": answered_now,
            "seconds": round(elapsed, 1)}
