"""Run the agent on a task with its trace recorded: the one entry point the CLI and the API share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field

from agent.graph import Agent, AgentState
from agent.router import RouteDecision
from agent.telemetry import RunSpans
from agent.traces import TraceStore
from kg.linking import LinkCandidate
from kg.paths import Edge
from tools.base import Attempt, Check, Route, Status, Task
from tools.kg.tool import KGGrounding
from tools.registry import registered

# Each registered tool's evidence, told apart by its `kind`.
Grounding = Annotated[Union[tuple(s.result for s in registered().values() if s.result)], Field(discriminator="kind")]  # noqa: UP007

# What each node reads, recorded as the step's input.
STEP_INPUTS = {
    "route": ["task"],
    "frame": ["task", "tool"],
    "plan": ["feedback"],
    "ground": ["candidate"],
    "check": ["candidate_text"],
    "answer": ["status"],
}


class Answer(BaseModel):
    """The structured answer: which tool answered, what it concluded, and the evidence for it."""

    id: str | None = None
    question: str
    tool: Route | None  # the routed tool (kg, logic, induce, regress, or an installed one), or none
    status: Status
    answers: list[str]  # ranked, best supported first
    message: str
    grounding: Grounding | None = None  # the tool's typed evidence, by its `kind`
    checks: list[Check]
    attempts: list[Attempt]
    route: RouteDecision | None = None
    trace_id: str
    seconds: dict[str, float]  # per node, summed over visits; "total"
    llm_tokens: dict[str, int] = {}  # prompt and completion tokens over every LLM call of the run
    # The KG tool's fields, as clients read them before there were other tools.
    topic: str | None = None
    topics: list[str] = []  # the entities the plan runs from: the topic, and for a conjunctive plan a second one
    plan: list[str] = []
    evidence: dict[str, list[list[Edge]]] = {}  # answer -> witness paths from the topic
    link_candidates: list[LinkCandidate] = []
    planner: str | None = None  # which planner proposed the plans: llm | embedding
    degraded: bool = False  # a fallback planner stood in for the usual one (the model server was down); see `message`


def answer_question(
    agent: Agent,
    store: TraceStore | None,
    question: str | Task,
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
    task = question if isinstance(question, Task) else Task(question=question)
    started = time.perf_counter()
    trace_id = run_id or (store.start_run(task.question) if store else "")
    values: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    spans = RunSpans(task.question, trace_id)
    seq, tool = 0, task.tool
    try:
        for node, update, elapsed, before in agent.stream(task):
            if node == "end":
                values = update
                break
            seq += 1
            seconds[node] = seconds.get(node, 0.0) + elapsed
            tool = update.get("tool", tool)
            step_input = {k: _plain(before.get(k)) for k in STEP_INPUTS.get(node, [])}
            step_output = {k: _plain(v) for k, v in update.items()}
            if store:
                store.add_step(trace_id, seq, node, time.time() - elapsed, elapsed, step_input, step_output)
            spans.step(node, elapsed, update, tool)
            if on_event:
                on_event({"trace_id": trace_id, "seq": seq, "node": node, "seconds": round(elapsed, 4), "output": step_output})
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"stopped after the {node} step: the time allowed per question ran out")
    except BaseException as e:
        spans.finish("error", tool, [], error=f"{type(e).__name__}: {e}")
        raise
    state = AgentState.model_validate(values)
    seconds["total"] = time.perf_counter() - started
    result = _answer(agent, state, question_id, trace_id, seconds)
    if store:
        store.finish_run(trace_id, state.status, state.answers, result, tool=state.tool)
    spans.finish(state.status, state.tool, state.answers)
    return result


def _answer(agent: Agent, state: AgentState, question_id: str | None, trace_id: str, seconds: dict[str, float]) -> Answer:
    calls = [call for proposal in state.proposals for call in proposal.calls]
    answer = Answer(
        id=question_id, question=state.task.question, tool=state.tool, status=state.status, answers=state.answers,
        message=state.message, grounding=state.conclusion.evidence if state.conclusion else None, checks=state.checks,
        attempts=state.attempts, route=state.route, trace_id=trace_id, seconds={k: round(v, 4) for k, v in seconds.items()},
        llm_tokens={kind: sum(c.usage.get(kind, 0) for c in calls) for kind in ("prompt_tokens", "completion_tokens")},
    )
    degraded = next((p.degraded for p in state.proposals if p.degraded), None)
    if degraded:
        answer.degraded = True
        answer.message += f" (degraded: {degraded})"
    if state.tool == "kg":
        answer.planner = state.proposals[-1].by if state.proposals else agent.planner_name
        answer.link_candidates = getattr(state.frame, "link_candidates", [])
        answer.topic = getattr(state.frame, "topic", None)
        if isinstance(answer.grounding, KGGrounding):
            answer.plan, answer.evidence = answer.grounding.plan, answer.grounding.witnesses
            answer.topics = answer.grounding.topics or [answer.grounding.topic]
    return answer


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
