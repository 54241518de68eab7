"""`reasoner train`: a graph and question-answer pairs in, one planner folder out (both planners, a card)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import TextColumn

from agent.cli.common import command_line, err, progress_bar
from agent.training import DistillConfig, native_bfloat16
from kg.search import SearchConfig

search_defaults = SearchConfig()


def train(
    kg_path: Annotated[str, typer.Option("--kg", help="Triple file (head|relation|tail, TSV or JSONL), graph store folder or SPARQL URL.")],
    questions: Annotated[list[Path], typer.Option("--questions", help="Questions with gold answers: 'question<TAB>answer|answer' "
                                                                      "lines or JSONL {\"question\", \"answers\"} (repeatable).")],
    out: Annotated[Path, typer.Option("--out", help="The planner folder to write.")],
    steps: Annotated[int, typer.Option(help="Training steps of the LLM planner (0: two passes over the data, 100 to 500).")] = 0,
    epochs: Annotated[int, typer.Option(help="Epochs of the edge scorer.")] = search_defaults.epochs,
    validation_share: Annotated[float, typer.Option(help="Share of the questions held out from both planners for the card's figures.")] = 0.1,
    holdout_share: Annotated[float, typer.Option(help="Share of the questions set aside (by id hash) for a benchmark: never trained "
                                                      "on nor validated on.")] = 0.0,
    bfloat16: Annotated[Optional[bool], typer.Option(help="Train the LLM planner in bfloat16 (default: where the CPU computes it natively).")] = None,
    seed: int = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a planner already in --out.")] = False,
) -> None:
    """Train planners for your graph from your question-answer pairs: mine plans, learn the graph's conventions,
    distill the LLM planner and train the edge scorer, validate both, write one folder with its card. Then
    `reasoner serve --kg KB --planner OUT` (or ask/batch) answers over the graph."""
    from agent.train import SCORER_DIR, TrainConfig
    from agent.train import train as run_train

    if (out / "planner.json").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a planner: pass --overwrite to replace it, or choose another --out")
    for path in questions:
        if not path.is_file():
            raise FileNotFoundError(f"file not found: {path}")
    config = TrainConfig(
        distill=DistillConfig(steps=steps, seed=seed, validation_share=validation_share, holdout_share=holdout_share,
                                        bfloat16=native_bfloat16() if bfloat16 is None else bfloat16),
        search=SearchConfig(epochs=epochs, seed=seed),
    )
    command = command_line()
    bars = progress_bar("", TextColumn("{task.description}"))

    @contextlib.contextmanager
    def stage(name: str, total: int | None) -> Iterator[Callable[[int], None]]:
        err.print(f"[bold]{name}[/]")
        task = bars.add_task(name, total=total)
        yield lambda n: bars.advance(task, n)
        bars.update(task, total=bars.tasks[task].completed or 1, completed=bars.tasks[task].completed or 1)

    def on_step(step: int, loss: float) -> None:
        if step % 25 == 0:
            bars.console.print(f"step {step}: loss {loss:.4f}", highlight=False)

    with bars:
        card = run_train(kg_path, questions, out, config, command=command, stage=stage, on_step=on_step,
                         log=lambda line: bars.console.print(line, highlight=False))
    err.print(f"wrote {out} (LLM planner) and {out / SCORER_DIR} (edge scorer) in {card.total_minutes} min; "
              f"peak memory {card.peak_rss_mb:,.0f} MB")
    err.print(f"validation, exact plan: LLM planner {card.planner.get('all')}; edge scorer {card.scorer.get('all')}")
    err.print(f"serve it: reasoner serve --kg {kg_path} --planner {out}")
