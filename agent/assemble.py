"""Assemble the agent for a graph: pick the KG tool's planner, build every registered tool on one backend (the
model servers, started on first use, or a server at a URL), and load what the checks and the router read.

`planner` is 'auto' / 'base' / a distilled folder (an LLM planner behind a model server), or
'embedding' / a scorer folder (the edge scorer's search: no model server at all).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agent.graph import Agent, AgentConfig
from agent.llm.backend import Backend
from agent.llm.server import check_reachable
from agent.train import SCORER_DIR
from kg.mining import read_mined_plans
from kg.rdf import open_graph
from kg.rules import RULES_FILE, read_rules
from kg.search import CARD_FILE, find_scorer
from kg.store import KnowledgeGraph
from tools.base import Tool
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import PLANNERS, ExampleIndex, LLMPlanner, distilled_format, find_distilled
from tools.kg.search_planner import EmbeddingPlanner, choose_scorer
from tools.kg.tool import KGTool
from tools.registry import Builder, registered, spec


@dataclass
class Service:
    """The agents a service answers with, one per KG planner (the first is the default), and their backend."""

    agents: dict[str, Agent] = field(default_factory=dict)
    backend: Backend = field(default_factory=Backend)


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


def kg_planner(kg: KnowledgeGraph, backend: Backend, *, planner: str = "auto", model: str | None = None,
               examples: Path | None = None, samples: int = 1, wait: bool = True) -> LLMPlanner | EmbeddingPlanner:
    """A planner for `kg`: the edge scorer's search (no LLM), or an LLM planner sampling from `backend` (a
    distilled adapter, the base model prompted with `examples`, or `model`). `wait=False`: while its model
    server restarts, it fails at once (the KG tool's fallback planner answers)."""
    scorer = choose_scorer(kg, planner)
    if scorer:
        return EmbeddingPlanner(kg, scorer)
    if backend.llm_url:
        check_reachable(backend.llm_url)  # a wrong URL is said at once, not at the first question
    distilled = choose_distilled(kg, planner, model)
    index = ExampleIndex.load(examples) if examples and not distilled else None
    llm = backend.llm("kg", distilled, "the KG planner", model=None if distilled else model, wait=wait)
    return LLMPlanner(kg, llm, examples=index, samples=samples, compact=distilled_format(distilled) if distilled else None,
                      folder=distilled)


@contextlib.contextmanager
def open_backend(llm_url: str | None = None, llm_model: str | None = None, *, watch: bool = False,
                 merged: set[str] | None = None) -> Iterator[Backend]:
    """The tools' LLMs for the context's lifetime: on model servers this process starts on first use (and
    stops at the end), or on the server at `llm_url` (checked by the first tool that needs it at once)."""
    backend = Backend(llm_url, llm_model, merged=merged, watch=watch)
    try:
        yield backend
    finally:
        backend.close()


def beside_scorer(kg: KnowledgeGraph, folder: Path | None) -> Path | None:
    """The edge scorer to serve beside an LLM planner: the one trained with it (`reasoner train` puts it in
    the planner's `search/` folder), else a shipped one for this graph."""
    if folder and (folder / SCORER_DIR / CARD_FILE).is_file():
        return folder / SCORER_DIR
    return find_scorer(kg, PLANNERS)


def kg_tool(planner: LLMPlanner | EmbeddingPlanner, examples: Path | None = None, fallback: EmbeddingPlanner | None = None) -> KGTool:
    """The KG tool over `planner` (and `fallback` for when its model server is down), with the answer kinds
    and question forms of its training data: from the trained planner's folder, else learned from the
    example plans; and the rules mined from its graph, if the folder has them."""
    kinds = forms = None
    if planner.folder:
        kinds, forms = AnswerKinds.load(planner.folder), QuestionForms.load(planner.folder)
    if examples and (kinds is None or forms is None):
        mined = read_mined_plans(examples)
        kinds = kinds or AnswerKinds.learn(mined, planner.schema)
        forms = forms or QuestionForms.learn(m.masked_question for m in mined if m.plan)
    rules = planner.folder / RULES_FILE if planner.folder else None
    return KGTool(planner, kinds, forms, fallback=fallback, rules=read_rules(rules) if rules and rules.is_file() else None)


def build_tool(backend: Backend, name: str, *, adapter: Path | None = None, **options) -> Tool:
    """A registered tool other than the KG's (tools/registry.py), on `backend`: its LLM is its adapter (the shipped
    one, or `adapter`), served on first use, or the remote model; `options` are the tool's own."""
    return Builder(spec(name), backend, adapter, options).build()


def other_tools(backend: Backend, options: dict[str, dict] | None = None) -> dict[str, Tool]:
    """Every registered tool but the KG's, with its `options` (by tool name; default: none)."""
    options = options or {}
    tools = {name: s for name, s in registered().items() if s.build is not None}
    if unknown := sorted(set(options) - set(tools)):
        raise ValueError(f"no tool named {', '.join(unknown)} takes options (tools: {', '.join(tools)})")
    return {name: build_tool(backend, name, **options.get(name, {})) for name in tools}


@contextlib.contextmanager
def open_agent(kg_path: str | Path | KnowledgeGraph, *, config: AgentConfig | None = None, examples: Path | None = None,
               llm_url: str | None = None, llm_model: str | None = None, **planner_options) -> Iterator[Agent]:
    """An agent over `kg_path` (a triple file, store folder or SPARQL URL; or a graph already opened, to share)."""
    kg = kg_path if isinstance(kg_path, KnowledgeGraph) else open_graph(kg_path)
    with open_backend(llm_url, llm_model) as backend:
        planner = kg_planner(kg, backend, examples=examples, **planner_options)
        yield Agent({"kg": kg_tool(planner, examples), **other_tools(backend)}, config)


@contextlib.contextmanager
def open_service(kg: KnowledgeGraph, *, planner: str = "auto", examples: Path | None = None, llm_url: str | None = None,
                 llm_model: str | None = None, merged: set[str] | None = None, tool_options: dict[str, dict] | None = None,
                 **planner_options) -> Iterator[Service]:
    """The agents to serve: one with the chosen planner, and one with the embedding planner beside it
    when an LLM planner is chosen and a scorer was trained with it or is shipped for the graph. The embedding planner then also
    stands in for the LLM planner while its model server is down (degraded answers, not errors). `tool_options`:
    the other tools' own options, by tool name (e.g. {"logic": {"samples": 3}}).

    The KG planner's model server is started before this returns, and the logic translator's in the background:
    by default one server that also carries the induce and regress adapters (with `merged` naming them, theirs
    start on their first request). Each is restarted whenever it dies."""
    with open_backend(llm_url, llm_model, watch=True, merged=merged) as backend:
        first = kg_planner(kg, backend, planner=planner, examples=examples, wait=False, **planner_options)
        beside = beside_scorer(kg, first.folder) if first.name != "embedding" else None
        search = kg_planner(kg, backend, planner=str(beside)) if beside else None
        others = other_tools(backend, tool_options)
        backend.start("kg")
        backend.warm("logic")
        service = Service({first.name: Agent({"kg": kg_tool(first, examples, fallback=search), **others})}, backend)
        if search:
            service.agents["embedding"] = Agent({"kg": kg_tool(search), **others})
        yield service
