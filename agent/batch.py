"""Batch runs, one runner for every tool: a tool's file of tasks in (read by the tool, tools/<name>/files.py), one
JSON line per task out, and a summary line with the tool's figures when gold is known. Every task goes to the
named tool (no routing).

Lines are appended and flushed as they finish, so a crash or Ctrl-C loses no finished answer, and `resume`
skips the ids already in the output file but answers again the items whose line is an error (set aside).
Tasks run on threads, and optionally in several forked processes. Ctrl-C starts no new task: the ones in flight
finish and are written, and a second Ctrl-C leaves them (`resume` answers them again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing as mp
import os
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from openai import AuthenticationError, NotFoundError
from rich.console import Console

from agent import telemetry
from agent.graph import Agent
from agent.runner import answer_question
from agent.traces import TraceStore
from tools.base import BatchItem
from tools.registry import Files, spec

log = logging.getLogger(__name__)


def run_tool(
    agent: Agent,
    store: TraceStore | None,
    tool: str,
    items: list[BatchItem],
    out: Path,
    *,
    concurrency: int = 4,
    workers: int = 1,
    resume: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> dict:
    """Answer `items` with `tool` into `out` (JSONL, a line per item as it finishes: the tool's record, its status,
    seconds and trace); return the summary line (the tool's figures, the statuses, the rate).

    `concurrency` items are in flight at once in each of `workers` processes. Threads suit a tool that waits on
    a model server; processes suit one that computes (the embedding planner), which one Python process cannot
    spread over several cores. An item that fails is its own line, not the end of the batch.
    """
    files = spec(tool).files

    def answer(todo: list[BatchItem]) -> Iterator[str]:
        prepare(agent, tool, todo)
        if workers > 1 and len(todo) > 1:
            return _answer_in_processes(agent, store, files, todo, workers, concurrency)
        return answer_lines(agent, store, files, todo, concurrency)

    return write_lines(tool, items, out, answer, resume=resume, on_done=on_done)


def write_lines(tool: str, items: list[BatchItem], out: Path, answer: Callable[[list[BatchItem]], Iterable[str]], *,
                resume: bool = False, on_done: Callable[[int], None] | None = None) -> dict:
    """The items not yet in `out` (all, unless `resume`), answered by `answer` (a line each, in any order) and
    appended to `out` as they come; the summary line."""
    files = spec(tool).files
    repeated = [key for key, n in Counter(item.id for item in items).items() if n > 1]
    if repeated:
        raise ValueError(f"ids repeat ({', '.join(repeated[:3])}): each line is keyed by its item's id")
    done_ids = prepare_output(out, resume)
    todo = [item for item in items if item.id not in done_ids]
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with output(out) as write:
        try:
            for line in answer(todo) if todo else ():
                write(line)
                written += 1
                if on_done:
                    on_done(1)
        except KeyboardInterrupt:
            log.warning("stopped: %d of the %d items to answer are in %s; --resume answers the rest", written,
                        len(todo), out)
            raise
    return summarise(files, items, out, time.perf_counter() - started, len(todo))


def prepare(agent: Agent, tool: str, todo: list[BatchItem]) -> None:
    """Whatever the tool does for many items at once before answering them (the embedding planner encodes every
    question in one go)."""
    ready = getattr(agent.tools.get(tool), "prepare", None)
    if ready:
        ready([item.task.question for item in todo if item.task])


def answer_line(agent: Agent, store: TraceStore | None, files: Files, item: BatchItem) -> str:
    """One item's output line: its id, the tool's record of the answer, the status, seconds and trace."""
    began = time.perf_counter()
    line: dict[str, Any] = {"id": item.id}
    if item.task is None:  # unreadable: that is its answer
        line |= files.record(item, None) | {"status": "undecided", "message": item.problem}
    else:
        try:
            answer = answer_question(agent, store, item.task, question_id=item.id)
        except (NotFoundError, AuthenticationError):
            raise  # the model server has no such model, or refuses the key: every item would fail the same way
        except Exception as e:  # noqa: BLE001 - one item's failure is its line, not the end of the batch
            line |= files.record(item, None) | {"status": "error", "message": f"{type(e).__name__}: {e}"[:500]}
        else:
            line |= {"status": answer.status} | files.record(item, answer)
            line.setdefault("seconds", round(answer.seconds.get("total", 0.0), 3))
            line.setdefault("trace_id", answer.trace_id)
    line.setdefault("seconds", round(time.perf_counter() - began, 3))
    line.setdefault("trace_id", "")
    return json.dumps(line, ensure_ascii=False)


def answer_lines(agent: Agent, store: TraceStore | None, files: Files, todo: list[BatchItem],
                 concurrency: int) -> Iterator[str]:
    """Each item's line as it finishes, `concurrency` in flight on threads. After Ctrl-C no item starts, the
    lines of those in flight still come, and then KeyboardInterrupt is raised (`_ctrl_c`)."""
    pool = ThreadPoolExecutor(concurrency)
    pending: set[Future] = set()
    queue = iter(todo)
    stopping = threading.Event()

    def submit_next() -> bool:
        item = None if stopping.is_set() else next(queue, None)
        if item is None:
            return False
        pending.add(pool.submit(answer_line, agent, store, files, item))
        return True

    def stop() -> list[Future]:
        stopping.set()
        return [future for future in list(pending) if not future.cancel()]  # the queued ones are dropped

    try:
        with _ctrl_c(stop):
            # Keep `concurrency` items in flight without materialising every future at once.
            for _ in range(concurrency * 2):
                if not submit_next():
                    break
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    pending.discard(future)
                    if not future.cancelled():
                        yield future.result()
                    submit_next()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if stopping.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def _ctrl_c(stop: Callable[[], list[Future]]) -> Iterator[None]:
    """The first Ctrl-C calls `stop`, which drops the queued items and returns those running, whose lines still
    come; a second one leaves those and ends the process at once (its threads cannot be stopped, and the
    interpreter would wait for them on its way out). Only the main thread takes signals: elsewhere, nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    running: list[Future] = []

    def first(*_) -> None:
        running.extend(stop())
        log.warning("stopping: waiting for the %d item(s) in flight to finish (Ctrl-C again to leave them)",
                    len(running))
        signal.signal(signal.SIGINT, second)

    def second(*_) -> None:
        log.warning("left %d item(s) in flight; --resume answers them", sum(not f.done() for f in running))
        telemetry.flush()
        logging.shutdown()
        Console(stderr=True).show_cursor(True)  # a progress bar hides it, and would have shown it on its way out
        os._exit(130)

    before = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


# What a forked worker inherits: the agent (graph, planner, caches), the tool's files and where the traces go.
_WORKER: dict = {}


def _answer_in_processes(agent: Agent, store: TraceStore | None, files: Files, todo: list[BatchItem], workers: int,
                         concurrency: int) -> Iterator[str]:
    _WORKER.update(agent=agent, files=files, traces=store.path if store else None, concurrency=concurrency)
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


def _answer_chunk(chunk: list[BatchItem]) -> list[str]:
    lines = list(answer_lines(_WORKER["agent"], _WORKER["store"], _WORKER["files"], chunk,
                              min(_WORKER["concurrency"], len(chunk))))
    telemetry.flush()  # a pool's worker ends without running exit handlers
    return lines


def summarise(files: Files, items: list[BatchItem], out: Path, elapsed: float, answered_now: int) -> dict:
    """The summary line: how many lines, the tool's figures, the statuses, the rate and the median seconds."""
    wanted = {item.id for item in items}
    lines: dict[str, dict] = {}
    with out.open(encoding="utf-8") as f:
        for text in f:
            if text.strip():
                line = json.loads(text)
                if line["id"] in wanted:
                    lines[line["id"]] = line
    seconds = [s["total"] if isinstance(s, dict) else s for s in (line["seconds"] for line in lines.values())]
    return {"n": len(lines), **files.summary(items, lines), "status": dict(Counter(line["status"] for line in lines.values())),
            f"{files.unit}_per_s": round(answered_now / elapsed, 3) if elapsed and answered_now else None,
            "median_seconds": round(statistics.median(seconds), 3) if seconds else None,
            "answered_now": answered_now, "seconds": round(elapsed, 1)}


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
    _set_aside_errors(out)
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


def _set_aside_errors(out: Path) -> None:
    """Lines of items that failed (status `error`: the model server timed out, say) are moved to `<out>.errors`,
    never deleted, so that their items are answered again."""
    if not out.exists():
        return
    kept, failed = [], []
    for line in out.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            error = json.loads(line).get("status") == "error"
        except (json.JSONDecodeError, AttributeError):
            error = False
        (failed if error else kept).append(line)
    if failed:
        with out.with_name(out.name + ".errors").open("a", encoding="utf-8") as f:
            f.writelines(failed)
        out.write_text("".join(kept), encoding="utf-8")


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
