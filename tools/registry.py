"""The tools the service knows, in the order the router asks them (most specific first): the four built in,
then those of installed packages registered under the entry-point group `reasoner.tools`.

A tool's package exposes a `ToolSpec`: the built-in ones as `SPEC` in their `spec.py`, a module apart from the
package's `__init__`, so that a worker process importing one of a tool's modules does not import the whole tool.
A plugin names its spec in its pyproject.toml:

    [project.entry-points."reasoner.tools"]
    units = "reasoner_units:SPEC"

The spec says what the tool answers, its typed input (`Task.input`), how it recognises its kind of task in
a message, and how it is built from what the service gives it.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from tools.base import LLM, BatchItem, Pair, Recognition, Task, Tool

log = logging.getLogger(__name__)

GROUP = "reasoner.tools"
BUILT_IN = ("tools.regress.spec", "tools.induce.spec", "tools.logic.spec", "tools.kg.spec")


class LLMSource(Protocol):
    """Where tools get their LLM (agent.llm.backend.Backend)."""

    llm_url: str | None

    def llm(self, tool: str, adapter: Path | None, what: str) -> LLM: ...


@dataclass
class Builder:
    """What a tool is built from: the source of its LLM, an adapter folder asked for instead of the shipped one,
    and the tool's options (the command line's, for one tool)."""

    spec: ToolSpec
    source: LLMSource
    adapter: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def llm(self, *, required: bool = False) -> LLM | None:
        """The tool's LLM: the model at the remote URL, else its adapter (the one asked for, or the shipped one)
        served on first use, or the base model for a tool that ships no adapter. None when its adapter is
        missing and the tool works without (not `required`)."""
        if self.source.llm_url:
            return self.source.llm(self.spec.name, self.adapter, self.spec.what)
        folder = self.adapter or self.spec.adapter
        if folder is None:
            return self.source.llm(self.spec.name, None, self.spec.what or f"the {self.spec.name} tool's model")
        if not (folder / "adapter_model.safetensors").is_file():
            if self.adapter is not None or required:
                raise FileNotFoundError(f"{folder} holds no adapter for {self.spec.what} (no adapter_model.safetensors); "
                                        f"train one with `reasoner distill {self.spec.name}`")
            return None
        return self.source.llm(self.spec.name, folder, self.spec.what)

    def build(self) -> Tool:
        try:
            return self.spec.build(self)
        except TypeError as e:  # an option the tool does not take, or one of the wrong type
            if not self.options:
                raise
            raise ValueError(f"the {self.spec.name} tool cannot take the options {self.options}: {e}") from e


@dataclass(frozen=True)
class Files:
    """A tool's batch files: how a file of tasks is read, what each answer's line holds, and the summary."""

    read: Callable[..., list[BatchItem]]  # (path, **the command's options) -> the items
    record: Callable[[BatchItem, Any], dict]  # (item, its Answer, or None when it failed) -> the line's own fields
    summary: Callable[[list[BatchItem], dict[str, dict]], dict]  # (items, their lines by id) -> the summary's own fields
    unit: str = "tasks"  # what an item is called: the summary's "<unit>_per_s"

    @classmethod
    def of(cls, module: Any, unit: str = "tasks") -> Files:
        """The `read`, `record` and `summary` of a tool's files module."""
        return cls(read=module.read, record=module.record, summary=module.summary, unit=unit)


