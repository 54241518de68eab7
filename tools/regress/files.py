"""The regression tool's batch files: a folder of CSV files in, a line per file out (the formula, its R² on the
training and validation rows, its complexity, the rounds); a file that cannot be read is its own line."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from tools.base import BatchItem, Task
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


def read(folder: Path, target: str | None = None) -> list[BatchItem]:
    """A task per CSV file in `folder`, keyed by the file's stem (`target`: the column to explain, default the last)."""
    items = []
    for path in csv_files(folder):
        try:
            data = read_csv(path, target)
        except (DataError, FileNotFoundError, UnicodeDecodeError) as e:
            items.append(BatchItem(id=path.stem, problem=str(e)))
            continue
        items.append(BatchItem(id=path.stem, task=as_task(data, path.name), notes=data.notes()))
    return items


def record(item: BatchItem, answer) -> dict:
    result = answer.grounding if answer and isinstance(answer.grounding, RegressResult) else None
    best = result.best if result and answer.status == "answered" else None
    line = {"name": item.id, "expression": best.expression if best else None,
            "r2_train": best.r2_train if best else None, "r2_validation": best.r2_validation if best else None,
            "complexity": best.complexity if best else None, "by": best.by if best else None,
            "rounds": len(answer.attempts) if answer else 0}
    if answer and answer.status != "answered":
        line["message"] = answer.message
    if item.notes:
        line["notes"] = item.notes
    return line


def summary(items: list[BatchItem], lines: dict[str, dict]) -> dict:
    answered = [line for line in lines.values() if line["expression"]]
    return {"answered": len(answered), "r2_validation_over_0.999": sum(line["r2_validation"] > 0.999 for line in answered),
            "median_complexity": statistics.median(line["complexity"] for line in answered) if answered else None}
