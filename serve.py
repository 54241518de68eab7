"""The HTTP service: an OpenAI-compatible chat API and a native JSON API over the same agent.

    reasoner serve [--kg KB] [--port 8080]

`POST /v1/chat/completions` (model `reasoner`, SSE with `stream: true`) and `GET /v1/models` speak
OpenAI's wire format, translated at the edge; `POST /api/ask`, `GET /api/runs`, `GET /api/runs/{id}`
return the structured answer and traces; `GET /healthz` also checks the model server; `GET /metrics`
is Prometheus text. With an API key set, every route but `/healthz` needs `Authorization: Bearer KEY`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from agent.graph import Agent
from agent.runner import Answer, answer_question
from agent.server import ServerError, check_reachable
from agent.traces import RunRecord, RunSummary, TraceStore

MODEL_NAME = "reasoner"
MAX_QUESTION_CHARS = 2000
DRAIN_LIMIT = 16 * 1024 * 1024  # an over-limit body up to this size is read and dropped before the 413


class Limits(BaseModel):
    api_key: str | None = None  # bearer token every route but /healthz requires, when set
    max_body_bytes: int = 64 * 1024
    max_in_flight: int = 64  # questions answered at once; more get a 503 at once
    timeout_seconds: float = 120.0  # per question


# ---- wire models -----------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = None


class ChatRequest(BaseModel):
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class AskRequest(BaseModel):
    question: str


class RunEvents:
    """Step events of the runs in progress, for `GET /api/runs/{id}/events`; kept until the run ends."""

    def __init__(self) -> None:
        self.history: dict[str, list[dict]] = {}
        self.listeners: dict[str, list[asyncio.Queue]] = {}

    def open(self, run_id: str) -> None:
        self.history[run_id], self.listeners[run_id] = [], []

    def publish(self, run_id: str, event: dict) -> None:  # on the event loop
        self.history.get(run_id, []).append(event)
        for queue in self.listeners.get(run_id, []):
            queue.put_nowait(event)
        if event.get("node") == "end":
            self.history.pop(run_id, None)
            self.listeners.pop(run_id, None)

    def subscribe(self, run_id: str) -> tuple[list[dict], asyncio.Queue] | None:
        if run_id not in self.history:
            return None
        queue: asyncio.Queue = asyncio.Queue()
        self.listeners[run_id].append(queue)
        return list(self.history[run_id]), queue


# ---- the app ---------------------------------------------------------------------------------


class Metrics:
    """Prometheus counters and histograms of one app (its own registry, so apps do not share them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("reasoner_requests", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("reasoner_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.steps = Histogram("reasoner_step_seconds", "Agent step latency", ["node"], registry=self.registry,
                               buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.tokens = Counter("reasoner_llm_tokens", "Planner LLM tokens", ["kind"], registry=self.registry)
        self.errors = Counter("reasoner_errors", "Requests that ended in a 5xx", ["route"], registry=self.registry)

    def answered(self, answer: Answer) -> None:
        for node, seconds in answer.seconds.items():
            if node != "total":
                self.steps.labels(node).observe(seconds)
        for kind, n in answer.llm_tokens.items():
            self.tokens.labels(kind).inc(n)


def create_app(agent: Agent, store: TraceStore, *, llm_url: str, limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    metrics = Metrics()
    in_flight = 0
    app = FastAPI(title="reasoner", summary="Knowledge-graph question answering with audited plans")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        if limits.api_key and request.url.path != "/healthz":
            if request.headers.get("authorization") != f"Bearer {limits.api_key}":
                return _error(401, "missing or incorrect API key: send Authorization: Bearer <key>")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_body_bytes:
            # Read the body away (not kept) so the client gets the 413 rather than a reset connection.
            if int(length) <= DRAIN_LIMIT:
                async for _ in request.stream():
                    pass
            return _error(413, f"request body of {length} bytes is over the limit of {limits.max_body_bytes}")
        response = await call_next(request)
        route = request.scope["route"].path if request.scope.get("route") else "unmatched"
        metrics.requests.labels(route, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        if response.status_code >= 500:
            metrics.errors.labels(route).inc()
        return response

    events = RunEvents()

    async def answer_bounded(question: str, run_id: str | None = None) -> Answer:
        """Answer in a worker thread, at most `max_in_flight` at once, within the timeout."""
        nonlocal in_flight
        if in_flight >= limits.max_in_flight:
            raise HTTPException(503, f"the service is answering {in_flight} questions, its limit; retry shortly")
        in_flight += 1
        loop = asyncio.get_running_loop()
        run_id = run_id or store.start_run(question)
        events.open(run_id)
        publish = lambda event: loop.call_soon_threadsafe(events.publish, run_id, event)  # noqa: E731
        try:
            answer = await asyncio.wait_for(
                run_in_threadpool(answer_question, agent, store, question, run_id=run_id, on_event=publish),
                limits.timeout_seconds)
        except asyncio.TimeoutError:
            store.finish_run(run_id, "error", [], {"error": f"no answer within {limits.timeout_seconds:.0f}s"})
            raise HTTPException(504, f"no answer within {limits.timeout_seconds:.0f}s") from None
        except Exception as e:  # the model server is down or answered nonsense: say so, stay up
            store.finish_run(run_id, "error", [], {"error": str(e)})
            raise HTTPException(502, f"the model server failed: {e}") from None
        finally:
            in_flight -= 1
            loop.call_soon(events.publish, run_id, {"trace_id": run_id, "node": "end"})
        metrics.answered(answer)
        return answer

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return _error(400, f"{where or 'body'}: {first['msg']}", param=where or None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            check_reachable(llm_url, timeout=3)
        except ServerError as e:
            return JSONResponse({"status": "degraded", "model_server": str(e)}, status_code=503)
        return JSONResponse({"status": "ok", "model_server": llm_url})

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "reasoner"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest):
        question = _question_of(request.messages)
        if not request.stream:
            return _completion(await answer_bounded(question))
        if in_flight >= limits.max_in_flight:
            raise HTTPException(503, f"the service is answering {in_flight} questions, its limit; retry shortly")
        return StreamingResponse(counted(_stream(agent, store, question)), media_type="text/event-stream")

    async def counted(stream: AsyncIterator[str]) -> AsyncIterator[str]:
        """A streamed answer counts against `max_in_flight` while it runs."""
        nonlocal in_flight
        in_flight += 1
        try:
            async for piece in stream:
                yield piece
        finally:
            in_flight -= 1

    @app.post("/api/ask")
    async def ask(request: AskRequest) -> Answer:
        return await answer_bounded(_checked(request.question))

    @app.get("/api/runs")
    def runs(limit: int = 50, offset: int = 0, status: str | None = None, q: str | None = None) -> list[RunSummary]:
        if not 1 <= limit <= 500 or offset < 0:
            raise HTTPException(400, "limit must be 1..500 and offset at least 0")
        return store.runs(limit=limit, offset=offset, status=status, text=q)

    @app.post("/api/runs", status_code=202)
    async def start(request: AskRequest) -> dict:
        """Start answering and return the run id at once; follow it at /api/runs/{id}/events."""
        question = _checked(request.question)
        if in_flight >= limits.max_in_flight:
            raise HTTPException(503, f"the service is answering {in_flight} questions, its limit; retry shortly")
        run_id = store.start_run(question)
        task = asyncio.create_task(answer_bounded(question, run_id))
        task.add_done_callback(lambda t: t.exception())  # failures are in the trace; do not warn here
        return {"trace_id": run_id}

    @app.get("/api/runs/{run_id}/events")
    async def run_events(run_id: str) -> StreamingResponse:
        """SSE of a run's steps: those done so far, then each as it finishes, then `end` with the result."""
        live = events.subscribe(run_id)
        if live is None and store.run(run_id) is None:
            raise HTTPException(404, f"no run with id {run_id!r}")
        return StreamingResponse(_run_stream(run_id, live), media_type="text/event-stream")

    async def _run_stream(run_id: str, live) -> AsyncIterator[str]:
        if live is not None:
            past, queue = live
            for event in past:
                yield _sse(event)
            while not past or past[-1].get("node") != "end":
                event = await queue.get()
                past.append(event)
                if event.get("node") != "end":
                    yield _sse(event)
        record = store.run(run_id)
        if live is None:
            for step in record.steps:
                yield _sse({"trace_id": run_id, "seq": step.seq, "node": step.node, "seconds": step.seconds, "output": step.output})
        yield _sse({"trace_id": run_id, "node": "end", "status": record.status, "answers": record.answers})

    @app.get("/api/runs/{run_id}")
    def run(run_id: str) -> RunRecord:
        record = store.run(run_id)
        if record is None:
            raise HTTPException(404, f"no run with id {run_id!r}")
        return record

    return app


# ---- OpenAI translation ----------------------------------------------------------------------


def _question_of(messages: list[ChatMessage]) -> str:
    users = [m.content for m in messages if m.role == "user" and m.content]
    if not users:
        raise HTTPException(400, "messages: expected at least one user message with content")
    return _checked(users[-1])


def _checked(question: str) -> str:
    if not question.strip():
        raise HTTPException(400, "the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise HTTPException(400, f"the question has {len(question)} characters; at most {MAX_QUESTION_CHARS} are accepted")
    return question


def answer_text(answer: Answer, max_answers: int = 20, max_paths: int = 3) -> str:
    """The assistant message: the answers, then a short evidence summary."""
    if answer.status != "answered":
        return answer.message
    shown = ", ".join(answer.answers[:max_answers]) + (f" (and {len(answer.answers) - max_answers} more)" if len(answer.answers) > max_answers else "")
    lines = [shown, "", f"Plan: {' -> '.join(answer.plan)} from {answer.topic}."]
    for a in answer.answers[:max_paths]:
        for path in answer.evidence.get(a, [])[:1]:
            lines.append("Evidence: " + path[0].source + "".join(f" --{e.relation}--> {e.target}" for e in path))
    return "\n".join(lines)


def _completion(answer: Answer) -> dict:
    return {
        "id": f"chatcmpl-{answer.trace_id}", "object": "chat.completion", "created": int(time.time()), "model": MODEL_NAME,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(answer)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "trace_id": answer.trace_id, "reasoner": answer.model_dump(mode="json"),
    }


async def _stream(agent: Agent, store: TraceStore, question: str) -> AsyncIterator[str]:
    """SSE: a role chunk, one chunk per agent step (in `reasoner_event`), the answer, then [DONE]."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Any] = asyncio.Queue()
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        body = {"id": "chatcmpl-stream", "object": "chat.completion.chunk", "created": created, "model": MODEL_NAME,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"

    def work() -> None:
        try:
            answer = answer_question(agent, store, question, on_event=lambda e: loop.call_soon_threadsafe(events.put_nowait, e))
            loop.call_soon_threadsafe(events.put_nowait, answer)
        except Exception as e:  # shown to the client as an error chunk, not a dropped connection
            loop.call_soon_threadsafe(events.put_nowait, e)

    threading.Thread(target=work, daemon=True).start()
    yield chunk({"role": "assistant", "content": ""})
    while True:
        item = await events.get()
        if isinstance(item, Answer):
            yield chunk({"content": answer_text(item)}, trace_id=item.trace_id)
            yield chunk({}, "stop", trace_id=item.trace_id, reasoner=item.model_dump(mode="json"))
            break
        if isinstance(item, Exception):
            yield f"data: {json.dumps({'error': {'message': str(item), 'type': 'server_error', 'param': None, 'code': None}})}\n\n"
            break
        yield chunk({}, reasoner_event={k: item[k] for k in ("trace_id", "seq", "node", "seconds")})
    yield "data: [DONE]\n\n"


def _sse(event: dict) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False, default=str)}\n\n"


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    kind = {401: "authentication_error", 503: "overloaded_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": str(status)}}, status_code=status)
