"""The typed input each tool takes beside the message text (`Task.input`), validated at the edge.

The API accepts `{"question": ..., "tool": ..., "input": {...}}`; the input's shape says which tool
it is for when no tool is named.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class KGInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str | None = None  # the topic entity, when the caller knows it (no linking then)


class LogicInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    premises: list[str] = Field(min_length=1)
    conclusion: str | None = None  # decide it: true, false or uncertain
    options: list[str] | None = None  # or pick the option that must hold
    premises_fol: list[str] | None = None  # the premises' formulas, when known: no translation then
    conclusion_fol: str | None = None  # the conclusion's formula, when known (with premises_fol: the prover alone)

    @model_validator(mode="after")
    def _aligned(self) -> LogicInput:
        if self.premises_fol is not None and len(self.premises_fol) != len(self.premises):
            raise ValueError(f"premises_fol: {len(self.premises_fol)} formulas for {len(self.premises)} premises")
        return self


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


INPUTS: dict[str, type[BaseModel]] = {"kg": KGInput, "logic": LogicInput, "induce": InduceInput, "regress": RegressInput}
INPUT_SHAPES = ("kg {topic?}; logic {premises, conclusion?, options?}; induce {train: [{input|inputs, output}], test?}; "
                "regress {columns: {name: [numbers]}, target?}")


def check_input(value: dict[str, Any], tool: str | None) -> None:
    """Raise ValueError naming the field, unless `value` is `tool`'s input (or, with no tool, some tool's)."""
    if tool is None:
        if tool_of_input(value) is None:
            raise ValueError(f"input: its shape is no tool's input ({INPUT_SHAPES}); or name the tool")
        return
    try:
        INPUTS[tool].model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in ('input', *first['loc']))}: {first['msg']}") from None


def tool_of_input(value: dict[str, Any]) -> str | None:
    """The one tool whose input `value` is, or None when it fits none or several."""
    fits = []
    for name, model in INPUTS.items():
        try:
            model.model_validate(value)
            fits.append(name)
        except ValueError:
            pass
    return fits[0] if len(fits) == 1 else None
