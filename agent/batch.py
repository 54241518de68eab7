"""Batch question answering: questions in, one JSON line per answer out, metrics when gold is known.

Answers are appended and flushed as they finish, so a crash or Ctrl-C loses no finished answer,
and `resume` skips the ids already in the output file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from agent.graph import Agent
from agent.runner import answer_question
from agent.traces import TraceStore
from kg.metrics import score_answers
from kg.questions import Question


def run_batch(
    agent: Agent,
    store: TraceStore | None,
    questions: list[Question],
    out: Path,
    *,
    concurrency: int = 32,
    resume: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> dict:
    """Answer `questions` into `out` (JSONL); return the summary line (metrics when gold is given)."""
    if resume:
        _drop_partial_line(out)
    done_ids = _ids_in(out) if resume else set()
    if not resume and out.exists() and out.stat().st_size:
        raise FileExistsError(f"{out} already has answers: pass --resume to continue it, or choose another --out")
    todo = [q for q in questions if q.id not in done_ids]
    lock = threading.Lock()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    prepare = getattr(agent.planner, "prepare", None)
    if prepare:  # a planner that works faster on many questions at once (the embedding planner encodes them)
        prepare([q.question for q in todo])
    with out.open("a", encoding="utf-8") as sink, ThreadPoolExecutor(concurrency) as pool:
        pending = set()
        queue = iter(todo)

        def submit_next() -> bool:
            q = next(queue, None)
            if q is None:
                return False
            pending.add(pool.submit(answer_question, agent, store, q.question, question_id=q.id))
            return True

        # Keep `concurrency` questions in flight without materialising every future at once.
        for _ in range(concurrency * 2):
            if not submit_next():
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.discard(future)
                answer = future.result()
                with lock:
                    sink.write(answer.model_dump_json() + "\n")
                    sink.flush()
                    for node, seconds in answer.seconds.items():
                        timings[node] = timings.get(node, 0.0) + seconds
                if on_done:
                    on_done(1)
                submit_next()
    elapsed = time.perf_counter() - started
    return summarise_batch(questions, out, elapsed=elapsed, answered_now=len(todo), timings=timings)


def summarise_batch(questions: list[Question], out: Path, *, elapsed: float, answered_now: int, timings: dict) -> dict:
    by_id = {}
    with out.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                by_id[record["id"]] = record
    summary: dict = {"n": len(by_id), "answered_now": answered_now,
                     "questions_per_s": round(answered_now / elapsed, 2) if elapsed else None,
                     "seconds": round(elapsed, 1)}
    summary["status"] = {}
    for record in by_id.values():
        summary["status"][record["status"]] = summary["status"].get(record["status"], 0) + 1
    gold = [q for q in questions if q.answers is not None and q.id in by_id]
    if gold:
        summary |= score_answers((by_id[q.id]["answers"], q.answers) for q in gold).model_dump(exclude={"n"})
        for hops in sorted({q.hops for q in gold if q.hops is not None}):
            group = [q for q in gold if q.hops == hops]
            summary[f"{hops}-hop"] = score_answers((by_id[q.id]["answers"], q.answers) for q in group).model_dump()
    if timings and answered_now:
        summary["mean_seconds_per_question"] = {k: round(v / answered_now, 4) for k, v in sorted(timings.items())}
    return summary


def _ids_in(out: Path) -> set[str]:
    if not out.exists():
        return set()
    ids = set()
    with out.open(encoding="utf-8") as f:
        for line in f:
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut by a crash: that question is answered again
    return ids


def _drop_partial_line(out: Path) -> None:
    """A crash can leave half a line at the end: cut it, so appended answers start on a new line."""
    if not out.exists() or out.stat().st_size == 0:
        return
    data = out.read_bytes()
    if not data.endswith(b"\n"):
        out.write_bytes(data[: data.rfind(b"\n") + 1])
