"""Assemble the agent for a graph: pick the KG tool's planner, start or reach the model server, load
what the checks and the router read, and register the tools.

`planner` is 'auto' / 'base' / a distilled folder (an LLM planner behind a model server), or
'embedding' / a scorer folder (the edge scorer's search: no model server at all).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agent.graph import Agent, AgentConfig
from agent.llm import LLMClient
from agent.llm.managed import ManagedLLM
from agent.llm.server import SERVED_NAME, ModelServer, ServerError, ServerStatus, check_reachable, model_server
from agent.llm.weights import merged_model_dir
from agent.settings import settings
from agent.train import SCORER_DIR
from kg.mining import read_mined_plans
from kg.search import CARD_FILE, find_scorer
from kg.store import KnowledgeGraph
from tools.induce.prompt import PROPOSER
from tools.induce.tool import InduceTool
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import PLANNERS, ExampleIndex, Planner, distilled_format, find_distilled
from tools.kg.search_planner import EmbeddingPlanner, choose_scorer
from tools.kg.tool import KGTool
from tools.logic.tool import LogicTool
from tools.logic.translate import TRANSLATOR
from tools.regress.prompt import PROPOSER as FORMULAS
from tools.regress.tool import RegressTool


@dataclass
class Backend:
    """The model servers a service's tools sample from, by tool: managed by this process (a `ModelServer`, or a
    `ManagedLLM` that starts its server on first use) or reached at a URL."""

    servers: dict[str, ModelServer | ManagedLLM | str] = field(default_factory=dict)

    def statuses(self) -> list[ServerStatus]:
        """Each server's state; one that should be up is asked whether it answers."""
        statuses = []
        for tool, server in self.servers.items():
            status = ServerStatus(name="remote", state="up", url=server) if isinstance(server, str) else server.status()
            status.tool = tool
            if status.state == "up":
                try:
                    check_reachable(status.url, timeout=3)
                except ServerError as e:
                    status.state, status.detail = "down", str(e)
            statuses.append(status)
        return statuses

    def add(self, tool: str, llm: object) -> None:
        """Register a tool's LLM: a managed one, or a client of a remote server (a tool with no LLM has none)."""
        if isinstance(llm, ManagedLLM):
            self.servers[tool] = llm
        elif isinstance(llm, LLMClient):
            self.servers[tool] = llm.base_url


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
) -> Iterator[tuple[Planner | EmbeddingPlanner, Backend]]:
    """A planner for `kg` and its backend, whose model server lives as long as the context (restarted
    if it dies, with `watch_server`); the embedding planner needs none."""
    scorer = choose_scorer(kg, planner)
    if scorer:
        yield EmbeddingPlanner(kg, scorer), Backend()
        return
    distilled = choose_distilled(kg, planner, model)
    index = ExampleIndex.load(examples) if examples and not distilled else None
    if distilled and not llm_url:
        model = str(merged_model_dir(distilled))
    config = settings()
    with model_server(llm_url, model, watch=watch_server) as (base_url, server):
        llm = LLMClient(base_url, llm_model if llm_url else SERVED_NAME, timeout=config.llm_timeout,
                        max_retries=config.llm_retries)
        yield (Planner(kg, llm, examples=index, samples=samples, compact=distilled_format(distilled) if distilled else None,
                       folder=distilled),
               Backend({"kg": server or base_url}))


def beside_scorer(kg: KnowledgeGraph, folder: Path | None) -> Path | None:
    """The edge scorer to serve beside an LLM planner: the one trained with it (`reasoner train` puts it in
    the planner's `search/` folder), else a shipped one for this graph."""
    if folder and (folder / SCORER_DIR / CARD_FILE).is_file():
        return folder / SCORER_DIR
    return find_scorer(kg, PLANNERS)


def kg_tool(planner: Planner | EmbeddingPlanner, examples: Path | None = None, fallback: EmbeddingPlanner | None = None) -> KGTool:
    """The KG tool over `planner` (and `fallback` for when its model server is down), with the answer kinds
    and question forms of its training data: from the trained planner's folder, else learned from the
    example plans."""
    kinds = forms = None
    if planner.folder:
        kinds, forms = AnswerKinds.load(planner.folder), QuestionForms.load(planner.folder)
    if examples and (kinds is None or forms is None):
        mined = read_mined_plans(examples)
        kinds = kinds or AnswerKinds.learn(mined, planner.schema)
        forms = forms or QuestionForms.learn(m.masked_question for m in mined if m.plan)
    return KGTool(planner, kinds, forms, fallback=fallback)


TRANSLATOR_NAME = "translator"  # the served model name of the logic translator


def managed(folder: Path, name: str, what: str, *, watch: bool = False) -> ManagedLLM:
    """The adapter in `folder` merged into the base model and served as `name` by a model server of its own, started
    on first use (and restarted in the background whenever it dies, with `watch`)."""
    config = settings()
    return ManagedLLM(lambda: ModelServer(str(merged_model_dir(folder)), served_name=name, watch=watch), name, what,
                      timeout=config.llm_timeout, max_retries=config.llm_retries)


@contextlib.contextmanager
def open_logic(*, translator: Path | None = None, llm_url: str | None = None, llm_model: str = SERVED_NAME,
               eager: bool = False, watch: bool = False, **options) -> Iterator[LogicTool]:
    """The logic tool: on the distilled translator (shipped, or `translator`) merged and served by its own
    model server, started on first use (`eager`: at once, in the background); or on the model at `llm_url`."""
    config = settings()
    if llm_url:
        yield LogicTool(LLMClient(llm_url, llm_model, timeout=config.llm_timeout, max_retries=config.llm_retries),
                        model=llm_model, **options)
        return
    folder = translator or TRANSLATOR
    if not (folder / "translator.json").is_file():
        raise FileNotFoundError(f"{folder} is not a distilled translator (no translator.json); train one with `reasoner distill-logic`")
    llm = managed(folder, TRANSLATOR_NAME, "the logic translator", watch=watch)
    if eager:
        llm.warm()
    try:
        yield LogicTool(llm, model=TRANSLATOR_NAME, **options)
    finally:
        llm.close()


