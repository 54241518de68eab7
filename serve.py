"""The HTTP service: the trace viewer, an OpenAI-compatible chat API and a native JSON API over one agent.

    reasoner serve [--kg KB] [--port 8080]

`/` is the trace viewer (static files in viewer/). `POST /v1/chat/completions` (model `reasoner`,
SSE with `stream: true`) and `GET /v1/models` speak OpenAI's wire format, translated at the edge;
`POST /api/ask`, `POST /api/runs` (started in the background), `GET /api/runs[/{id}[/events]]` and
`POST /api/batch` + `GET /api/batch/{id}` return structured answers and traces; `GET /healthz` also
checks the model server; `GET /metrics` is Prometheus text. With an API key set, every route but
`/healthz` and the viewer's static files needs `Authorization: Bearer KEY`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from openai import APIConnectionError, APIError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field

from agent.graph import Agent
from agent.runner import Answer, answer_question
from agent.server import ModelServer, ServerError, check_reachable
from agent.traces import RunRecord, RunSummary, TraceStore
from kg.paths import render_path

log = logging.getLogger(__name__)

MODEL_NAME = "reasoner"
MAX_QUESTION_CHARS = 2000
MAX_BATCH = 200  # questions per POST /api/batch
BATCH_CONCURRENCY = 8  # questions of one batch answered at once
MAX_JOBS_KEPT = 100  # finished batch jobs readable at /api/batch/{id}
VIEWER = Path(__file__).resolve().parent / "viewer"
DRAIN_LIMIT = 16 * 1024 * 1024  # an over-limit body up to this size is read and dropped before the 413


class Limits(BaseModel):
    api_key: str | None = None  # bearer token every route but /healthz requires, when set
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_in_flight: int = Field(64, ge=1)  # questions answered at once; more get a 503 at once
    timeout_seconds: float = Field(120.0, gt=0)  # per question


# ---- wire models -----------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = None


class ChatRequest(BaseModel):
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    planner: str | None = None  # llm | embedding; the service's default when absent


class AskRequest(BaseModel):
    question: str
    planner: str | None = None


class BatchRequest(BaseModel):
    questions: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    planner: str | None = None


class BatchItem(BaseModel):
    index: int  # position in the request
    question: str
    trace_id: str
    status: str  # answered | no_entity | no_plan | error
    answers: list[str] = []
    message: str = ""


class BatchJob(BaseModel):
    id: str
    status: Literal["running", "done"] = "running"
    n: int
    results: list[BatchItem] = []  # in the order they finished


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


class Slots:
    """Questions being answered at once: `take` refuses with a 503 when full, `wait` queues (batches)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise HTTPException(503, f"the service is answering {self.used} questions, its limit; retry shortly")
        self.used += 1

    async def wait(self) -> None:
        while self.used >= self.limit:
            await asyncio.sleep(0.05)
        self.used += 1

    def give(self) -> None:
        self.used -= 1


