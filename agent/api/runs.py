"""The native API: ask (answer now), runs (start in the background, follow live, read back), batch jobs."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from agent.api.protocol import AskRequest, BatchItem, BatchJob, BatchRequest, Started, sse
from agent.api.state import SSE, AppState, errors, state
from agent.runner import Answer
from agent.traces import RunRecord, RunSummary
from tools.base import STATUSES, Route

router = APIRouter(tags=["runs"])

@router.post("/api/ask", responses=errors(500, 502, 503, 504))
async def ask(request: AskRequest, app: AppState = Depends(state)) -> Answer:
    """Answer a task now: routed to a tool (or the one named), planned, grounded, checked."""
    task, agent = app.task(request.question, request.tool, request.input), app.agent_for(request.planner)
    app.slots.take()
    return await app.launch(agent, task)[1]


@router.post("/api/runs", status_code=202, responses=errors(503))
async def start(request: AskRequest, app: AppState = Depends(state)) -> Started:
    """Start answering and return the run id at once; follow it at /api/runs/{id}/events."""
    task, agent = app.task(request.question, request.tool, request.input), app.agent_for(request.planner)
    app.slots.take()
    return Started(trace_id=app.launch(agent, task)[0])


@router.get("/api/runs", responses=errors())
def runs(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**12),
         status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
         tool: Route | None = None, q: str | None = Query(None, description="text the question contains"),
         app: AppState = Depends(state)) -> list[RunSummary]:
    """Runs, newest first."""
    return app.store.runs(limit=limit, offset=offset, status=status, tool=tool, text=q)


@router.get("/api/runs/{run_id}/events", response_class=StreamingResponse,
            responses={200: {"content": SSE, "description": "server-sent events: each step, then `end`"}} | errors(404))
async def run_events(run_id: str, app: AppState = Depends(state)) -> StreamingResponse:
    """SSE of a run's steps: those done so far, then each as it finishes, then `end` with the result."""
    live = app.events.subscribe(run_id)
    if live is None:
        _found(app.store.run(run_id), f"no run with id {run_id!r}")
    return StreamingResponse(_run_stream(app, run_id, live), media_type="text/event-stream")


async def _run_stream(app: AppState, run_id: str, live):
    if live is not None:
        async for event in app.events.drain(*live):
            yield sse(event)
    record = app.store.run(run_id)
    if live is None:
        for step in record.steps:
            yield sse({"trace_id": run_id, "seq": step.seq, "node": step.node, "seconds": step.seconds, "output": step.output})
    yield sse({"trace_id": run_id, "node": "end", "status": record.status, "answers": record.answers,
               "error": (record.result or {}).get("error") if record.status == "error" else None})


@router.get("/api/runs/{run_id}", responses=errors(404))
def run(run_id: str, app: AppState = Depends(state)) -> RunRecord:
    """A run whole: its steps with their inputs, outputs and times, and the structured answer."""
    return _found(app.store.run(run_id), f"no run with id {run_id!r}")


@router.post("/api/batch", status_code=202, responses=errors())
async def batch(request: BatchRequest, app: AppState = Depends(state)) -> BatchJob:
    """Answer a small batch in the background; read its results as they finish at /api/batch/{id}."""
    if len(request.questions) > app.limits.max_batch:
        raise HTTPException(400, f"questions: at most {app.limits.max_batch} items are accepted, not {len(request.questions)}")
    tasks = [app.task(q, request.tool, where=f"questions.{i}") for i, q in enumerate(request.questions)]
    agent = app.agent_for(request.planner)
    job = BatchJob(id=uuid.uuid4().hex[:16], n=len(tasks))
    app.jobs[job.id] = job
    while len(app.jobs) > app.limits.max_jobs_kept:
        app.jobs.pop(next(iter(app.jobs)))
    work = asyncio.create_task(_run_batch(app, agent, job, tasks))
    work.add_done_callback(lambda t: t.cancelled() or t.exception())
    return job


async def _run_batch(app: AppState, agent, job: BatchJob, tasks) -> None:
    lanes = asyncio.Semaphore(app.limits.batch_concurrency)

    async def one(index: int, task) -> None:
        async with lanes:
            await app.slots.wait()  # a batch queues for capacity rather than failing
            run_id, work = app.launch(agent, task)
            try:
                answer = await work
                item = BatchItem(index=index, question=task.question, trace_id=run_id, status=answer.status,
                                 answers=answer.answers, message=answer.message)
            except HTTPException as e:
                item = BatchItem(index=index, question=task.question, trace_id=run_id, status="error", message=str(e.detail))
            job.results.append(item)

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tasks)))
    job.status = "done"


@router.get("/api/batch/{job_id}", responses=errors(404))
def batch_job(job_id: str, app: AppState = Depends(state)) -> BatchJob:
    return _found(app.jobs.get(job_id), f"no batch job with id {job_id!r} (the newest {app.limits.max_jobs_kept} are kept)")


def _found(value, message: str):
    """`value`, unless it is None: then a 404 with `message`."""
    if value is None:
        raise HTTPException(404, message)
    return value
