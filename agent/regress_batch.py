"""Batch regression: a folder of CSV files in, one JSON line per file out (the formula, its R² on the training
and validation rows, its complexity, the rounds and the time). Lines are appended as files finish, so
`resume` continues a cut run; a file that cannot be read is its own line with the reason."""

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
from tools.regress.data import DataError, Dataset, read_csv
from tools.regress.tool import RegressResult


def csv_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of CSV files")
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{folder} has no .csv files")
    stems = Counter(f.stem for f in files)
    if len(stems) < len(files):
        raise ValueError("file names repeat")
    return files


def as_task(data: Dataset, name: str) -> Task:
    """The tool's task for a table read from a file: its kept rows as columns, its target named."""
    columns = {n: data.X_all[:, j].tolist() for j, n in enumerate(data.variables)} | {data.target: data.y_all.tolist()}
    return Task(question=f"regress: {name}", tool="regress", input={"columns": columns, "target": data.target})


def run_regress(agent: Agent, store: TraceStore | None, files: list[Path], out: Path, *, target: str | None = None,
                concurrency: int = 1, resume: bool = False, on_done: Callable[[int], None] | None = None) -> dict:
    started = time.perf_counter()

    def one(path: Path) -> str:
        began = time.perf_counter()
        try:
            data = read_csv(path, target)
            answer = answer_question(agent, store, as_task(data, path.name), question_id=path.stem)
        except (DataError, FileNotFoundError, UnicodeDecodeError) as e:
            return json.dumps(_failed(path, "undecided", str(e), began))
        except Exception as e:  # noqa: BLE001 - one file's failure is its line, not the end of the batch
            return json.dumps(_failed(path, "error", f"{type(e).__name__}: {e}"[:500], began))
        return json.dumps(record(path.stem, answer, notes=data.notes()))

    now = append_lines(out, files, lambda path: path.stem, one, concurrency=concurrency, resume=resume, on_done=on_done)
    return summarise(out, files, time.perf_counter() - started, now)


def _failed(path: Path, status: str, message: str, began: float) -> dict:
    return {"id": path.stem, "name": path.stem, "expression": None, "r2_train": None, "r2_validation": None,
            "complexity": None, "rounds": 0, "seconds": round(time.perf_counter() - began, 3), "status": status,
            "message": message, "trace_id": ""}


def record(name: str, answer, notes: list[str] = ()) -> dict:
    result = answer.grounding if isinstance(answer.grounding, RegressResult) else None
    best = result.best if result and answer.status == "answered" else None
    line = {"id": name, "name": name, "expression": best.expression if best else None,
            "r2_train": best.r2_train if best else None, "r2_validation": best.r2_validation if best else None,
            "complexity": best.complexity if best else None, "by": best.by if best else None,
            "rounds": len(answer.attempts), "seconds": round(answer.seconds.get("total", 0.0), 3),
            "status": answer.status, "trace_id": answer.trace_id}
    if answer.status != "answered":
        line["message"] = answer.message
    if notes:
        line["notes"] = list(notes)
    return line


def summarise(out: Path, files: list[Path], elapsed: float, answered_now: int) -> dict:
    wanted = {f.stem for f in files}
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = list({line["id"]: line for line in lines if line["id"] in wanted}.values())
    answered = [line for line in lines if line["expression"]]
    seconds = [line["seconds"] for line in lines]
    return {"n": len(lines), "answered": len(answered),
            "r2_validation_over_0.999": sum(line["r2_validation"] > 0.999 for line in answered),
            "median_complexity": statistics.median(line["complexity"] for line in answered) if answered else None,
            "status": dict(Counter(line["status"] for line in lines)),
            "median_seconds": round(statistics.median(seconds), 3) if seconds else None, "answered_now": answered_now,
            "seconds": round(elapsed, 1)}
