"""The induction tool's task: its typed input, and how it recognises input -> output examples in a message."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import Check, Recognition

_ARROW = re.compile(r"->|=>|→|⟶|\b(becomes|turns into|maps to|goes to|gives|returns|yields)\b", re.I)
_IN_MARK = re.compile(r"\b(inputs?|in)\s*:", re.I)
_OUT_MARK = re.compile(r"\b(outputs?|out)\s*:", re.I)
_IN_OUT_HEADER = re.compile(r"^\W*(inputs?|in)\W+(outputs?|out)\W*$", re.I | re.M)
_CALL_PAIR = re.compile(r"\b[a-zA-Z]\w*\s*\([^()]*\)\s*=\s*[^\s,;?]+")
_ARC_JSON = re.compile(r'"train"\s*:\s*\[\s*\{\s*"input"')


class InduceInput(BaseModel):
    """Examples in ARC JSON (`input`/`output` grids) or as argument lists (`inputs`/`output`)."""

    model_config = ConfigDict(extra="forbid")
    train: list[dict[str, Any]] = Field(min_length=1)
    test: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _pairs(self) -> InduceInput:
        for i, example in enumerate(self.train):
            if "output" not in example or not ({"input", "inputs"} & example.keys()):
                raise ValueError(f"train.{i}: an example needs 'input' (or 'inputs') and 'output'")
        return self


def recognise(text: str) -> Recognition:
    """Two input -> output examples or more (one, given as ARC JSON)."""
    pairs = example_pairs(text)
    signal = f"{pairs} input -> output examples" if pairs else "no input -> output examples"
    if not (pairs >= 2 or (pairs and _ARC_JSON.search(text))):
        return Recognition(fits=False, signal=signal)
    return Recognition(fits=True, signal=signal, reason="the message gives input -> output examples",
                       checks=[Check(name="examples", passed=True, detail=signal)])


def example_pairs(text: str) -> int:
    """How many input -> output examples the text gives (ARC JSON counts its train pairs)."""
    start = text.find("{")
    if start >= 0 and _ARC_JSON.search(text):
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
            return len(value.get("train", [])) if isinstance(value, dict) else 0
        except json.JSONDecodeError:
            return len(re.findall(r'"output"\s*:', text))
    header = _IN_OUT_HEADER.search(text)  # a table of in | out rows
    rows = len([line for line in text[header.end():].splitlines() if line.count("|") >= 2 and "---" not in line]) if header else 0
    return max(len(_ARROW.findall(text)), min(len(_IN_MARK.findall(text)), len(_OUT_MARK.findall(text))),
               len(_CALL_PAIR.findall(text)), rows)