def read_jsonl(path: Path) -> list[BatchItem]:
    """A JSON line per task: `question`, and optionally `id`, `input` (the tool's typed input) and `answers` (gold)."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(BatchItem(id=str(row.get("id", n)), task=Task(question=row["question"], input=row.get("input")),
                                   gold=row.get("answers")))
        except (json.JSONDecodeError, KeyError, AttributeError, ValidationError) as e:
            raise ValueError(f"{path}:{n}: not a task line ({{\"question\": ..., \"id\"?, \"input\"?, \"answers\"?}}): {e}") from None
    return items


def _answers(item: BatchItem, answer: Any) -> dict:
    answers = answer.answers if answer else []
    return {"answers": answers, "message": answer.message if answer else None,
            "correct": sorted(answers) == sorted(item.gold) if item.gold is not None else None}


def _accuracy(items: list[BatchItem], lines: dict[str, dict]) -> dict:
    scored = [line for line in lines.values() if line.get("correct") is not None]
    return {"accuracy": round(sum(line["correct"] for line in scored) / len(scored), 4) if scored else None}


JSONL = Files(read=read_jsonl, record=_answers, summary=_accuracy)


@dataclass(frozen=True)
class Training:
    """How a tool's adapter is trained (`reasoner distill NAME`, agent/training.py): its pairs, and its card."""

    pairs: Callable[..., tuple[list[Pair], dict]]  # (data folder, generated count, seed, log) -> pairs, what they are
    card_intro: Callable[[Any], str]  # the card's title and account of the adapter and its data, ending with a newline
    card_file: str  # the card's JSON, beside the adapter ("proposer.json"); its presence marks an adapter folder
    compared: str  # what validation compares: "the program"
    column: str = "source"  # the validation table's first column
    steps: int = 300
    batch_size: int = 8
    max_validation: int = 200
    generated: int = 0  # generated pairs, by default (for tools whose data is generated)
    max_new_tokens: int = 96  # of each validation output
    # Expert iteration (`--rounds`): (a trained adapter, data folder, seed, log) -> the pairs its own samples and the
    # tool's search teach, and what they are; for tools whose proposer is checked by a search (induce).
    experience: Callable[..., tuple[list[Pair], dict]] | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    answers: str  # what kind of message it serves, in the words the service uses to describe itself
    input: type[BaseModel]  # its typed input, validated at the edge
    recognise: Callable[[str, Any], Recognition]  # (message text, the tool as served, or None if it is not)
    build: Callable[[Builder], Tool] | None = None  # the tool, from its LLM and options; None: the KG tool, assembled with its graph
    order: int = 100  # the router asks tools in this order: a table before examples before premises before the graph
    adapter: Path | None = None  # its shipped LoRA adapter, served under the tool's name
    what: str = ""  # what samples the model, for messages: "the logic translator"
    result: type[BaseModel] | None = None  # its evidence (Conclusion.evidence), with a `kind` literal the viewer picks a card by
    lines: Callable[[Any], list[str]] | None = None  # an answer's evidence as text lines, for the CLI and chat (None: its message)
    files: Files = JSONL  # its batch files (`reasoner run NAME`); by default a JSON line per task
    training: Training | None = None  # how its adapter is trained (`reasoner distill NAME`)
    card: Path | None = None  # its card in the trace viewer: a script setting CARDS[kind] (see viewer/app.js)


@functools.cache
def registered() -> dict[str, ToolSpec]:
    """Every tool, in routing order. A plugin that fails to load is left out with a warning."""
    specs = [importlib.import_module(module).SPEC for module in BUILT_IN]
    for point in entry_points(group=GROUP):
        try:
            spec = point.load()
        except Exception as e:  # a broken plugin must not take the service down
            log.warning("the tool plugin %s (%s) did not load: %s: %s", point.name, point.value, type(e).__name__, e)
            continue
        if not isinstance(spec, ToolSpec):
            log.warning("the tool plugin %s (%s) is not a ToolSpec; left out", point.name, point.value)
        elif spec.name in {s.name for s in specs} or spec.name == "none":
            log.warning("the tool plugin %s takes the name %r, which is taken; left out", point.value, spec.name)
        else:
            specs.append(spec)
    return {spec.name: spec for spec in sorted(specs, key=lambda s: s.order)}


def spec(name: str) -> ToolSpec:
    tools = registered()
    if name not in tools:
        raise ValueError(f"{name!r} is not a tool; choose one of {', '.join(tools)}")
    return tools[name]


def input_shapes() -> str:
    return "; ".join(f"{name} {{{', '.join(s.input.model_fields)}}}" for name, s in registered().items())


def check_input(value: dict[str, Any], tool: str | None) -> None:
    """Raise ValueError naming the field, unless `value` is `tool`'s input (or, with no tool, some tool's)."""
    if tool is None:
        if tool_of_input(value) is None:
            raise ValueError(f"input: its shape is no tool's input ({input_shapes()}); or name the tool")
        return
    try:
        spec(tool).input.model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in ('input', *first['loc']))}: {first['msg']}") from None


def tool_of_input(value: dict[str, Any]) -> str | None:
    """The one tool whose input `value` is, or None when it fits none or several."""
    fits = []
    for name, s in registered().items():
        try:
            s.input.model_validate(value)
            fits.append(name)
        except ValueError:
            pass
    return fits[0] if len(fits) == 1 else None


def evidence_lines(answer: Any) -> list[str]:
    """What an answer rests on, as text lines after the answers: the answering tool's, else its message."""
    tool = registered().get(answer.tool)
    return tool.lines(answer) if tool and tool.lines else [answer.message]


def capabilities() -> str:
    """What the service can do, for a message no tool serves."""
    return "; ".join(f"{name}: {s.answers}" for name, s in registered().items())
