"""`reasoner distill`: train a small planner for one graph from plans mined out of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.progress import TextColumn

from agent.cli.common import command_line, err, progress_bar
from agent.training import DistillConfig, native_bfloat16

if TYPE_CHECKING:
    from kg.mining import MinedPlan
    from kg.store import KnowledgeGraph

defaults = DistillConfig()


# The options `reasoner distill kg` and `reasoner train-search` share.
GraphOpt = Annotated[str, typer.Option("--kg", help="The graph the planner is for: triple file, store folder or SPARQL URL.")]
TrainingOpt = Annotated[list[Path], typer.Option("--questions", help="Training questions with gold answers (repeatable).")]
PlannerOutOpt = Annotated[Path, typer.Option("--out", help="Folder for the trained planner and its card.")]
PlansOpt = Annotated[Optional[Path], typer.Option(help="Mined plans (JSONL) for these questions; mined now if absent.")]
HoldoutOpt = Annotated[float, typer.Option(help="Share of questions set aside (by id hash) for benchmarks, never trained on.")]
ValidationOpt = Annotated[float, typer.Option(help="Share of the rest this run holds out for its own validation.")]


def graph_and_plans(kg_path: str, questions: list[Path], plans: Path | None) -> tuple[KnowledgeGraph, list[MinedPlan]]:
    """The graph, and the mined plan of every question: read from `plans` (every question must have one) or mined now."""
    from kg.rdf import open_graph

    kg = open_graph(kg_path)
    return kg, mined_plans(kg, questions, plans)


def mined_plans(kg: KnowledgeGraph, questions: list[Path], plans: Path | None) -> list[MinedPlan]:
    """The mined plan of every question: read from `plans` (every question must have one) or mined now."""
    from kg.mining import mine_questions, read_mined_plans
    from kg.questions import read_questions

    items = [q for path in questions for q in read_questions(path)]
    if plans:
        by_id = {m.id: m for m in read_mined_plans(plans)}
        missing = [q.id for q in items if q.id not in by_id]
        if missing:
            raise ValueError(f"{plans} has no plan for {len(missing)} of the questions (first: {missing[0]}); omit --plans to mine them")
        return [by_id[q.id] for q in items]
    with progress_bar("mining") as progress:
        task = progress.add_task("mining", total=len(items))
        return mine_questions(kg, items, progress=lambda n: progress.advance(task, n))


def distill(
    kg_path: GraphOpt,
    questions: TrainingOpt,
    out: PlannerOutOpt,
    plans: PlansOpt = None,
    steps: int = defaults.steps,
    batch_size: int = defaults.batch_size,
    learning_rate: float = defaults.learning_rate,
    lora_rank: int = defaults.lora_rank,
    lora_layers: Annotated[Optional[int], typer.Option(help="Adapt only the top N layers (faster; default: all).")] = defaults.lora_layers,
    bfloat16: Annotated[Optional[bool], typer.Option(help="Autocast to bfloat16 (default: where the CPU computes it natively, AVX512-BF16 or AMX; elsewhere it is far slower).")] = None,
    seed: int = defaults.seed,
    holdout_share: HoldoutOpt = defaults.holdout_share,
    validation_share: ValidationOpt = defaults.validation_share,
) -> None:
    """Fine-tune the embedded model into a planner for this graph; write an adapter and a card."""
    from agent.distill import distill as run_distill

    kg, mined = graph_and_plans(kg_path, questions, plans)
    config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                           lora_layers=lora_layers, bfloat16=native_bfloat16() if bfloat16 is None else bfloat16, seed=seed, holdout_share=holdout_share, validation_share=validation_share)
    command = command_line()
    with progress_bar("training", TextColumn("loss {task.fields[loss]:.4f}")) as progress:
        task = progress.add_task("training", total=steps, loss=float("nan"))
        card = run_distill(kg, mined, out, config, sources=[str(p) for p in questions], command=command,
                           on_step=lambda step, loss: progress.update(task, completed=step, loss=loss),
                           log=lambda line: progress.console.print(line, highlight=False))
    err.print(f"wrote {out} in {card.train_seconds / 60:.1f} min of training; validation {card.validation.get('all')}")

