"""OpenAI-compatible chat: the last user message is the task; the answer comes back as the assistant's
message, with the structured answer and its trace id alongside. Translated at the edge (protocol.py)."""

from __future__ import annotations

import asyncio
import time
from functools import partial

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from agent.api.protocol import MODEL_NAME, ChatCompletion, ChatRequest, Model, ModelList, answer_text, chunk, completion, sse, usage
from agent.api.state import SSE, AppState, errors, state

router = APIRouter(tags=["chat"])


@router.get("/v1/models", responses=errors())
def models() -> ModelList:
    return ModelList(data=[Model(id=MODEL_NAME)])


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={
    200: {"content": SSE, "description": "the completion; with `stream: true`, SSE chunks: one per agent step, "
                                         "the answer, then `data: [DONE]`"}} | errors(500, 502, 503, 504))
async def chat(request: ChatRequest, app: AppState = Depends(state)):
    users = [m.content for m in request.messages if m.role == "user" and m.content]
    if not users:
        raise HTTPException(400, "messages: expected at least one user message with content")
    task, agent = app.task(users[-1], request.tool), app.agent_for(request.planner)
    app.slots.take()
    run_id, work = app.launch(agent, task)
    if not request.stream:
        return completion(await work)
    return StreamingResponse(_chat_stream(app, run_id, work), media_type="text/event-stream")


async def _chat_stream(app: AppState, run_id: str, work: asyncio.Task):
    """SSE: a role chunk, one chunk per agent step (in `reasoner_event`), the answer, then [DONE]."""
    live = app.events.subscribe(run_id)
    delta = partial(chunk, f"chatcmpl-{run_id}", int(time.time()))
    yield delta({"role": "assistant", "content": ""})
    async for event in app.events.drain(*live):
        yield delta({}, reasoner_event={k: event[k] for k in ("trace_id", "seq", "node", "seconds")})
    try:
        answer = await work
    except HTTPException as e:  # shown to the client as an error object, not a dropped connection
        yield sse({"error": {"message": str(e.detail), "type": "server_error", "param": None, "code": str(e.status_code)}})
    else:
        yield delta({"content": answer_text(answer)}, trace_id=run_id)
        yield delta({}, "stop", trace_id=run_id, usage=usage(answer).model_dump(), reasoner=answer.model_dump(mode="json"))
    yield "data: [DONE]\n\n"
