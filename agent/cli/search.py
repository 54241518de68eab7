"""`reasoner train-search`: train the edge scorer that plans by embedding-guided search, no LLM."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TextColumn

from agent.cli.common import command_line, err, progress_bar
from agent.cli.distill import GraphOpt, HoldoutOpt, PlannerOutOpt, PlansOpt, TrainingOpt, ValidationOpt, graph_and_plans
from agent.settings import settings
from kg.search import SearchConfig

defaults = SearchConfig()


def train_search(
    kg_path: GraphOpt,
    questions: TrainingOpt,
    out: PlannerOutOpt,
    plans: PlansOpt = None,
    epochs: int = defaults.epochs,
    batch_size: int = defaults.batch_size,
    learning_rate: float = defaults.learning_rate,
    beam: Annotated[int, typer.Option(help="Beam width of the search.")] = defaults.beam,
    relation_embeddings: Annotated[bool, typer.Option(help="Give the scorer TransE relation vectors learned from the graph.")] = defaults.relation_embeddings,
    entity_embeddings: Annotated[bool, typer.Option(help="Give the scorer the topic's TransE vector (ships every entity's vector).")] = defaults.entity_embeddings,
    frontier_degree: Annotated[bool, typer.Option(help="Give the scorer each step's edges per frontier entity.")] = defaults.frontier_degree,
    seed: int = defaults.seed,
    holdout_share: HoldoutOpt = defaults.holdout_share,
    validation_share: ValidationOpt = defaults.validation_share,
) -> None:
    """Train an edge scorer for this graph from plans mined out of it; write its weights and a card."""
    from kg.search import TextEncoder
    from tools.kg.search_planner import train_search_planner

    kg, mined = graph_and_plans(kg_path, questions, plans)
    config = SearchConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, beam=beam,
                          relation_embeddings=relation_embeddings, entity_embeddings=entity_embeddings,
                          frontier_degree=frontier_degree, seed=seed, holdout_share=holdout_share,
                          validation_share=validation_share)
    command = command_line()
    encoder = TextEncoder()
    with progress_bar("training", TextColumn("loss {task.fields[loss]:.4f}")) as progress:
        task = progress.add_task("training", total=None, loss=float("nan"))
        card = train_search_planner(
            kg, mined, out, config, encoder=encoder, sources=[str(p) for p in questions], command=command,
            cache_dir=settings().cache / "embeddings",
            on_step=lambda step, total, loss: progress.update(task, completed=step, total=total, loss=loss),
            log=lambda line: progress.console.print(line, highlight=False))
    err.print(f"wrote {out} ({card.parameters:,} parameters) in {card.total_seconds / 60:.1f} min; "
              f"validation {card.validation.get('all')}")
