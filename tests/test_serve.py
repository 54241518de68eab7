"""The HTTP service on loopback, driven with the official openai client and plain HTTP calls."""

import json
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest
import uvicorn

from agent.server import free_port
from agent.traces import TraceStore
from serve import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(agent, distilled_server, tmp_path_factory):
    store = TraceStore(tmp_path_factory.mktemp("serve") / "traces.sqlite")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(agent, store, llm_url=distilled_server.base_url),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def call(url: str, body: dict | None = None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_openai_client_chat(service):
    client = openai.OpenAI(base_url=f"{service}/v1", api_key="unused")
    assert [m.id for m in client.models.list().data] == ["reasoner"]
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": "who directed [Jurassic Park]"}])
    text = reply.choices[0].message.content
    assert text.startswith("Steven Spielberg") and "Evidence: Jurassic Park --directed_by--> Steven Spielberg" in text
    extra = reply.model_extra
    assert extra["reasoner"]["plan"] == ["directed_by"] and extra["trace_id"]


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
    assert nodes == ["link", "plan", "ground", "check", "answer"]
    assert text.startswith("1979") and finish == "stop"


def test_native_ask_and_runs(service):
    status, answer = call(f"{service}/api/ask", {"question": "who directed [Inception]"})
    assert status == 200 and answer["answers"] == ["Christopher Nolan"] and answer["checks"]
    status, run = call(f"{service}/api/runs/{answer['trace_id']}")
    assert status == 200 and [s["node"] for s in run["steps"]] == ["link", "plan", "ground", "check", "answer"]
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
    code, error = call(service + path, body, raw)
    assert code == status
    assert message in error["error"]["message"] and error["error"]["type"] == "invalid_request_error"


def test_healthz(service):
    status, health = call(f"{service}/healthz")
    assert status == 200 and health["status"] == "ok"


def test_oversized_body_is_refused(service):
    code, error = call(f"{service}/api/ask", raw=b'{"question": "' + b"x" * (1 << 20) + b'"}')
    assert code == 413 and "over the limit" in error["error"]["message"]


def test_metrics_count_requests_steps_and_tokens(service):
    call(f"{service}/api/ask", {"question": "who directed [Alien]"})
    with urllib.request.urlopen(f"{service}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'reasoner_requests_total{route="/api/ask",status="200"}' in text
    assert 'reasoner_step_seconds_count{node="plan"}' in text
    assert 'reasoner_llm_tokens_total{kind="prompt_tokens"}' in text


def test_api_key_guards_every_route_but_healthz(agent, distilled_server, tmp_path):
    from fastapi.testclient import TestClient

    from serve import Limits

    app = create_app(agent, TraceStore(tmp_path / "t.sqlite"), llm_url=distilled_server.base_url,
                     limits=Limits(api_key="s3cret"))
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
    assert nodes[0] == "link" and nodes[-1] == "end" and "ground" in nodes
    assert events[-1]["status"] == "answered" and events[-1]["answers"]
    # A finished run replays from the trace store.
    with urllib.request.urlopen(f"{service}/api/runs/{run_id}/events", timeout=30) as response:
        replay = [json.loads(line[6:]) for line in response if line.startswith(b"data: ")]
    assert [e["node"] for e in replay] == nodes
