"""`reasoner train-search`: train the edge scorer that plans by embedding-guided search, no LLM."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import TextColumn

from agent.cli.common import err, progress_bar
from agent.cli.distill import mined_plans
from agent.settings import settings
from kg.search import SearchConfig, TextEncoder
from kg.store import KnowledgeGraph
from tools.kg.search_planner import train_search_planner

defaults = SearchConfig()


def train_search(
    kg_path: Annotated[Path, typer.Option("--kg", help="Triple file the scorer is for.")],
    questions: Annotated[list[Path], typer.Option("--questions", help="Training questions with gold answers (repeatable).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the scorer and its card.")],
    plans: Annotated[Optional[Path], typer.Option(help="Mined plans (JSONL) for these questions; mined now if absent.")] = None,
    epochs: int = defaults.epochs,
    batch_size: int = defaults.batch_size,
    learning_rate: float = defaults.learning_rate,
    beam: Annotated[int, typer.Option(help="Beam width of the search.")] = defaults.beam,
    relation_embeddings: Annotated[bool, typer.Option(help="Give the scorer TransE relation vectors learned from the graph.")] = defaults.relation_embeddings,
    entity_embeddings: Annotated[bool, typer.Option(help="Give the scorer the topic's TransE vector (ships every entity's vector).")] = defaults.entity_embeddings,
    frontier_degree: Annotated[bool, typer.Option(help="Give the scorer each step's edges per frontier entity.")] = defaults.frontier_degree,
    seed: int = defaults.seed,
    holdout_share: Annotated[float, typer.Option(help="Share of questions set aside (by id hash) for benchmarks, never trained on.")] = defaults.holdout_share,
    validation_share: Annotated[float, typer.Option(help="Share of the rest this run holds out for its own validation.")] = defaults.validation_share,
) -> None:
    """Train an edge scorer for this graph from plans mined out of it; write its weights and a card."""
    kg = KnowledgeGraph.load(kg_path)
    mined = mined_plans(kg, questions, plans)
    config = SearchConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, beam=beam,
                          relation_embeddings=relation_embeddings, entity_embeddings=entity_embeddings,
                          frontier_degree=frontier_degree, seed=seed, holdout_share=holdout_share,
                          validation_share=validation_share)
    command = "reasoner " + shlex.join(sys.argv[1:])
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
