"""A table of numbers to explain: read from a CSV file, a message, or the API's columns, checked, split.

The target is one column (default: the last); the others are the formula's variables. Rows with an
empty or non-finite cell are dropped (and counted); a cell that is not a number is an error naming
its row and column. Very long tables are subsampled (seeded), since a formula is found from a few
thousand points as well as from a million. A quarter of the rows (at least two) is held out as the
validation part, on which every fitted formula is measured but never fitted.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, field_serializer

MIN_ROWS = 5  # as the router asks of a table in a message
MAX_VARIABLES = 10
MAX_ROWS = 5000  # rows kept for the search; longer tables are subsampled
VALIDATION_SHARE = 0.25
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"c", "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "pow", "pi", "E", "I", "S", "N", "O", "Q"}


class DataError(ValueError):
    """The table cannot be explained as given; the message says what to change."""


class Dataset(BaseModel):
    """The rows, split: `X`/`y` to fit on, `Xv`/`yv` to validate on, with the column names."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    variables: list[str]
    target: str
    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray
    yv: np.ndarray
    rows: int  # in the input
    dropped: int = 0  # rows with an empty or non-finite cell
    subsampled: int | None = None  # rows kept, when the input was longer than MAX_ROWS

    @field_serializer("X", "y", "Xv", "yv")
    def _as_lists(self, value: np.ndarray) -> list:
        return value.tolist()

    @property
    def X_all(self) -> np.ndarray:
        return np.vstack([self.X, self.Xv])

    @property
    def y_all(self) -> np.ndarray:
        return np.concatenate([self.y, self.yv])

    def notes(self) -> list[str]:
        notes = []
        if self.dropped:
            notes.append(f"{self.dropped} of {self.rows} rows dropped: an empty or non-finite cell")
        if self.subsampled:
            notes.append(f"{self.subsampled:,} of {self.rows - self.dropped:,} rows used (a seeded random sample)")
        return notes


def from_columns(columns: dict[str, list], target: str | None = None, name: str = "data", *, seed: int = 0) -> Dataset:
    """A dataset from named columns of equal length (the API's input)."""
    names = list(columns)
    if len(names) < 2:
        raise DataError(f"{len(names)} column: a table needs at least one variable column and the target")
    target = target or names[-1]
    if target not in columns:
        raise DataError(f"target {target!r} is not a column (the columns are {', '.join(names)})")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise DataError("every column needs the same number of values")
    _check_names(names, target)
    table = np.empty((lengths.pop(), len(names)))
    for j, key in enumerate(names):
        for i, value in enumerate(columns[key]):
            table[i, j] = _number(value, i + 1, key)
    return _dataset(name, names, target, table, seed)


def read_csv(path: Path, target: str | None = None, *, seed: int = 0) -> Dataset:
    """A dataset from a CSV file: a header row of column names, then one row of numbers per point."""
    if path.is_dir():
        raise DataError(f"{path} is a folder: --data takes one CSV file (--tasks takes a folder of them)")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return _from_rows(csv.reader(f), path.stem, target, seed, where=str(path))
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not text in UTF-8 (byte {e.start}): a CSV file of numbers is expected") from None
    except csv.Error as e:
        raise DataError(f"{path}: not a CSV file this tool reads ({e})") from None


def from_text(text: str, target: str | None = None, *, seed: int = 0) -> Dataset | None:
    """The table in a message, or None when it has none: a header line of names, then at least MIN_ROWS
    lines of numbers, separated by commas, tabs or spaces (the rest of the message is ignored)."""
    lines = text.strip().splitlines()
    for start, line in enumerate(lines):
        header = _split(line)
        if len(header) < 2 or not all(NAME.match(h) for h in header):
            continue
        rows = []
        for following in lines[start + 1:]:
            cells = _split(following)
            if len(cells) != len(header) or not all(_is_number(c) for c in cells):
                break
            rows.append(cells)
        if len(rows) >= 2:
            return _from_rows(iter([header, *rows]), "message", target, seed, where="the message")
    found = records(text)
    if found:
        names = list(found[0])
        return _from_rows(iter([names, *[[r[n] for n in names] for r in found]]), "message", target, seed, where="the message")
    return None


