"""Shared fixtures: a small movie graph on disk, the MetaQA files when present, the real model server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import KnowledgeGraph

METAQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "metaqa"

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
def model_server():
    """The real vLLM server with the embedded model, started once for the whole session."""
    from agent.server import ModelServer

    server = ModelServer().start()
    yield server
    process = server.process
    server.stop()
    assert process.poll() is not None, "the model server outlived the test session"


@pytest.fixture(scope="session")
def llm(model_server):
    from openai import OpenAI

    return OpenAI(base_url=model_server.base_url, api_key="unused")


@pytest.fixture(scope="session")
def demo_kg() -> KnowledgeGraph:
    from kg.demo import DEMO_KB

    return KnowledgeGraph.load(DEMO_KB)


@pytest.fixture(scope="session")
def distilled(demo_kg):
    from agent.planner import find_distilled

    folder = find_distilled(demo_kg)
    assert folder is not None, "the shipped MetaQA planner should match the demo graph's relations"
    return folder


@pytest.fixture(scope="session")
def distilled_server(distilled):
    """The real vLLM server with the shipped distilled planner merged in, once per session."""
    from agent.model import merged_model_dir
    from agent.server import ModelServer

    with ModelServer(str(merged_model_dir(distilled))) as server:
        yield server


@pytest.fixture(scope="session")
def agent(demo_kg, distilled, distilled_server):
    from openai import OpenAI

    from agent.checks import AnswerKinds
    from agent.graph import Agent
    from agent.planner import Planner, distilled_format
    from agent.server import SERVED_NAME

    client = OpenAI(base_url=distilled_server.base_url, api_key="unused")
    planner = Planner(demo_kg, client, model=SERVED_NAME, samples=1, compact=distilled_format(distilled))
    kinds = AnswerKinds.model_validate_json((distilled / "answer_kinds.json").read_text())
    return Agent(planner, kinds)


@pytest.fixture(scope="session")
def search_agent(demo_kg):
    """The agent over the demo graph with the shipped edge scorer: no model server."""
    from agent.graph import Agent
    from agent.search_planner import EmbeddingPlanner, find_search_scorer
    from agent.service import answer_kinds

    scorer = find_search_scorer(demo_kg)
    planner = EmbeddingPlanner(demo_kg, scorer)
    return Agent(planner, answer_kinds(planner, scorer, None))


@pytest.fixture(scope="session")
def service(agent, search_agent, distilled_server, tmp_path_factory):
    """The HTTP app on a loopback port, over both planners' agents and a fresh trace file, once per session."""
    import threading
    import time

    import uvicorn

    from agent.server import free_port
    from agent.traces import TraceStore
    from serve import create_app

    store = TraceStore(tmp_path_factory.mktemp("serve") / "traces.sqlite")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app({"llm": agent, "embedding": search_agent}, store, llm_url=distilled_server.base_url),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