def create_app(agents: Agent | dict[str, Agent], store: TraceStore, *, llm_url: str | None,
               limits: Limits | None = None, model_server: ModelServer | None = None) -> FastAPI:
    """The app over one agent per planner ("llm", "embedding"; the first is the default), whose LLM
    planner's model server answers at `llm_url` (None when no planner needs one). A `model_server`
    managed by this process lets /healthz say when it is restarting."""
    agents = agents if isinstance(agents, dict) else {agents.planner_name: agents}
    default_planner = next(iter(agents))
    limits = limits or Limits()
    metrics = Metrics()
    slots = Slots(limits.max_in_flight)
    events = RunEvents()
    jobs: dict[str, BatchJob] = {}
    # Our own threads: a timed-out question is abandoned (it stops at its next step), not awaited.
    workers = ThreadPoolExecutor(limits.max_in_flight + 1, thread_name_prefix="answer")
    app = FastAPI(title="reasoner", summary="Knowledge-graph question answering with audited plans")
    app.mount("/viewer", StaticFiles(directory=VIEWER, html=True), name="viewer")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        path = request.url.path
        public = path == "/healthz" or path == "/" or path.startswith("/viewer/")  # the page's files carry no data
        if limits.api_key and not public:
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

    def agent_for(planner: str | None) -> Agent:
        if planner is None:
            return agents[default_planner]
        if planner not in agents:
            raise HTTPException(400, f"planner: {planner!r} is not served here; choose one of {', '.join(agents)}")
        return agents[planner]

    async def answer_run(agent: Agent, question: str, run_id: str) -> Answer:
        """Answer in a worker thread within the timeout, publishing step events; frees a slot at the end."""
        loop = asyncio.get_running_loop()
        publish = lambda event: loop.call_soon_threadsafe(events.publish, run_id, event)  # noqa: E731
        work = partial(answer_question, agent, store, question, run_id=run_id, on_event=publish,
                       deadline=time.monotonic() + limits.timeout_seconds)
        try:
            answer = await asyncio.wait_for(loop.run_in_executor(workers, work), limits.timeout_seconds)
        except (asyncio.TimeoutError, TimeoutError):
            message = f"no answer within {limits.timeout_seconds:g}s, the time allowed per question"
            store.finish_run(run_id, "error", [], {"error": message})
            raise HTTPException(504, message) from None
        except Exception as e:  # say what failed, record it, stay up
            if isinstance(e, APIConnectionError):
                code, message = 502, f"the model server does not answer ({e}); it may be restarting: retry shortly, GET /healthz tells"
            elif isinstance(e, APIError):
                code, message = 502, f"the model server failed: {e}"
            else:
                log.exception("run %s failed", run_id)
                code, message = 500, f"the agent failed: {type(e).__name__}: {e}"
            store.finish_run(run_id, "error", [], {"error": message})
            raise HTTPException(code, message) from None
        finally:
            slots.give()
            loop.call_soon(events.publish, run_id, {"trace_id": run_id, "node": "end"})
        metrics.answered(answer)
        return answer

    def launch(agent: Agent, question: str) -> tuple[str, asyncio.Task]:
        """Start a run whose slot is already taken; its events can be subscribed to at once."""
        run_id = store.start_run(question)
        events.open(run_id)
        task = asyncio.create_task(answer_run(agent, question, run_id))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are in the trace
        return run_id, task

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return _error(400, f"{where or 'body'}: {first['msg']}", param=where or None)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/viewer/")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            if llm_url:
                check_reachable(llm_url, timeout=3)
        except ServerError as e:
            problem = (model_server.problem if model_server else None) or str(e)
            return JSONResponse({"status": "degraded", "model_server": problem, "planners": list(agents)}, status_code=503)
        return JSONResponse({"status": "ok", "model_server": llm_url, "planners": list(agents), "answering": slots.used})

    @app.get("/api/planners")
    def planners() -> dict:
        return {"default": default_planner, "planners": list(agents)}

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "reasoner"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest):
        question = _question_of(request.messages)
        agent = agent_for(request.planner)
        slots.take()
        run_id, task = launch(agent, question)
        if not request.stream:
            return _completion(await task)
        return StreamingResponse(_chat_stream(run_id, task), media_type="text/event-stream")

    async def _chat_stream(run_id: str, task: asyncio.Task) -> AsyncIterator[str]:
        """SSE: a role chunk, one chunk per agent step (in `reasoner_event`), the answer, then [DONE]."""
        past, queue = events.subscribe(run_id)
        chunk = partial(_chunk, f"chatcmpl-{run_id}", int(time.time()))
        yield chunk({"role": "assistant", "content": ""})
        while (event := past.pop(0) if past else await queue.get())["node"] != "end":
            yield chunk({}, reasoner_event={k: event[k] for k in ("trace_id", "seq", "node", "seconds")})
        try:
            answer = await task
        except HTTPException as e:  # shown to the client as an error object, not a dropped connection
            yield _sse({"error": {"message": str(e.detail), "type": "server_error", "param": None, "code": str(e.status_code)}})
        else:
            yield chunk({"content": answer_text(answer)}, trace_id=run_id)
            yield chunk({}, "stop", trace_id=run_id, reasoner=answer.model_dump(mode="json"))
        yield "data: [DONE]\n\n"

    @app.post("/api/ask")
    async def ask(request: AskRequest) -> Answer:
        question, agent = _checked(request.question), agent_for(request.planner)
        slots.take()
        return await launch(agent, question)[1]

    @app.get("/api/runs")
    def runs(limit: int = 50, offset: int = 0, status: str | None = None, q: str | None = None) -> list[RunSummary]:
        if not 1 <= limit <= 500 or offset < 0:
            raise HTTPException(400, "limit must be 1..500 and offset at least 0")
        return store.runs(limit=limit, offset=offset, status=status, text=q)

    @app.post("/api/runs", status_code=202)
    async def start(request: AskRequest) -> dict:
        """Start answering and return the run id at once; follow it at /api/runs/{id}/events."""
        question, agent = _checked(request.question), agent_for(request.planner)
        slots.take()
        return {"trace_id": launch(agent, question)[0]}

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
            while (event := past.pop(0) if past else await queue.get())["node"] != "end":
                yield _sse(event)
        record = store.run(run_id)
        if live is None:
            for step in record.steps:
                yield _sse({"trace_id": run_id, "seq": step.seq, "node": step.node, "seconds": step.seconds, "output": step.output})
        yield _sse({"trace_id": run_id, "node": "end", "status": record.status, "answers": record.answers,
                    "error": (record.result or {}).get("error") if record.status == "error" else None})

    @app.get("/api/runs/{run_id}")
    def run(run_id: str) -> RunRecord:
        record = store.run(run_id)
        if record is None:
            raise HTTPException(404, f"no run with id {run_id!r}")
        return record

    @app.post("/api/batch", status_code=202)
    async def batch(request: BatchRequest) -> BatchJob:
        """Answer a small batch in the background; read its results as they finish at /api/batch/{id}."""
        questions = [_checked(q, f"questions.{i}") for i, q in enumerate(request.questions)]
        agent = agent_for(request.planner)
        job = BatchJob(id=uuid.uuid4().hex[:16], n=len(questions))
        jobs[job.id] = job
        while len(jobs) > MAX_JOBS_KEPT:
            jobs.pop(next(iter(jobs)))
        task = asyncio.create_task(_run_batch(agent, job, questions))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return job

    async def _run_batch(agent: Agent, job: BatchJob, questions: list[str]) -> None:
        lanes = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(index: int, question: str) -> None:
            async with lanes:
                await slots.wait()  # a batch queues for capacity rather than failing
                run_id, task = launch(agent, question)
                try:
                    answer = await task
                    item = BatchItem(index=index, question=question, trace_id=run_id, status=answer.status,
                                     answers=answer.answers, message=answer.message)
                except HTTPException as e:
                    item = BatchItem(index=index, question=question, trace_id=run_id, status="error", message=str(e.detail))
                job.results.append(item)

        await asyncio.gather(*(one(i, q) for i, q in enumerate(questions)))
        job.status = "done"

    @app.get("/api/batch/{job_id}")
    def batch_job(job_id: str) -> BatchJob:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no batch job with id {job_id!r} (the newest {MAX_JOBS_KEPT} are kept)")
        return job

    return app


