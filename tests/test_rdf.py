"""The graph in an RDF store: `reasoner kg load` builds an Oxigraph folder, and the folder (embedded) and a real
SPARQL server over it (Oxigraph's) answer every plan, link every name and feed every job as the in-memory graph does."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kg.demo import DEMO_KB
from kg.linking import EntityLinker
from kg.mining import mine_questions
from kg.paths import AND, execute_plan
from kg.questions import Question
from kg.rdf import StoreError, load_store, open_endpoint, open_graph, open_store, sparql_server
from kg.schema import Schema
from kg.store import KnowledgeGraph

BIN = Path(sys.executable).parent
REASONER = str(BIN / "reasoner")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    """The demo graph stored as a user stores one."""
    store = tmp_path_factory.mktemp("rdf") / "demo-store"
    run = subprocess.run([REASONER, "kg", "load", str(DEMO_KB), "--store", str(store)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "stored" in run.stderr and "triples/s" in run.stderr
    return store


@pytest.fixture(scope="module")
def sparql_url(demo_store):
    """Oxigraph's SPARQL server, read-only over the store's database."""
    with sparql_server(demo_store) as url:
        yield url


@pytest.fixture(scope="module")
def graphs(demo_store, sparql_url, tmp_path_factory) -> dict[str, KnowledgeGraph]:
    return {"memory": KnowledgeGraph.load(DEMO_KB), "store": open_store(demo_store),
            "sparql": open_endpoint(sparql_url, cache=tmp_path_factory.mktemp("names"))}


PLANS = [
    (["Jurassic Park"], ["directed_by"]),
    (["Steven Spielberg"], ["~directed_by", "starred_actors"]),
    (["Jurassic Park"], ["directed_by", "~directed_by", "has_genre"]),
    (["Steven Spielberg", "Harrison Ford"], ["~directed_by", AND, "~starred_actors"]),  # a conjunction
    (["Alien", "Jurassic Park"], ["release_year", "~release_year"]),  # two topics at once
]


@pytest.mark.parametrize(("topics", "plan"), PLANS)
def test_every_backend_gives_the_same_answers_and_witness_paths(graphs, topics, plan):
    results = {name: execute_plan(g, topics, plan, max_witnesses=3) for name, g in graphs.items()}
    assert results["memory"].answers
    assert results["store"] == results["memory"] and results["sparql"] == results["memory"]


def test_a_frontier_cut_is_the_same_on_every_backend(graphs):
    results = [execute_plan(g, ["Steven Spielberg"], ["~directed_by", "starred_actors"], max_frontier=3) for g in graphs.values()]
    assert results[0].truncated_at_hop == 1 and all(r == results[0] for r in results)


def test_schema_steps_and_stored_inverses_come_from_the_store(graphs):
    memory = graphs["memory"]
    for graph in (graphs["store"], graphs["sparql"]):
        assert graph.steps == memory.steps and graph.same_as == memory.same_as
        assert Schema.derive(graph) == Schema.derive(memory)
        assert graph.entity_count == memory.entity_count and graph.report.triples == memory.report.triples
        spielberg = graph.entity_id("Steven Spielberg")
        assert graph.steps_from(spielberg) == memory.steps_from(memory.entity_id("Steven Spielberg"))


@pytest.mark.parametrize("question", ["who directed [Jurassic Park]", "who directed jurassic park", "films by Steven Spielbergg",
                                      "what did [No Such Film At All] gross"])
def test_linking_reads_the_stores_name_index(graphs, question):
    links = {name: EntityLinker(g).link(question) for name, g in graphs.items()}
    exact = {name: [c for c in found if c.method != "fuzzy"] for name, found in links.items()}
    assert exact["store"] == exact["memory"] and exact["sparql"] == exact["memory"]
    # a fuzzy lookup in a store scores the names that share a rare trigram with the words, not every name
    assert links["store"][:1] == links["memory"][:1] and links["sparql"] == links["store"]


def test_whole_graph_jobs_read_the_store_once(graphs):
    memory, store = graphs["memory"], graphs["store"]
    assert (store.triples == memory.triples).all() and store.names == memory.names
    questions = [Question(id="a", question="who directed [Jurassic Park]", answers=["Steven Spielberg"]),
                 Question(id="b", question="what films did [Steven Spielberg] direct", answers=memory.neighbours("Steven Spielberg", "~directed_by"))]
    assert mine_questions(store, questions, workers=1) == mine_questions(memory, questions, workers=1)


def test_batch_answers_the_same_over_every_backend(demo_store, sparql_url, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("who directed [Jurassic Park]\tSteven Spielberg\nwhen was [Alien] released\t1979\n"
                         "who acted in the movies directed by [Steven Spielberg]\tx\nwho wrote [Zzyzx Qwvvrt Plinth]\tx\n")
    found = {}
    for name, kg in {"memory": str(DEMO_KB), "store": str(demo_store), "sparql": sparql_url}.items():
        out = tmp_path / f"{name}.jsonl"
        run = subprocess.run([REASONER, "batch", "--kg", kg, "--questions", str(questions), "--out", str(out), "--planner", "embedding",
                              "--traces", str(tmp_path / "t.sqlite")], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        lines = sorted(map(json.loads, out.read_text().splitlines()), key=lambda r: r["id"])  # written as they finish
        found[name] = [(r["status"], r["answers"], r["evidence"]) for r in lines]
    assert found["memory"][0][1] == ["Steven Spielberg"] and found["memory"][3][0] == "no_entity"
    assert found["store"] == found["memory"] and found["sparql"] == found["memory"]


def test_bad_stores_and_endpoints_are_clear_errors(demo_store, tmp_path):
    with pytest.raises(StoreError, match="is not a graph store"):
        open_graph(tmp_path)
    with pytest.raises(FileExistsError, match="not empty"):
        load_store(DEMO_KB, demo_store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError, match="did not answer"):
        open_graph(f"http://127.0.0.1:{port}/query")
    run = subprocess.run([REASONER, "kg", "stats", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "reasoner kg load" in run.stderr
