"""Run the agent on a question with its trace recorded: the one entry point the CLI and API share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from agent.checks import Check
from agent.graph import Agent, AgentState
from agent.traces import TraceStore
from kg.paths import Edge

# What each node reads, recorded as the step's input.
STEP_INPUTS = {
    "link": ["question"],
    "plan": ["masked_question", "topic", "feedback", "planner_calls"],
    "ground": ["topic", "plan"],
    "check": ["question", "plan"],
    "answer": ["status", "plan"],
}


class Answer(BaseModel):
    """The structured answer: what was concluded, from which plan, supported by which paths."""

    id: str | None = None
    question: str
    status: str  # answered | no_entity | no_plan
    answers: list[str]  # ranked: most supporting paths first
    topic: str | None
    plan: list[str]
    evidence: dict[str, list[list[Edge]]]  # answer -> witness paths from the topic
    checks: list[Check]
    attempts: list[dict]
    link_candidates: list[dict]
    message: str
    trace_id: str
    seconds: dict[str, float]  # per node, summed over visits; "total"
    llm_tokens: dict[str, int] = {}  # prompt and completion tokens over all planner calls
    planner: str = "llm"  # which planner proposed the plans: llm | embedding


def answer_question(
    agent: Agent,
    store: TraceStore | None,
    question: str,
    *,
    question_id: str | None = None,
    run_id: str | None = None,
    on_event: Callable[[dict], None] | None = None,
    deadline: float | None = None,
) -> Answer:
    """Run the graph, recording every step to `store` and passing step events to `on_event`.

    `run_id` is a run already started in `store` (so a caller can hand out its id before it ends).
    Past `deadline` (a `time.monotonic()` value) the run stops after the step in progress with
    `TimeoutError`, leaving the run for the caller to close.
    """
    started = time.perf_counter()
    trace_id = run_id or (store.start_run(question) if store else "")
    values: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    seq = 0
    for node, update, elapsed, before in agent.stream(question):
        if node == "end":
            values = update
            break
        seq += 1
        seconds[node] = seconds.get(node, 0.0) + elapsed
        step_input = {k: _plain(before.get(k)) for k in STEP_INPUTS.get(node, [])}
        step_output = {k: _plain(v) for k, v in update.items()}
        if store:
            store.add_step(trace_id, seq, node, time.time() - elapsed, elapsed, step_input, step_output)
        if on_event:
            on_event({"trace_id": trace_id, "seq": seq, "node": node, "seconds": round(elapsed, 4), "output": step_output})
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"stopped after the {node} step: the time allowed per question ran out")
    state = AgentState.model_validate(values)
    seconds["total"] = time.perf_counter() - started
    evidence = {a: state.grounding.witnesses.get(a, []) for a in state.answers} if state.grounding else {}
    result = Answer(
        id=question_id, question=question, status=state.status, answers=state.answers, topic=state.topic,
        plan=state.plan if state.status == "answered" else [], evidence=evidence, checks=state.checks,
        attempts=state.attempts, link_candidates=[c.model_dump() for c in state.link_candidates],
        message=state.message, trace_id=trace_id, seconds={k: round(v, 4) for k, v in seconds.items()},
        llm_tokens={kind: sum(call.get("usage", {}).get(kind, 0) for call in state.llm)
                    for kind in ("prompt_tokens", "completion_tokens")},
        planner=agent.planner_name,
    )
    if store:
        store.finish_run(trace_id, state.status, state.answers, result)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
