"""Shared fixtures: a small movie graph on disk, the MetaQA files when present, the real model server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import KnowledgeGraph

METAQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "metaqa"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; `make test` installs it
# Headless, and nothing that reaches for the network on its own (this machine's network is closed).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Two directors, one of whom also acts; a film and its sequel share cast and year kinds.
SMALL_TRIPLES = """\
Heat|directed_by|Michael Mann
Heat|starred_actors|Al Pacino
Heat|starred_actors|Robert De Niro
Heat|release_year|1995
Heat|has_genre|Crime
Collateral|directed_by|Michael Mann
Collateral|starred_actors|Tom Cruise
Collateral|release_year|2004
Collateral|has_genre|Crime
The Irishman|directed_by|Martin Scorsese
The Irishman|starred_actors|Al Pacino
The Irishman|starred_actors|Robert De Niro
The Irishman|release_year|2019
Taxi Driver|directed_by|Martin Scorsese
Taxi Driver|starred_actors|Robert De Niro
Taxi Driver|starred_actors|Martin Scorsese
Taxi Driver|release_year|1976
Taxi Driver|has_genre|Crime
Amélie|directed_by|Jean-Pierre Jeunet
Amélie|release_year|2001
Amélie|in_language|French
"""


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    path = tmp_path / "movies.txt"
    path.write_text(SMALL_TRIPLES, encoding="utf-8")
    return path


@pytest.fixture
def small_kg(small_kb: Path) -> KnowledgeGraph:
    return KnowledgeGraph.load(small_kb)


@pytest.fixture(scope="session")
def metaqa() -> Path:
    if not (METAQA / "kb.txt").is_file():
        pytest.skip(f"MetaQA files not found at {METAQA}")
    return METAQA


@pytest.fixture(scope="session")
def metaqa_kg(metaqa: Path) -> KnowledgeGraph:
    return KnowledgeGraph.load(metaqa / "kb.txt")


@pytest.fixture(scope="session")
def backend(distilled):
    """The model servers laid out as `reasoner serve` lays them out, each started on first use and once per
    session: the shipped KG planner merged into a server of its own, and one server of the embedded model
    (named "base") carrying the logic, induce and regress adapters as LoRA modules under those names."""
    from agent.assemble import open_backend
    from tools.registry import registered

    with open_backend(merged={"kg"}) as backend:
        backend.llm("kg", distilled, "the KG planner")
        for spec in registered().values():
            if spec.adapter:
                backend.llm(spec.name, spec.adapter, spec.what)
        yield backend
        processes = [s.process for s in set(backend.servers.values()) if s.process is not None]
    assert all(p.poll() is not None for p in processes), "a model server outlived the test session"


@pytest.fixture(scope="session")
def model_server(backend):
    """The server of the embedded model with the logic, induce and regress adapters."""
    return backend.start("logic")


@pytest.fixture(scope="session")
def llm(model_server):
    """The one LLM client, on the embedded model."""
    from agent.llm.client import LLMClient
    from agent.llm.server import SERVED_NAME

    return LLMClient(model_server.base_url, SERVED_NAME)


@pytest.fixture(scope="session")
def demo_kg() -> KnowledgeGraph:
    from kg.demo import DEMO_KB

    return KnowledgeGraph.load(DEMO_KB)


@pytest.fixture(scope="session")
def distilled(demo_kg):
    from tools.kg.llm_planner import find_distilled

    folder = find_distilled(demo_kg)
    assert folder is not None, "the shipped MetaQA planner should match the demo graph's relations"
    return folder


@pytest.fixture(scope="session")
def distilled_server(backend):
    """The server of the shipped distilled planner merged into the embedded model (served as "kg")."""
    return backend.start("kg")


@pytest.fixture(scope="session")
def logic_tool(model_server):
    """The logic tool on the shipped translator (served as a LoRA adapter), three translations per problem."""
    from agent.llm.client import LLMClient
    from tools.logic.tool import LogicTool

    return LogicTool(LLMClient(model_server.base_url, "logic"), samples=3)


@pytest.fixture(scope="session")
def induce_tool(model_server):
    """The induction tool on the shipped proposer (served as a LoRA adapter), with the enumerator beside it."""
    from agent.llm.client import LLMClient
    from tools.induce.tool import InduceTool

    return InduceTool(LLMClient(model_server.base_url, "induce"), samples=3)


@pytest.fixture(scope="session")
def regress_tool(model_server):
    """The regression tool on the shipped formula proposer (served as a LoRA adapter), with the generator beside it."""
    from agent.llm.client import LLMClient
    from tools.regress.tool import RegressTool

    return RegressTool(LLMClient(model_server.base_url, "regress"), samples=4, fit_seconds=10)


@pytest.fixture(scope="session")
def agent(demo_kg, distilled, distilled_server, logic_tool, induce_tool, regress_tool):
    from agent.assemble import kg_tool
    from agent.graph import Agent
    from agent.llm.client import LLMClient
    from tools.kg.llm_planner import LLMPlanner, distilled_format

    llm = LLMClient(distilled_server.base_url, "kg")
    planner = LLMPlanner(demo_kg, llm, samples=1, compact=distilled_format(distilled), folder=distilled)
    return Agent({"kg": kg_tool(planner), "logic": logic_tool, "induce": induce_tool, "regress": regress_tool})


@pytest.fixture(scope="session")
def search_agent(demo_kg):
    """The agent over the demo graph with the shipped edge scorer: no model server."""
    from agent.assemble import kg_tool
    from agent.graph import Agent
    from kg.search import find_scorer
    from tools.kg.llm_planner import PLANNERS
    from tools.kg.search_planner import EmbeddingPlanner

    return Agent({"kg": kg_tool(EmbeddingPlanner(demo_kg, find_scorer(demo_kg, PLANNERS)))})


@pytest.fixture(scope="session")
def service(agent, search_agent, backend, tmp_path_factory):
    """The HTTP app on a loopback port, over both planners' agents and a fresh trace file, once per session."""
    import threading
    import time

    import uvicorn

    from agent.llm.server import free_port
    from agent.traces import TraceStore
    from serve import create_app

    store = TraceStore(tmp_path_factory.mktemp("serve") / "traces.sqlite")
    port = free_port()
    app = create_app({"llm": agent, "embedding": search_agent}, store, backend=backend)
    server = uvicorn.Server(uvicorn.Config(app,
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A page of real headless Chromium (Debian's), once per test module."""
    assert CHROMIUM.exists(), "Debian's chromium is not installed: `make test` installs it with apt-get"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS,
                                    env={"HOME": str(tmp_path_factory.mktemp("chromium-home"))})
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


def pytest_collection_modifyitems(items):
    """`reasoner serve` (test_serve.py) starts two model servers, about 5 GB each: its tests run first, before
    the session's own two are up, so they need not share the memory."""
    items.sort(key=lambda item: item.path.name != "test_serve.py")
