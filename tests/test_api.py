"""The HTTP service on loopback, driven with the official openai client and plain HTTP calls."""

import json
import time
import urllib.error
import urllib.request

import openai
import pytest
from calls import call

from agent.settings import ApiLimits
from agent.traces import TraceStore
from serve import create_app

pytestmark = pytest.mark.slow


def test_openai_client_chat(service):
    client = openai.OpenAI(base_url=f"{service}/v1", api_key="unused")
    assert [m.id for m in client.models.list().data] == ["reasoner"]
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": "who directed [Jurassic Park]"}])
    text = reply.choices[0].message.content
    assert text.startswith("Steven Spielberg") and "Evidence: Jurassic Park --directed_by--> Steven Spielberg" in text
    extra = reply.model_extra
    assert extra["reasoner"]["plan"] == ["directed_by"] and extra["trace_id"] and extra["reasoner"]["tool"] == "kg"
    tokens = extra["reasoner"]["llm_tokens"]  # usage counts the run's real LLM tokens
    assert reply.usage.prompt_tokens == tokens["prompt_tokens"] > 0 and reply.usage.completion_tokens == tokens["completion_tokens"] > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_every_kind_of_task_is_taken_and_routed(service):
    client = openai.OpenAI(base_url=f"{service}/v1", api_key="unused")
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": "f(1)=2, f(2)=4, f(3)=6. What is f(4)?"}])
    result = reply.model_extra["reasoner"]
    assert result["tool"] == "induce" and result["status"] == "answered" and result["answers"] == ["8"]
    assert reply.choices[0].message.content.startswith("8") and "reproduces all 3 examples" in reply.choices[0].message.content
    table = "x y\n1 2.1\n2 3.9\n3 6.2\n4 7.8\n5 10.1\nFind a formula for y."
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": table}])
    result = reply.model_extra["reasoner"]
    assert result["tool"] == "regress" and result["status"] == "answered" and reply.choices[0].message.content.startswith(result["answers"][0])
    assert "validation R²" in reply.choices[0].message.content
    status, answer = call(f"{service}/api/ask", {"question": "hi there, how are you?"})
    assert status == 200 and answer["tool"] == "none" and answer["status"] == "no_tool" and "This service answers" in answer["message"]
    # A typed input: its shape routes it, a wrong shape is a 400 naming the field, an explicit tool wins.
    status, answer = call(f"{service}/api/ask", {"question": "fit y", "input": {"columns": {"x": [1, 2, 3, 4, 5, 6], "y": [2, 4, 6, 8, 10, 12]}}})
    assert status == 200 and answer["tool"] == "regress" and answer["status"] == "answered" and answer["answers"] == ["2*x"]
    status, answer = call(f"{service}/api/ask", {"question": "fit y", "input": {"columns": {"x": [1, 2, 3], "y": [2, 4, 6]}}})
    assert status == 200 and answer["status"] == "undecided" and "at least 5 are needed" in answer["message"]
    status, error = call(f"{service}/api/ask", {"question": "fit y", "tool": "regress", "input": {"columns": {"x": [1, "a"], "y": [2, 4]}}})
    assert status == 400 and error["error"]["message"].startswith("input.columns.x.1")
    status, error = call(f"{service}/api/ask", {"question": "decide", "tool": "logic", "input": {"premises": []}})
    assert status == 400 and error["error"]["message"].startswith("input.premises:")
    status, error = call(f"{service}/api/ask", {"question": "decide", "input": {"facts": ["a"]}})
    assert status == 400 and "no tool's input" in error["error"]["message"]
    status, answer = call(f"{service}/api/ask", {"question": "who directed Alien", "tool": "kg", "input": {"topic": "Alien"}})
    assert status == 200 and answer["answers"] == ["Ridley Scott"] and answer["route"]["explicit"]
    status, tools = call(f"{service}/api/tools")
    assert status == 200 and tools["served"] == ["induce", "kg", "logic", "regress"] and {t["name"] for t in tools["tools"]} == {"kg", "logic", "induce", "regress"}
    status, runs = call(f"{service}/api/runs?tool=regress")
    assert status == 200 and runs and {r["tool"] for r in runs} == {"regress"}


def test_openai_client_streaming_with_step_events(service):
    client = openai.OpenAI(base_url=f"{service}/v1", api_key="unused")
    stream = client.chat.completions.create(model="reasoner", stream=True,
                                            messages=[{"role": "user", "content": "when was [Alien] released"}])
    nodes, text, finish = [], "", None
    for chunk in stream:
        event = (chunk.model_extra or {}).get("reasoner_event")
        if event:
            nodes.append(event["node"])
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    assert nodes == ["route", "frame", "plan", "ground", "check", "answer"]
    assert text.startswith("1979") and finish == "stop"


