"""Assemble the agent for a graph: pick the planner, start or reach the model server, load the checks.

`planner` is 'auto' / 'base' / a distilled folder (an LLM planner behind a model server), or
'embedding' / a scorer folder (the edge scorer's search: no model server at all).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from openai import OpenAI

from agent.checks import AnswerKinds
from agent.graph import Agent, AgentConfig
from agent.model import merged_model_dir
from agent.planner import ExampleIndex, Planner, distilled_format, find_distilled
from agent.search_planner import EmbeddingPlanner, choose_scorer
from agent.server import SERVED_NAME, model_server
from kg.mining import MinedPlan
from kg.store import KnowledgeGraph


def choose_distilled(kg: KnowledgeGraph, planner: str, model: str | None) -> Path | None:
    """The distilled planner folder to use, or None for the base model prompted with examples."""
    if planner == "base" or (planner == "auto" and model):
        return None
    if planner == "auto":
        return find_distilled(kg)
    folder = Path(planner)
    if not (folder / "planner.json").is_file():
        raise FileNotFoundError(f"{folder} is not a distilled planner (no planner.json); use 'auto', 'base' or such a folder")
    return folder


@contextlib.contextmanager
def open_planner(
    kg: KnowledgeGraph,
    *,
    planner: str = "auto",
    model: str | None = None,
    llm_url: str | None = None,
    llm_model: str = SERVED_NAME,
    examples: Path | None = None,
    samples: int = 1,
    watch_server: bool = False,
) -> Iterator[Planner | EmbeddingPlanner]:
    """A planner for `kg` whose model server lives as long as the context, restarted if it dies with
    `watch_server` (the embedding planner needs none)."""
    scorer = choose_scorer(kg, planner)
    if scorer:
        yield EmbeddingPlanner(kg, scorer)
        return
    distilled = choose_distilled(kg, planner, model)
    index = ExampleIndex.load(examples) if examples and not distilled else None
    if distilled and not llm_url:
        model = str(merged_model_dir(distilled))
    with model_server(llm_url, model, watch=watch_server) as (base_url, server):
        client = OpenAI(base_url=base_url, api_key="unused", max_retries=1, timeout=120)
        yield Planner(kg, client, model=llm_model if llm_url else SERVED_NAME, examples=index, samples=samples,
                      compact=distilled_format(distilled) if distilled else None, folder=distilled, server=server)


def answer_kinds(planner: Planner | EmbeddingPlanner, trained: Path | None, examples: Path | None) -> AnswerKinds | None:
    """What each question cue asks for, from the trained planner's folder or the example plans."""
    if trained and (trained / "answer_kinds.json").is_file():
        return AnswerKinds.model_validate_json((trained / "answer_kinds.json").read_text())
    if examples:
        mined = [MinedPlan.model_validate_json(line) for line in examples.read_text().splitlines() if line.strip()]
        return AnswerKinds.learn(mined, planner.schema)
    return None


@contextlib.contextmanager
def open_agent(
    kg_path: Path | KnowledgeGraph,
    *,
    planner: str = "auto",
    model: str | None = None,
    llm_url: str | None = None,
    llm_model: str = SERVED_NAME,
    examples: Path | None = None,
    config: AgentConfig | None = None,
    watch_server: bool = False,
) -> Iterator[Agent]:
    """An agent over `kg_path` (a triple file, or a graph already loaded to share between agents)."""
    kg = kg_path if isinstance(kg_path, KnowledgeGraph) else KnowledgeGraph.load(kg_path)
    with open_planner(kg, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples,
                      watch_server=watch_server) as p:
        yield Agent(p, answer_kinds(p, p.folder, examples), config)
