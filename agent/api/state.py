"""What every route shares: one `AppState` (agents, trace store, model servers, limits, in-flight slots, run
events, metrics), the documented error responses, and errors in OpenAI's shape."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from openai import APIError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from agent.api.protocol import ErrorResponse
from agent.graph import Agent
from agent.llm.backend import Backend
from agent.llm.server import ServerStatus
from agent.runner import Answer, answer_question
from agent.settings import ApiLimits
from agent.traces import TraceStore
from tools.base import LLMUnavailable, Task
from tools.registry import check_input

log = logging.getLogger(__name__)

# Every route may answer these besides its own; documented on each.
COMMON_ERRORS = {400: "invalid request", 401: "missing or wrong API key", 413: "request body over the limit"}
ANSWER_ERRORS = {502: "the model server does not answer or failed", 503: "the service is at its limit of questions in flight",
                 504: "no answer within the time allowed per question", 500: "the agent failed"}
# Server-sent events: each event's `data` is one JSON object (OpenAPI 3.1: `schema` describes one event).
SSE = {"text/event-stream": {"schema": {"type": "object", "required": ["data"], "properties": {
    "data": {"type": "string", "contentMediaType": "application/json"}, "event": {"type": "string"},
    "id": {"type": "string"}, "retry": {"type": "integer"}}}}}


def errors(*codes: int) -> dict:
    """A route's documented error responses: the common ones and `codes`, each as OpenAI's error object."""
    described = COMMON_ERRORS | ANSWER_ERRORS | {404: "no such run or job"}
    return {code: {"model": ErrorResponse, "description": described[code]} for code in sorted({*COMMON_ERRORS, *codes})}


def state(request: Request) -> AppState:
    """What every route shares (a FastAPI dependency)."""
    return request.app.state.reasoner


class Metrics:
    """Prometheus counters and histograms of one app (its own registry, so apps do not share them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("reasoner_requests", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("reasoner_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.steps = Histogram("reasoner_step_seconds", "Agent step latency", ["node"], registry=self.registry,
                               buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.tokens = Counter("reasoner_llm_tokens", "LLM tokens", ["kind"], registry=self.registry)
        self.runs = Counter("reasoner_runs", "Runs by routed tool and status", ["tool", "status"], registry=self.registry)
        self.errors = Counter("reasoner_errors", "Requests that ended in a 5xx", ["route"], registry=self.registry)
        self.servers = Gauge("reasoner_model_server_up", "1 when the model server a tool samples from answers (the tool "
                             "asks it for `model`; `server` is its URL, the same for tools that share it)",
                             ["tool", "model", "server"], registry=self.registry)

    def model_servers(self, statuses: list[ServerStatus]) -> None:
        """Each tool's model server as it is now (set when /metrics is read)."""
        self.servers.clear()
        for s in statuses:
            self.servers.labels(s.tool, s.name, s.url or "").set(1 if s.state == "up" else 0)

    def answered(self, answer: Answer) -> None:
        for node, seconds in answer.seconds.items():
            if node != "total":
                self.steps.labels(node).observe(seconds)
        for kind, n in answer.llm_tokens.items():
            self.tokens.labels(kind).inc(n)
        self.runs.labels(answer.tool or "unrouted", answer.status).inc()


class Slots:
    """Questions being answered at once: `take` refuses with a 503 when full, `wait` queues (batches)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self.freed = asyncio.Condition()

    def take(self) -> None:
        if self.used >= self.limit:
            raise HTTPException(503, f"the service is answering {self.used} questions, its limit; retry shortly")
        self.used += 1

    async def wait(self) -> None:
        async with self.freed:
            await self.freed.wait_for(lambda: self.used < self.limit)
            self.used += 1

    async def give(self) -> None:
        async with self.freed:
            self.used -= 1
            self.freed.notify()


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

    @staticmethod
    async def drain(past: list[dict], queue: asyncio.Queue):
        """The events so far, then each new one, up to (not including) `end`."""
        while (event := past.pop(0) if past else await queue.get())["node"] != "end":
            yield event


class AppState:
    """What every route shares."""

    def __init__(self, agents: dict[str, Agent], store: TraceStore, backend: Backend, limits: ApiLimits) -> None:
        self.agents, self.store, self.backend, self.limits = agents, store, backend, limits
        self.default_planner = next(iter(agents))
        self.metrics = Metrics()
        self.slots = Slots(limits.max_in_flight)
        self.events = RunEvents()
        self.jobs: dict = {}
        # Our own threads: a timed-out question is abandoned (it stops at its next step), not awaited.
        self.workers = ThreadPoolExecutor(limits.max_in_flight + 1, thread_name_prefix="answer")

    def agent_for(self, planner: str | None) -> Agent:
        if planner is None:
            return self.agents[self.default_planner]
        if planner not in self.agents:
            raise HTTPException(400, f"planner: {planner!r} is not served here; choose one of {', '.join(self.agents)}")
        return self.agents[planner]

    def task(self, question: str, tool: str | None = None, input: dict | None = None, where: str = "question") -> Task:
        """The task of a request, checked: a question of sane length, and an input that is the tool's."""
        if not question.strip():
            raise HTTPException(400, f"{where}: the question is empty")
        if len(question) > self.limits.max_question_chars:
            raise HTTPException(400, f"{where}: the question has {len(question)} characters; "
                                     f"at most {self.limits.max_question_chars} are accepted")
        if input is not None:
            try:
                check_input(input, tool)
            except ValueError as e:
                raise HTTPException(400, str(e)) from None
        return Task(question=question, tool=tool, input=input)

    def launch(self, agent: Agent, task: Task) -> tuple[str, asyncio.Task]:
        """Start a run whose slot is already taken; its events can be subscribed to at once."""
        run_id = self.store.start_run(task.question)
        self.events.open(run_id)
        work = asyncio.create_task(self._answer(agent, task, run_id))
        work.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are in the trace
        return run_id, work

    async def _answer(self, agent: Agent, task: Task, run_id: str) -> Answer:
        """Answer in a worker thread within the timeout, publishing step events; frees the slot at the end."""
        loop = asyncio.get_running_loop()
        publish = lambda event: loop.call_soon_threadsafe(self.events.publish, run_id, event)  # noqa: E731
        timeout = self.limits.timeout_seconds
        work = partial(answer_question, agent, self.store, task, run_id=run_id, on_event=publish,
                       deadline=time.monotonic() + timeout)
        try:
            answer = await asyncio.wait_for(loop.run_in_executor(self.workers, work), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            message = f"no answer within {timeout:g}s, the time allowed per question"
            self.store.finish_run(run_id, "error", [], {"error": message})
            raise HTTPException(504, message) from None
        except Exception as e:  # say what failed, record it, stay up
            if isinstance(e, LLMUnavailable):
                code, message = 502, f"the model server does not answer ({e}); it may be restarting: retry shortly, GET /healthz tells"
            elif isinstance(e, APIError):
                code, message = 502, f"the model server failed: {e}"
            else:
                log.exception("run %s failed", run_id)
                code, message = 500, f"the agent failed: {type(e).__name__}: {e}"
            self.store.finish_run(run_id, "error", [], {"error": message})
            raise HTTPException(code, message) from None
        finally:
            await self.slots.give()
            loop.call_soon(self.events.publish, run_id, {"trace_id": run_id, "node": "end"})
        self.metrics.answered(answer)
        return answer


def error(status: int, message: str, param: str | None = None) -> JSONResponse:
    kind = {401: "authentication_error", 503: "overloaded_error"}.get(status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": str(status)}}, status_code=status)
