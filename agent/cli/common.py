"""Options and output helpers shared by the `reasoner` commands."""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from agent.settings import settings

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

KgOpt = Annotated[str, typer.Option("--kg", help="Triple file, graph store folder (`reasoner kg load`) or SPARQL endpoint URL "
                                               "(default: the bundled demo graph).")]
PlannerOpt = Annotated[str, typer.Option(help="'auto' (the shipped distilled planner for this graph, if any), 'base', or a distilled planner folder: "
                                              "an LLM plans. 'embedding' (the shipped edge scorer for this graph) or a scorer folder: "
                                              "embedding-guided search plans, no model server.")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Hugging Face name or local directory to serve instead of the embedded SmolLM2-135M-Instruct.")]
UrlOpt = Annotated[Optional[str], typer.Option("--llm-url", help="A running OpenAI-compatible server (e.g. http://host:8000/v1) to use instead of starting one; "
                                                          "with --ray, several separated by commas, which the agents take in turn.")]
LlmModelOpt = Annotated[Optional[str], typer.Option(help="The model every tool asks --llm-url for (default: each tool asks for "
                                                             "its adapter by the tool's name: kg, logic, induce, regress).")]
ExamplesOpt = Annotated[Optional[Path], typer.Option(help="Mined plans (JSONL): retrieval examples for the base planner and answer-kind evidence.")]
RayOpt = Annotated[Optional[str], typer.Option("--ray", help="Answer on a Ray cluster: its address (e.g. ray://host:10001, "
                                                          "or 'auto' for the one this machine is in), or 'local' to start one here.")]
TracesOpt = Annotated[Optional[Path], typer.Option(help="SQLite file for run traces (default: ~/.cache/reasoner/traces.sqlite).")]


def command_line() -> str:
    """This command as typed, for a card to say how it was made."""
    return "reasoner " + shlex.join(sys.argv[1:])


def traces_path(traces: Path | None) -> Path:
    return traces or settings().traces_path


def progress_bar(label: str, *extra: ProgressColumn) -> Progress:
    """A progress bar on stderr: count, extra columns, elapsed time and an estimate of what is left."""
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), *extra, TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), console=err)


@contextlib.contextmanager
def counting(label: str, total: int, unit: str, digits: int = 2) -> Iterator[Callable[[int], None]]:
    """A progress bar over `total` items showing the rate in `unit`; yields the callback that counts items done."""
    with progress_bar(label, TextColumn(f"{{task.fields[rate]}} {unit}")) as progress:
        task = progress.add_task(label, total=total, rate="-")

        def done(n: int) -> None:
            progress.advance(task, n)
            t = progress.tasks[0]
            if t.elapsed:
                progress.update(task, rate=f"{t.completed / t.elapsed:.{digits}f}")

        yield done


@contextlib.contextmanager
def training_bar(steps: int, every: int = 25) -> Iterator[tuple[Callable[[int, float], None], Callable[[str], None]]]:
    """A progress bar over training steps with the loss, and a plain line every `every` steps for logs (where the
    bar does not show); yields (on_step, log) for the training loop."""
    with progress_bar("training", TextColumn("loss {task.fields[loss]:.4f}")) as progress:
        task = progress.add_task("training", total=steps, loss=float("nan"))

        def on_step(step: int, loss: float) -> None:
            progress.update(task, completed=step, loss=loss)
            if step % every == 0:
                progress.console.print(f"step {step}/{steps}: loss {loss:.4f}", highlight=False)

        yield on_step, lambda line: progress.console.print(line, highlight=False)