@contextlib.contextmanager
def _proposing(make, *, folder: Path, explicit: bool, served_name: str, what: str, llm_url: str | None, llm_model: str,
               eager: bool, watch: bool) -> Iterator:
    """`make(llm, model)`: a tool whose LLM proposer is the model at `llm_url`, or the distilled adapter in `folder`
    merged and served by its own model server, started on first use (`eager`: at once); without either (and
    no `explicit` folder asked for), `make(None, None)`: the tool's own non-LLM proposer alone."""
    config = settings()
    if llm_url:
        yield make(LLMClient(llm_url, llm_model, timeout=config.llm_timeout, max_retries=config.llm_retries), llm_model)
        return
    if not (folder / "proposer.json").is_file():
        if explicit:
            raise FileNotFoundError(f"{folder} is not a distilled {what} (no proposer.json)")
        yield make(None, None)
        return
    llm = managed(folder, served_name, f"the {what}", watch=watch)
    if eager:
        llm.warm()
    try:
        yield make(llm, served_name)
    finally:
        llm.close()


PROPOSER_NAME = "proposer"  # the served model name of the induction tool's program proposer
FORMULAS_NAME = "formulas"  # the served model name of the regression tool's formula proposer


@contextlib.contextmanager
def open_induce(*, proposer: Path | None = None, llm_url: str | None = None, llm_model: str = SERVED_NAME,
                eager: bool = False, watch: bool = False, **options) -> Iterator[InduceTool]:
    """The induction tool. Its LLM proposer: the model at `llm_url`, or the distilled proposer (shipped, or
    `proposer`) merged and served by its own model server, started on first use. Without either, the
    enumerator proposes alone."""
    with _proposing(lambda llm, model: InduceTool(llm, model=model, **options), folder=proposer or PROPOSER,
                    explicit=proposer is not None, served_name=PROPOSER_NAME, what="program proposer", llm_url=llm_url,
                    llm_model=llm_model, eager=eager, watch=watch) as tool:
        yield tool


@contextlib.contextmanager
def open_regress(*, proposer: Path | None = None, llm_url: str | None = None, llm_model: str = SERVED_NAME,
                 eager: bool = False, watch: bool = False, **options) -> Iterator[RegressTool]:
    """The regression tool. Its LLM proposer: the model at `llm_url`, or the distilled formula proposer (shipped,
    or `proposer`) merged and served by its own model server, started on first use. Without either, the
    generator proposes alone."""
    with _proposing(lambda llm, model: RegressTool(llm, model=model, **options), folder=proposer or FORMULAS,
                    explicit=proposer is not None, served_name=FORMULAS_NAME, what="formula proposer", llm_url=llm_url,
                    llm_model=llm_model, eager=eager, watch=watch) as tool:
        yield tool


@contextlib.contextmanager
def open_agent(kg_path: Path | KnowledgeGraph, *, config: AgentConfig | None = None, examples: Path | None = None,
               **planner_options) -> Iterator[Agent]:
    """An agent over `kg_path` (a triple file, or a graph already loaded to share between agents)."""
    kg = kg_path if isinstance(kg_path, KnowledgeGraph) else KnowledgeGraph.load(kg_path)
    with (open_planner(kg, examples=examples, **planner_options) as (planner, _), open_logic(**_remote(planner_options)) as logic,
          open_induce(**_remote(planner_options)) as induce, open_regress(**_remote(planner_options)) as regress):
        yield Agent({"kg": kg_tool(planner, examples), "logic": logic, "induce": induce, "regress": regress}, config)


def _remote(planner_options: dict) -> dict:
    """The logic tool's share of the planner's options: the remote model server, if one is named."""
    url = planner_options.get("llm_url")
    return {"llm_url": url, "llm_model": planner_options.get("llm_model", SERVED_NAME)} if url else {}


@contextlib.contextmanager
def open_service(kg: KnowledgeGraph, *, planner: str = "auto", examples: Path | None = None, **planner_options) -> Iterator[Service]:
    """The agents to serve: one with the chosen planner, and one with the embedding planner beside it
    when an LLM planner is chosen and a scorer was trained with it or is shipped for the graph. The embedding planner then also
    stands in for the LLM planner while its model server is down (degraded answers, not errors)."""
    with contextlib.ExitStack() as stack:
        first, backend = stack.enter_context(open_planner(kg, planner=planner, examples=examples, watch_server=True,
                                                          **planner_options))
        search = None
        beside = beside_scorer(kg, first.folder) if first.name != "embedding" else None
        if beside:
            search, _ = stack.enter_context(open_planner(kg, planner=str(beside)))
        remote = _remote(planner_options)
        logic = stack.enter_context(open_logic(eager=True, watch=True, **remote))
        induce = stack.enter_context(open_induce(watch=True, **remote))
        regress = stack.enter_context(open_regress(watch=True, **remote))
        others = {"logic": logic, "induce": induce, "regress": regress}
        for name, tool in others.items():
            backend.add(name, tool.llm)
        service = Service({first.name: Agent({"kg": kg_tool(first, examples, fallback=search), **others})}, backend)
        if search:
            service.agents["embedding"] = Agent({"kg": kg_tool(search), **others})
        yield service