_ASSIGNED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])")


def records(text: str) -> list[dict[str, str]] | None:
    """Rows written as assignments, `x=1 y=2, x=2 y=5, …` or `(a=1, b=2, z=5); (a=2, …)`: a row ends where a name
    comes again. None unless at least two rows name the same columns (two or more)."""
    rows: list[dict[str, str]] = []
    for name, value in _ASSIGNED.findall(text):
        if not rows or name in rows[-1]:
            rows.append({})
        rows[-1][name] = value
    if len(rows) < 2 or len(rows[0]) < 2 or any(r.keys() != rows[0].keys() for r in rows):
        return None
    return rows


def _split(line: str) -> list[str]:
    return [c for c in re.split(r"[,\t; ]+", line.strip()) if c]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _from_rows(rows, name: str, target: str | None, seed: int, where: str) -> Dataset:
    header = next(rows, None)
    if not header:
        raise DataError(f"{where} is empty: expected a header row of column names, then rows of numbers")
    names = [h.strip() for h in header]
    _check_names(names, target or names[-1])
    if target is not None and target not in names:
        raise DataError(f"target {target!r} is not a column of {where} (the columns are {', '.join(names)})")
    values: list[list[float]] = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise DataError(f"{where}, line {line}: {len(row)} cells for {len(names)} columns")
        values.append([_number(cell, line, names[j]) for j, cell in enumerate(row)])
    table = np.array(values, dtype=float).reshape(len(values), len(names))
    return _dataset(name, names, target or names[-1], table, seed)


def _check_names(names: list[str], target: str) -> None:
    """Identifiers, none repeated; a variable's name is not one a formula uses for something else ("c" is a constant
    to fit in a form, "S" a sympy name), while the target, which no formula names, may be anything."""
    if len(names) < 2:
        raise DataError(f"{len(names)} column: a table needs at least one variable column and the target")
    if len(names) - 1 > MAX_VARIABLES:
        raise DataError(f"{len(names) - 1} variable columns: at most {MAX_VARIABLES} (a formula over more is not "
                        "searched here; keep the columns that matter)")
    for n in names:
        if not NAME.match(n) or (n in RESERVED and n != target):
            raise DataError(f"column name {n!r}: names must be identifiers (letters, digits, _), and a variable's not one "
                            f"of {', '.join(sorted(RESERVED))}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"column names repeat: {', '.join(repeated)}")


def _number(cell, line: int, column: str) -> float:
    """A cell's number: NaN for an empty cell (the row is dropped), an error for text."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return math.nan
    if isinstance(cell, bool):
        raise DataError(f"row {line}, column {column!r}: {cell!r} is not a number")
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise DataError(f"row {line}, column {column!r}: {str(cell)[:40]!r} is not a number") from None


def _dataset(name: str, names: list[str], target: str, table: np.ndarray, seed: int) -> Dataset:
    rows = len(table)
    finite = np.all(np.isfinite(table), axis=1)
    table = table[finite]
    if len(table) < MIN_ROWS:
        dropped = f" ({rows - len(table)} dropped for empty or non-finite cells)" if rows > len(table) else ""
        raise DataError(f"{len(table)} usable row{'s' if len(table) != 1 else ''}{dropped}: at least {MIN_ROWS} are needed "
                        "to fit a formula and check it on rows it was not fitted on")
    rng = np.random.default_rng(seed)
    subsampled = None
    if len(table) > MAX_ROWS:
        table = table[np.sort(rng.choice(len(table), MAX_ROWS, replace=False))]
        subsampled = MAX_ROWS
    order = rng.permutation(len(table))
    held = max(2, int(round(len(table) * VALIDATION_SHARE)))
    train, validation = table[order[held:]], table[order[:held]]
    j = names.index(target)
    variables = [n for n in names if n != target]
    keep = [k for k in range(len(names)) if k != j]
    return Dataset(name=name, variables=variables, target=target, X=train[:, keep], y=train[:, j],
                   Xv=validation[:, keep], yv=validation[:, j], rows=rows, dropped=int(rows - finite.sum()),
                   subsampled=subsampled)