def test_a_request_picks_the_planner(service):
    client = openai.OpenAI(base_url=f"{service}/v1", api_key="unused")
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": "who directed [Jurassic Park]"}],
                                           extra_body={"planner": "embedding"})
    result = reply.model_extra["reasoner"]
    assert result["planner"] == "embedding" and result["answers"] == ["Steven Spielberg"]
    assert result["llm_tokens"] == {"prompt_tokens": 0, "completion_tokens": 0}
    status, answer = call(f"{service}/api/ask", {"question": "who directed [Jurassic Park]"})
    assert status == 200 and answer["planner"] == "llm" and answer["llm_tokens"]["completion_tokens"] > 0
    status, run = call(f"{service}/api/runs/{result['trace_id']}")
    assert [s["output"]["proposals"][0]["by"] for s in run["steps"] if s["node"] == "plan"] == ["embedding"]
    assert call(f"{service}/api/planners") == (200, {"default": "llm", "planners": ["llm", "embedding"]})
    status, error = call(f"{service}/api/ask", {"question": "who directed [Jurassic Park]", "planner": "oracle"})
    assert status == 400 and "'oracle' is not served here; choose one of llm, embedding" in error["error"]["message"]


def test_the_embedding_planner_alone_needs_no_model_server(search_agent, tmp_path):
    from fastapi.testclient import TestClient

    with TestClient(create_app(search_agent, TraceStore(tmp_path / "t.sqlite"))) as client:
        assert client.get("/healthz").json() == {"status": "ok", "model_servers": [], "planners": ["embedding"], "answering": 0}
        answer = client.post("/api/ask", json={"question": "when was [Alien] released"}).json()
        assert answer["answers"] == ["1979"] and answer["planner"] == "embedding"


def test_native_ask_and_runs(service):
    status, answer = call(f"{service}/api/ask", {"question": "who directed [Inception]"})
    assert status == 200 and answer["answers"] == ["Christopher Nolan"] and answer["checks"]
    status, run = call(f"{service}/api/runs/{answer['trace_id']}")
    assert status == 200 and [s["node"] for s in run["steps"]] == ["route", "frame", "plan", "ground", "check", "answer"]
    status, runs = call(f"{service}/api/runs?q=Inception&status=answered")
    assert status == 200 and runs[0]["id"] == answer["trace_id"]


@pytest.mark.parametrize(
    "path, body, raw, status, message",
    [
        ("/api/ask", {"question": "  "}, None, 400, "the question is empty"),
        ("/api/ask", {"question": 3}, None, 400, "question: Input should be a valid string"),
        ("/api/ask", None, b"{not json", 400, "JSON decode error"),
        ("/api/ask", {"question": "x" * 5000}, None, 400, "at most 2000"),
        ("/v1/chat/completions", {"model": "reasoner", "messages": []}, None, 400, "messages"),
        ("/v1/chat/completions", {"messages": [{"role": "system", "content": "hi"}]}, None, 400, "at least one user message"),
        ("/api/runs/nope", None, None, 404, "no run with id 'nope'"),
    ],
)
def test_bad_input_is_a_specific_error_in_openai_shape(service, path, body, raw, status, message):
    _, before = call(f"{service}/api/runs?limit=500")
    code, error = call(service + path, body, raw)
    assert code == status
    assert message in error["error"]["message"] and error["error"]["type"] == "invalid_request_error"
    _, after = call(f"{service}/api/runs?limit=500")
    assert len(after) == len(before)  # nothing stored


def test_healthz(service):
    status, health = call(f"{service}/healthz")
    assert status == 200 and health["status"] == "ok"


def test_oversized_body_is_refused(service):
    _, before = call(f"{service}/api/runs?limit=500")
    code, error = call(f"{service}/api/ask", raw=b'{"question": "' + b"x" * (1 << 20) + b'"}')
    assert code == 413 and "over the limit" in error["error"]["message"]
    assert len(call(f"{service}/api/runs?limit=500")[1]) == len(before)


