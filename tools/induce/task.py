"""Induction tasks: examples to explain, and test inputs to answer, read from ARC JSON or string-task lists.

Two shapes, one model:
- ARC grid tasks: `{"train": [{"input": grid, "output": grid}], "test": [{"input": grid, "output"?: grid}]}`,
  one per file; the task's name is the file's stem;
- value tasks: a JSON list of `{"name", "train": [{"inputs": [...], "output": ...}], "test": [{"inputs": [...],
  "output"?: ...}]}`; a program is called with the inputs as its arguments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel


class Example(BaseModel):
    inputs: list[Any]  # the program's arguments (a grid task: one, the grid)
    output: Any = None
    known: bool = True  # False for a test input given without its output


class InduceTask(BaseModel):
    name: str
    kind: Literal["grid", "values"]
    train: list[Example]
    test: list[Example] = []


class TaskError(ValueError):
    """A task file or item that is not a task, naming where and what was expected."""


def _grid(value: Any, where: str) -> list[list[int]]:
    if (not isinstance(value, list) or not value or not all(isinstance(r, list) and r for r in value)
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 9 for r in value for c in r)):
        raise TaskError(f"{where}: a grid is a non-empty list of rows of colours 0-9")
    if len({len(r) for r in value}) != 1:
        raise TaskError(f"{where}: the grid's rows differ in length")
    return value


def from_dict(item: Any, name: str, where: str) -> InduceTask:
    """One task, ARC-shaped (`input`) or value-shaped (`inputs`)."""
    if not isinstance(item, dict) or not isinstance(item.get("train"), list) or not item["train"]:
        raise TaskError(f"{where}: a task needs a non-empty 'train' list")
    grid = "input" in item["train"][0]
    examples: dict[str, list[Example]] = {}
    for part in ("train", "test"):
        examples[part] = []
        for i, ex in enumerate(item.get(part) or []):
            at = f"{where}: {part}[{i}]"
            if not isinstance(ex, dict):
                raise TaskError(f"{at}: an example is an object")
            known = "output" in ex
            if part == "train" and not known:
                raise TaskError(f"{at}: a training example needs 'output'")
            if grid:
                if "input" not in ex:
                    raise TaskError(f"{at}: needs 'input' (a grid), like the first example")
                inputs = [_grid(ex["input"], f"{at}.input")]
                output = _grid(ex["output"], f"{at}.output") if known else None
            else:
                if not isinstance(ex.get("inputs"), list):
                    raise TaskError(f"{at}: needs 'inputs' (a list of arguments), like the first example")
                inputs, output = ex["inputs"], ex.get("output")
            examples[part].append(Example(inputs=inputs, output=output, known=known))
    return InduceTask(name=str(item.get("name") or name), kind="grid" if grid else "values", **examples)


def load(path: str | Path) -> list[InduceTask]:
    """The tasks at `path`: an ARC task file, a folder of them (searched recursively), or a JSON list of tasks."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise TaskError(f"{path}: no .json task files in this folder")
        return [t for f in files for t in load(f)]
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise TaskError(f"{path}: no such file") from None
    except ValueError as e:
        raise TaskError(f"{path}: not JSON ({e})") from None
    except RecursionError:
        raise TaskError(f"{path}: JSON nested too deeply to be a task") from None
    if isinstance(data, list):
        return [from_dict(item, f"task{i}", f"{path}: item {i}") for i, item in enumerate(data)]
    return [from_dict(data, path.stem, str(path))]


def from_sygus(problem: dict, held_out: int = 1) -> dict:
    """A SyGuS programming-by-example problem as a value task: its last `held_out` examples become the test."""
    if not problem.get("examples") or any("inputs" not in e or "output" not in e for e in problem["examples"]):
        raise TaskError(f"{problem.get('name')}: its constraints are not input/output examples")
    examples = [{"inputs": e["inputs"], "output": e["output"]} for e in problem["examples"]]
    held_out = min(held_out, len(examples) - 1)
    return {"name": problem["name"], "train": examples[:len(examples) - held_out], "test": examples[len(examples) - held_out:]}
