"""The agent end to end on the demo graph, against the real served model with the shipped planner."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.runner import answer_question
from agent.traces import TraceStore
from kg.demo import DEMO_QUESTIONS
from tools.base import Task
from tools.kg.checks import cue

pytestmark = pytest.mark.slow
REASONER = str(Path(sys.executable).parent / "reasoner")


@pytest.fixture
def store(tmp_path):
    return TraceStore(tmp_path / "traces.sqlite")


def test_cues():
    assert cue("who directed [ENT]") == "who"
    assert cue("the films acted by [ENT] were released in which years") == "which years"
    assert cue("what is the primary language of [ENT]") == "what primary"
    assert cue("[ENT] films") is None


def test_answers_with_plan_evidence_and_trace(agent, store):
    answer = answer_question(agent, store, "who directed [Inception]")
    assert answer.status == "answered" and answer.answers == ["Christopher Nolan"]
    assert answer.plan == ["directed_by"]
    [path] = answer.evidence["Christopher Nolan"]
    assert (path[0].source, path[0].relation, path[0].target) == ("Inception", "directed_by", "Christopher Nolan")
    assert all(c.passed for c in answer.checks) and {c.name for c in answer.checks} >= {"chains", "answer_kind"}

    run = store.run(answer.trace_id)
    assert run.status == "answered" and run.answers == ["Christopher Nolan"]
    assert [s.node for s in run.steps] == ["route", "frame", "plan", "ground", "check", "answer"]
    assert run.tool == "kg" and run.steps[0].output["route"]["checks"]  # the route and what it checked are recorded
    [call] = run.steps[2].output["proposals"][0]["calls"]
    assert call["messages"] == [{"role": "prompt", "content": "who directed [ENT] =>"}]
    assert call["raw"] and call["usage"]["completion_tokens"] > 0  # the raw model output and its cost are kept
    assert run.steps[3].output["result"]["witnesses"]["Christopher Nolan"]
    assert answer.grounding.kind == "kg" and answer.grounding.witnesses == answer.evidence
    assert store.schema_version == 2


def test_three_hop_question_on_the_demo_graph(agent, store):
    question, gold = next(line.split("\t") for line in DEMO_QUESTIONS.read_text().splitlines()
                          if "share" in line or "also" in line)
    answer = answer_question(agent, store, question)
    assert answer.status == "answered"
    assert set(answer.answers) == set(gold.split("|"))


def test_a_reading_that_grounds_to_nothing_is_not_replaced_by_another_question(agent, store):
    # The cast of E.T. made no other film in the demo graph: the question's reading grounds to nothing at
    # its second hop, and the answer says so instead of answering another question.
    answer = answer_question(agent, store, "who directed the movies that share actors with the movie [E.T. the Extra-Terrestrial]")
    first = answer.attempts[0]
    assert first.candidate == "starred_actors -> ~starred_actors -> directed_by" and first.failed == ["grounded"]
    assert answer.status == "not_in_graph" and answer.answers == []
    missing = answer.grounding.missing
    assert (missing.hop, missing.step, missing.only_topic) == (2, "~starred_actors", True)
    assert "no `starred_actors` edge to any of the" in answer.message and "other than back to E.T." in answer.message
    steps = [s.node for s in store.run(answer.trace_id).steps]
    assert steps.count("plan") >= 2, steps  # the planner was asked again, more widely, for readings of the same question
    assert store.run(answer.trace_id).status == "not_in_graph"


def test_a_message_no_tool_serves_gets_an_honest_answer(agent, store):
    answer = answer_question(agent, store, "what is the airspeed velocity of an unladen swallow")
    assert answer.tool == "none" and answer.status == "no_tool" and answer.answers == []
    assert "This service answers" in answer.message and "knowledge graph" in answer.message
    assert [s.node for s in store.run(answer.trace_id).steps] == ["route", "answer"]


def test_a_kg_question_without_an_entity(agent, store):
    answer = answer_question(agent, store, Task(question="what is the airspeed velocity of an unladen swallow", tool="kg"))
    assert answer.status == "no_entity" and answer.answers == [] and "no entity" in answer.message
    assert [s.node for s in store.run(answer.trace_id).steps] == ["route", "frame", "answer"]


def test_a_table_is_routed_to_the_regression_tool_and_explained(agent, store):
    answer = answer_question(agent, store, "x y\n1 2.1\n2 3.9\n3 6.2\n4 7.8\n5 10.1\n6 12.2\nFind a formula for y.")
    assert answer.tool == "regress" and answer.status == "answered", answer.message
    assert answer.route.checks and all(c.passed for c in answer.route.checks)
    assert answer.grounding.kind == "regress" and answer.grounding.best.r2_validation > 0.95
    assert answer.message.startswith("y = ")


def test_a_routed_tool_that_is_not_served_says_so(search_agent, store):
    answer = answer_question(search_agent, store, "x y\n1 2.1\n2 3.9\n3 6.2\n4 7.8\n5 10.1\nFind a formula for y.")
    assert answer.tool == "regress" and answer.status == "no_tool" and "not served here" in answer.message


def test_step_events_stream_while_running(agent):
    events = []
    answer_question(agent, None, "when was [Alien] released", on_event=events.append)
    assert [e["node"] for e in events] == ["route", "frame", "plan", "ground", "check", "answer"]


def test_ask_and_batch_commands(tmp_path, distilled_server):
    url = distilled_server.base_url
    traces = tmp_path / "t.sqlite"
    run = subprocess.run([REASONER, "ask", "who directed [Jurassic Park]", "--llm-url", url, "--traces", str(traces), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["answers"] == ["Steven Spielberg"]

    questions = tmp_path / "qa_1hop_demo.txt"
    questions.write_text("who directed [Jurassic Park]\tSteven Spielberg\nwhen was [Alien] released\t1979\nwho wrote [Zzyzx Qwvvrt Plinth]\tx\n")
    out = tmp_path / "answers.jsonl"
    run = subprocess.run([REASONER, "batch", "--questions", str(questions), "--out", str(out), "--llm-url", url,
                          "--traces", str(traces), "--limit", "2"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["n"] == 2 and summary["hits_at_1"] == 1.0 and summary["micro_f1"] == 1.0
    assert summary["1-hop"]["n"] == 2 and summary["questions_per_s"] > 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"] for r in records} == {"qa_1hop_demo:1", "qa_1hop_demo:2"}
    assert all(r["trace_id"] and r["evidence"] for r in records)

    again = subprocess.run([REASONER, "batch", "--questions", str(questions), "--out", str(out), "--llm-url", url,
                            "--traces", str(traces), "--resume"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["answered_now"] == 1 and summary["n"] == 3
    assert summary["status"]["no_entity"] == 1

    refused = subprocess.run([REASONER, "batch", "--questions", str(questions), "--out", str(out), "--llm-url", url],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--resume" in refused.stderr


def test_a_batch_stops_when_the_model_server_has_no_such_model(tmp_path, distilled_server):
    questions = tmp_path / "q.txt"
    questions.write_text("who directed [Jurassic Park]\tSteven Spielberg\nwhen was [Alien] released\t1979\n")
    out = tmp_path / "answers.jsonl"
    run = subprocess.run([REASONER, "run", "kg", "--tasks", str(questions), "--out", str(out), "--llm-url",
                          distilled_server.base_url, "--llm-model", "no-such-model", "--traces", str(tmp_path / "t.sqlite")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "no-such-model" in run.stderr, run.stderr  # said once, not written as a line per question
    assert not out.exists() or not out.read_text().strip()


def _open_traces(path) -> int:
    return TraceStore(path).schema_version


def test_processes_opening_a_new_trace_file_at_once_all_get_it(tmp_path):
    import multiprocessing

    for attempt in range(4):  # a batch's workers (forked, or Ray actors) open the same new file together
        path = tmp_path / f"t{attempt}.sqlite"
        with multiprocessing.get_context("fork").Pool(4) as pool:
            versions = pool.map(_open_traces, [path] * 4)
        assert len(set(versions)) == 1 and versions[0] == TraceStore(path).schema_version > 0