def test_metrics_count_requests_steps_and_tokens(service):
    call(f"{service}/api/ask", {"question": "who directed [Alien]"})
    with urllib.request.urlopen(f"{service}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'reasoner_requests_total{route="/api/ask",status="200"}' in text
    assert 'reasoner_step_seconds_count{node="plan"}' in text
    assert 'reasoner_llm_tokens_total{kind="prompt_tokens"}' in text


def test_api_key_guards_every_route_but_healthz(agent, distilled_server, tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(agent, TraceStore(tmp_path / "t.sqlite"), limits=ApiLimits(api_key="s3cret"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = client.get("/v1/models", headers=headers)
            assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"
        assert client.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_a_run_started_in_the_background_streams_its_steps(service):
    status, started = call(f"{service}/api/runs", {"question": "what genres are the films directed by [Christopher Nolan] in"})
    assert status == 202
    run_id = started["trace_id"]
    events = []
    with urllib.request.urlopen(f"{service}/api/runs/{run_id}/events", timeout=120) as response:
        for line in response:
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
    nodes = [e["node"] for e in events]
    assert nodes[0] == "route" and nodes[-1] == "end" and "ground" in nodes
    assert events[-1]["status"] == "answered" and events[-1]["answers"]
    # A finished run replays from the trace store.
    with urllib.request.urlopen(f"{service}/api/runs/{run_id}/events", timeout=30) as response:
        replay = [json.loads(line[6:]) for line in response if line.startswith(b"data: ")]
    assert [e["node"] for e in replay] == nodes


def test_batch_job_results_readable_as_they_finish(service):
    questions = ["who directed [Inception]", "when was [Alien] released", "who is [Nobody Atall]"]
    status, job = call(f"{service}/api/batch", {"questions": questions})
    assert status == 202 and job["n"] == 3 and job["status"] == "running"
    deadline = time.monotonic() + 120
    while job["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
        status, job = call(f"{service}/api/batch/{job['id']}")
        assert status == 200 and len(job["results"]) <= 3
    by_index = {r["index"]: r for r in job["results"]}
    assert job["status"] == "done" and sorted(by_index) == [0, 1, 2]
    assert by_index[0]["answers"] == ["Christopher Nolan"] and by_index[1]["answers"] == ["1979"]
    assert by_index[2]["status"] == "no_entity"
    status, run = call(f"{service}/api/runs/{by_index[0]['trace_id']}")
    assert status == 200 and run["status"] == "answered"


@pytest.mark.parametrize(
    "body, message",
    [
        ({"questions": []}, "questions: List should have at least 1 item"),
        ({"questions": ["who directed [Heat]", " "]}, "questions.1: the question is empty"),
        ({"questions": ["q"] * 201}, "at most 200 items"),
        ({"questions": "who directed [Heat]"}, "questions: Input should be a valid list"),
    ],
)
def test_bad_batch_is_refused_whole(service, body, message):
    _, before = call(f"{service}/api/runs?limit=500")
    code, error = call(f"{service}/api/batch", body)
    assert code == 400 and message in error["error"]["message"]
    _, after = call(f"{service}/api/runs?limit=500")
    assert len(after) == len(before)  # nothing was started
    assert call(f"{service}/api/batch/nope")[0] == 404


def test_a_question_over_its_time_is_a_504_and_its_run_an_error(agent, distilled_server, tmp_path):
    from fastapi.testclient import TestClient

    store = TraceStore(tmp_path / "t.sqlite")
    app = create_app(agent, store, limits=ApiLimits(timeout_seconds=0.001))
    with TestClient(app) as client:
        response = client.post("/api/ask", json={"question": "who directed [Heat]"})
        assert response.status_code == 504 and "time allowed per question" in response.json()["error"]["message"]
        [run] = store.runs()
        assert run.status == "error"
        stream = client.post("/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "who directed [Heat]"}]})
        data = [line[6:] for line in stream.text.splitlines() if line.startswith("data: ")]
        assert data[-1] == "[DONE]" and "time allowed per question" in json.loads(data[-2])["error"]["message"]


def test_a_dead_model_server_is_a_clear_502_and_healthz_says_so(demo_kg, distilled, tmp_path):
    from fastapi.testclient import TestClient

    from agent.assemble import kg_tool
    from agent.graph import Agent
    from agent.llm.backend import Backend
    from agent.llm.server import free_port
    from tools.kg.llm_planner import LLMPlanner, distilled_format

    backend = Backend(f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there (any longer)
    llm = backend.llm("kg", distilled, "the KG planner")
    planner = LLMPlanner(demo_kg, llm, compact=distilled_format(distilled), folder=distilled)
    store = TraceStore(tmp_path / "t.sqlite")
    with TestClient(create_app(Agent({"kg": kg_tool(planner)}), store, backend=backend)) as client:
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        [server] = health.json()["model_servers"]
        assert server["tool"] == "kg" and server["state"] == "down" and "no model server answers" in server["detail"]
        started = time.monotonic()
        response = client.post("/api/ask", json={"question": "who directed [Heat]"})
        assert response.status_code == 502 and "the model server does not answer" in response.json()["error"]["message"]
        assert time.monotonic() - started < 5
        assert [r.status for r in store.runs()] == ["error"]


def test_over_the_in_flight_limit_is_a_clear_503_and_a_batch_waits(agent, distilled_server, tmp_path):
    import threading

    import uvicorn

    from agent.llm.server import free_port

    store = TraceStore(tmp_path / "t.sqlite")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(agent, store, limits=ApiLimits(max_in_flight=1)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        results: list[tuple[int, dict]] = []
        threads = [threading.Thread(target=lambda: results.append(call(f"{url}/api/ask", {"question": "who directed [Alien]"})))
                   for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(code for code, _ in results)
        assert codes.count(200) >= 1 and codes.count(503) >= 1 and set(codes) == {200, 503}
        busy = next(body for code, body in results if code == 503)["error"]
        assert busy["type"] == "overloaded_error" and "its limit; retry shortly" in busy["message"]
        assert len(store.runs(limit=50)) == codes.count(200)  # a refused question stores nothing
        # A batch queues for the one slot instead of failing.
        _, job = call(f"{url}/api/batch", {"questions": ["who directed [Alien]"] * 4})
        while job["status"] != "done":
            time.sleep(0.1)
            job = call(f"{url}/api/batch/{job['id']}")[1]
        assert [r["answers"] for r in job["results"]] == [["Ridley Scott"]] * 4
    finally:
        server.should_exit = True
