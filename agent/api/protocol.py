"""What crosses the wire: OpenAI's chat protocol (the part the service speaks), the native requests,
batch jobs and the error object, as pydantic models. Translation to and from the agent happens here."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.runner import Answer
from tools.base import Status
from tools.registry import evidence_lines, input_shapes, registered

ToolName = Literal[tuple(registered())]  # the registered tools, plugins included (an enum in the OpenAPI document)

MODEL_NAME = "reasoner"


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str


class ErrorResponse(BaseModel):
    """OpenAI's error object."""

    error: ErrorBody


# ---- native requests ---------------------------------------------------------------------------------


class AskRequest(BaseModel):
    question: str  # the message; for a typed input, what is asked of it
    tool: ToolName | None = None  # the tool that must answer; routed from the message when absent
    input: dict[str, Any] | None = Field(None, description="the tool's typed input: " + input_shapes())
    planner: str | None = None  # the KG tool's planner: llm | embedding; the service's default when absent


class BatchRequest(BaseModel):
    questions: list[str] = Field(min_length=1)
    tool: ToolName | None = None
    planner: str | None = None


class BatchItem(BaseModel):
    index: int  # position in the request
    question: str
    trace_id: str
    status: Status
    answers: list[str] = []
    message: str = ""


class BatchJob(BaseModel):
    id: str
    status: Literal["running", "done"] = "running"
    n: int
    results: list[BatchItem] = []  # in the order they finished


class Started(BaseModel):
    trace_id: str


# ---- OpenAI chat -------------------------------------------------------------------------------------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | None = None


class ChatRequest(BaseModel):
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    tool: ToolName | None = None  # as in AskRequest; with the openai client, through extra_body
    planner: str | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_NAME
    choices: list[Choice]
    usage: Usage
    trace_id: str  # the run's trace: GET /api/runs/{trace_id}
    reasoner: Answer  # the structured answer


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "reasoner"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def completion(answer: Answer) -> ChatCompletion:
    return ChatCompletion(id=f"chatcmpl-{answer.trace_id}", created=int(time.time()),
                          choices=[Choice(message=AssistantMessage(content=answer_text(answer)))],
                          usage=usage(answer), trace_id=answer.trace_id, reasoner=answer)


def usage(answer: Answer) -> Usage:
    prompt, completion_ = answer.llm_tokens.get("prompt_tokens", 0), answer.llm_tokens.get("completion_tokens", 0)
    return Usage(prompt_tokens=prompt, completion_tokens=completion_, total_tokens=prompt + completion_)


def chunk(chunk_id: str, created: int, delta: dict, finish: str | None = None, **extra: Any) -> str:
    body = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_NAME,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return sse(body)


def sse(event: dict) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False, default=str)}\n\n"


def answer_text(answer: Answer, max_answers: int = 20) -> str:
    """The assistant message: the answers, then what they rest on (the answering tool's lines)."""
    if answer.status != "answered":
        return answer.message
    shown = ", ".join(answer.answers[:max_answers]) + (f" (and {len(answer.answers) - max_answers} more)"
                                                       if len(answer.answers) > max_answers else "")
    return "\n".join([shown, "", *evidence_lines(answer)])
