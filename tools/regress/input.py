"""The regression tool's task: its typed input, and how it recognises a table of numbers in a message."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import Check, Recognition
from tools.regress.data import MIN_ROWS, records

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


class RegressInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: dict[str, list[float | None]] = Field(min_length=2)  # name -> values, all of one length (null: missing)
    target: str | None = None  # default: the last column

    @model_validator(mode="after")
    def _rectangular(self) -> RegressInput:
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) != 1:
            raise ValueError("columns: every column needs the same number of values")
        if self.target is not None and self.target not in self.columns:
            raise ValueError(f"target: {self.target!r} is not one of the columns")
        return self


def recognise(text: str) -> Recognition:
    """A table of at least MIN_ROWS rows of numbers."""
    table = numeric_table(text)
    signal = f"a table of {table[0]} rows x {table[1]} numeric columns" if table else "no table of numbers"
    if not table or table[0] < MIN_ROWS:
        return Recognition(fits=False, signal=signal)
    return Recognition(fits=True, signal=signal, reason="the message gives a table of numbers",
                       checks=[Check(name="table", passed=True, detail=signal)])


def numeric_table(text: str) -> tuple[int, int] | None:
    """(rows, columns) of the longest run of lines with the same number (>= 2) of numeric cells (a first cell that
    labels the row, "Mercury 0.387 0.241", is not counted), or of rows written as assignments (`x=1 y=2, x=2 y=5`)."""
    best: tuple[int, int] | None = None
    rows, width = 0, 0
    for line in text.splitlines() + [""]:
        cells = [c for c in re.split(r"[,\s|;]+", line.strip()) if c]
        if len(cells) >= 3 and not _NUMBER.match(cells[0]) and all(_NUMBER.match(c) for c in cells[1:]):
            cells = cells[1:]
        numeric = len(cells) >= 2 and all(_NUMBER.match(c) for c in cells)
        if numeric and (rows == 0 or len(cells) == width):
            rows, width = rows + 1, len(cells)
        else:
            if rows and (best is None or rows > best[0]):
                best = (rows, width)
            rows, width = (1, len(cells)) if numeric else (0, 0)
    assigned = records(text)  # `x=1 y=2, x=2 y=5, …`
    if assigned and (best is None or len(assigned) > best[0]):
        best = (len(assigned), len(assigned[0]))
    return best
