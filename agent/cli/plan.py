"""`reasoner plan`: ask the model for ranked relation plans for one question."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.common import ExamplesOpt, KgOpt, LlmModelOpt, ModelOpt, PlannerOpt, UrlOpt, console
from kg.demo import DEMO_KB


def plan(
    question: Annotated[str, typer.Argument(help="The question, topic entity in [brackets] or plain.")],
    kg_path: KgOpt = str(DEMO_KB),
    examples: ExamplesOpt = None,
    planner: PlannerOpt = "auto",
    k: Annotated[int, typer.Option(help="Plan samples to draw and rank.")] = 4,
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ranked relation plans for a question, and the raw model output."""
    from agent.assemble import kg_planner, open_backend
    from kg.paths import plan_text
    from kg.rdf import open_graph

    kg = open_graph(kg_path)
    with open_backend(llm_url, llm_model) as backend:
        planner_ = kg_planner(kg, backend, planner=planner, model=model, examples=examples, samples=k)
        result = planner_.plan(question)
    searched = planner_.name == "embedding"
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    if result.topic is None:
        console.print("no entity of the graph found in the question")
        raise typer.Exit(1)
    kind = f"embedding search {planner_.folder}" if searched else f"distilled planner {planner_.folder}" if planner_.folder else "base planner"
    console.print(f"topic: [bold]{result.topic}[/]   question: {result.masked_question}   [dim]({kind})[/]", highlight=False)
    for rank, c in enumerate(result.candidates, 1):
        votes = "" if searched else f"votes {c.votes}/{k}, "  # the search scores plans; it does not sample them
        console.print(f"{rank}. {plan_text(c.plan)}   [dim]{votes}logprob {c.logprob:.2f}[/]", highlight=False)
    console.print("[dim]raw output:[/]")
    for text in result.raw:
        console.print(f"  {text}", highlight=False, markup=False)