# ---- OpenAI translation ----------------------------------------------------------------------


def _question_of(messages: list[ChatMessage]) -> str:
    users = [m.content for m in messages if m.role == "user" and m.content]
    if not users:
        raise HTTPException(400, "messages: expected at least one user message with content")
    return _checked(users[-1])


def _checked(question: str, where: str = "question") -> str:
    if not question.strip():
        raise HTTPException(400, f"{where}: the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise HTTPException(400, f"{where}: the question has {len(question)} characters; at most {MAX_QUESTION_CHARS} are accepted")
    return question


def answer_text(answer: Answer, max_answers: int = 20, max_paths: int = 3) -> str:
    """The assistant message: the answers, then a short evidence summary."""
    if answer.status != "answered":
        return answer.message
    shown = ", ".join(answer.answers[:max_answers]) + (f" (and {len(answer.answers) - max_answers} more)" if len(answer.answers) > max_answers else "")
    lines = [shown, "", f"Plan: {' -> '.join(answer.plan)} from {answer.topic}."]
    for a in answer.answers[:max_paths]:
        for path in answer.evidence.get(a, [])[:1]:
            lines.append("Evidence: " + render_path(path))
    return "\n".join(lines)


def _completion(answer: Answer) -> dict:
    return {
        "id": f"chatcmpl-{answer.trace_id}", "object": "chat.completion", "created": int(time.time()), "model": MODEL_NAME,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text(answer)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "trace_id": answer.trace_id, "reasoner": answer.model_dump(mode="json"),
    }


def _chunk(chunk_id: str, created: int, delta: dict, finish: str | None = None, **extra: Any) -> str:
    body = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_NAME,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return _sse(body)


def _sse(event: dict) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False, default=str)}\n\n"


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    kind = {401: "authentication_error", 503: "overloaded_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": str(status)}}, status_code=status)
