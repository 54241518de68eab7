"""Batch question answering over a knowledge graph: questions in, one JSON line per answer out, metrics
when gold is known. Every question goes to the KG tool (no routing).

Answers are appended and flushed as they finish, so a crash or Ctrl-C loses no finished answer,
and `resume` skips the ids already in the output file. Questions run on threads, and optionally in
several forked processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from agent.graph import Agent
from agent.runner import answer_question
from agent.traces import TraceStore
from kg.metrics import score_answers
from kg.questions import Question
from tools.base import Task

log = logging.getLogger(__name__)


def run_batch(
    agent: Agent,
    store: TraceStore | None,
    questions: list[Question],
    out: Path,
    *,
    concurrency: int = 32,
    workers: int = 1,
    resume: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> dict:
    """Answer `questions` into `out` (JSONL); return the summary line (metrics when gold is given).

    `concurrency` questions are in flight at once in each of `workers` processes. Threads suit a
    planner that waits on a model server; processes suit a planner that computes (the embedding
    planner), which one Python process cannot spread over several cores.
    """
    done_ids = prepare_output(out, resume)
    todo = [q for q in questions if q.id not in done_ids]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    agent.tools["kg"].prepare([q.question for q in todo])  # the embedding planner encodes them all at once
    answers = (_answer_in_processes(agent, store, todo, workers, concurrency) if workers > 1 and len(todo) > 1
               else _answer_in_threads(agent, store, todo, concurrency))
    with output(out) as write:
        for line, seconds in answers:
            write(line)
            for node, value in seconds.items():
                timings[node] = timings.get(node, 0.0) + value
            if on_done:
                on_done(1)
    elapsed = time.perf_counter() - started
    return summarise_batch(questions, out, elapsed=elapsed, answered_now=len(todo), timings=timings)


Finished = Iterator[tuple[str, dict[str, float]]]  # (answer as a JSON line, seconds per node) as each ends


def _answer_in_threads(agent: Agent, store: TraceStore | None, todo: list[Question], concurrency: int) -> Finished:
    def one(q: Question) -> tuple[str, dict[str, float]]:
        answer = answer_question(agent, store, Task(question=q.question, tool="kg"), question_id=q.id)
        return answer.model_dump_json(), answer.seconds

    with ThreadPoolExecutor(concurrency) as pool:
        pending = set()
        queue = iter(todo)

        def submit_next() -> bool:
            q = next(queue, None)
            if q is None:
                return False
            pending.add(pool.submit(one, q))
            return True

        # Keep `concurrency` questions in flight without materialising every future at once.
        for _ in range(concurrency * 2):
            if not submit_next():
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.discard(future)
                yield future.result()
                submit_next()


# What a forked worker inherits: the agent (graph, planner, caches) and where the traces go.
_WORKER: dict = {}


def _answer_in_processes(agent: Agent, store: TraceStore | None, todo: list[Question], workers: int,
                         concurrency: int) -> Finished:
    _WORKER.update(agent=agent, traces=store.path if store else None, concurrency=concurrency)
    chunks = [todo[i : i + 64] for i in range(0, len(todo), 64)]
    try:
        with mp.get_context("fork").Pool(workers, initializer=_start_worker) as pool:
            for finished in pool.imap_unordered(_answer_chunk, chunks):
                yield from finished
    finally:
        _WORKER.clear()


def _start_worker() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # one process per core; and a thread pool inherited through fork is unsafe
    traces = _WORKER["traces"]
    _WORKER["store"] = TraceStore(traces) if traces else None  # a SQLite connection must not cross a fork


def _answer_chunk(chunk: list[Question]) -> list[tuple[str, dict[str, float]]]:
    return list(_answer_in_threads(_WORKER["agent"], _WORKER["store"], chunk, min(_WORKER["concurrency"], len(chunk))))


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


def append_lines(out: Path, items: list, key: Callable[[Any], str], one: Callable[[Any], str], *, concurrency: int,
                 resume: bool, on_done: Callable[[int], None] | None = None) -> int:
    """Write `one(item)` as a line of `out` for each item not yet there (by `key`; all of them, into an empty
    file, unless `resume`), `concurrency` at a time, each as it finishes. Returns how many were written now."""
    done = prepare_output(out, resume)
    todo = [item for item in items if key(item) not in done]
    with ThreadPoolExecutor(concurrency) as pool, output(out) as write:
        for line in pool.map(one, todo):
            write(line)
            if on_done:
                on_done(1)
    return len(todo)


def check_output(out: Path, resume: bool) -> None:
    """`out` can take the answers: a file, new or empty unless `resume`, so nothing in it is overwritten (the CLI
    asks before it starts anything)."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder: give the file to write the answers to")
    if not resume and out.exists() and out.stat().st_size:
        raise FileExistsError(f"{out} already has answers: pass --resume to continue it, or choose another --out")


def prepare_output(out: Path, resume: bool) -> set[str]:
    """`out` checked, and the ids already answered in it with `resume` (a cut last line set aside first)."""
    check_output(out, resume)
    if not resume:
        return set()
    _set_aside_partial_line(out)
    return _ids_in(out)


@contextlib.contextmanager
def output(out: Path) -> Iterator[Callable[[str], None]]:
    """A function that appends one answer line to `out` and flushes it (strict JSON: a number that is not finite is
    written as null); a write that fails names the file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sink = out.open("a", encoding="utf-8")

    def write(line: str) -> None:
        try:
            sink.write(_strict(line) + "\n")
            sink.flush()
        except OSError as e:
            raise OSError(f"cannot write the answers to {out}: {e.strerror or e}") from None

    try:
        yield write
    finally:
        with contextlib.suppress(OSError):  # what failed to be written was said when it failed
            sink.close()


def _strict(line: str) -> str:
    """`line` as JSON that every reader takes: NaN and infinities (which Python writes bare) become null. Only a
    line with those words in it is read again."""
    if "NaN" not in line and "Infinity" not in line:
        return line
    try:
        json.loads(line, parse_constant=_refuse)
        return line
    except ValueError:
        return json.dumps(_finite(json.loads(line)), ensure_ascii=False)


def _refuse(name: str):
    raise ValueError(name)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _ids_in(out: Path) -> set[str]:
    if not out.exists():
        return set()
    ids = set()
    with out.open(encoding="utf-8") as f:
        for line in f:
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # not an answer line (the summary): its item is answered again
    return ids


def _set_aside_partial_line(out: Path) -> None:
    """A crash can leave the last line without its newline. A whole answer is kept (its newline added); a line cut
    short is moved to `<out>.partial`, never deleted, and its item answered again."""
    if not out.exists() or out.stat().st_size == 0:
        return
    data = out.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    last = data[cut:]
    try:
        json.loads(last)
    except ValueError:
        aside = out.with_name(out.name + ".partial")
        with aside.open("ab") as f:
            f.write(last + b"\n")
        os.truncate(out, cut)
        log.warning("%s: its last line was cut short; it is set aside in %s and its item answered again", out, aside)
        return
    with out.open("ab") as f:
        f.write(b"\n")
