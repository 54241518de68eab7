"""`reasoner plan`: ask the model for ranked relation plans for one question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from agent.server import SERVED_NAME
from agent.service import choose_distilled, open_planner
from kg.demo import DEMO_KB
from kg.store import KnowledgeGraph

console = Console(soft_wrap=True)

ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Hugging Face name or local directory (default: the embedded SmolLM2-135M-Instruct).")]
UrlOpt = Annotated[Optional[str], typer.Option("--llm-url", help="Use a running OpenAI-compatible server (e.g. http://host:8000/v1) instead of starting one.")]


def plan(
    question: Annotated[str, typer.Argument(help="The question, topic entity in [brackets] or plain.")],
    kg_path: Annotated[Path, typer.Option("--kg", help="Triple file (default: the demo graph).")] = DEMO_KB,
    examples: Annotated[Optional[Path], typer.Option(help="Mined plans (JSONL) to retrieve similar questions from (base planner).")] = None,
    planner: Annotated[str, typer.Option(help="'auto' (the shipped distilled planner for this graph if there is one), 'base', or a distilled planner folder.")] = "auto",
    k: Annotated[int, typer.Option(help="Plan samples to draw and rank.")] = 4,
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: Annotated[str, typer.Option(help="Model name to request from --llm-url.")] = SERVED_NAME,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ranked relation plans for a question, and the raw model output."""
    kg = KnowledgeGraph.load(kg_path)
    distilled = choose_distilled(kg, planner, model)
    with open_planner(kg, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples,
                      samples=k) as planner_:
        result = planner_.plan(question)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    if result.topic is None:
        console.print("no entity of the graph found in the question")
        raise typer.Exit(1)
    kind = f"distilled planner {distilled}" if distilled else "base planner"
    console.print(f"topic: [bold]{result.topic}[/]   question: {result.masked_question}   [dim]({kind})[/]", highlight=False)
    for rank, c in enumerate(result.candidates, 1):
        console.print(f"{rank}. {' -> '.join(c.plan)}   [dim]votes {c.votes}/{k}, logprob {c.logprob:.2f}[/]", highlight=False)
    console.print("[dim]raw output:[/]")
    for text in result.raw:
        console.print(f"  {text}", highlight=False, markup=False)

