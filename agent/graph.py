"""The agent: a LangGraph state graph that links, plans, grounds, checks and answers.

    START -> link --(no entity)--> answer -> END
                  \\-> plan --(no plan left)--> answer
                        \\-> ground -> check --(passed)--> answer
                                             \\-(failed, attempts left)--> plan

Nodes are plain functions of the state; a plan that grounds to nothing or fails a check goes
back to `plan` with the failure recorded as feedback, which tries the next-best plan, then asks
the model again, up to `max_attempts` grounded plans.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from agent.checks import AnswerKinds, Check, check_grounding
from agent.planner import Planner, RankedPlan
from kg.linking import LinkCandidate
from kg.paths import PathResult, execute_plan

Status = Literal["running", "answered", "no_entity", "no_plan"]


class AgentState(BaseModel):
    question: str
    topic: str | None = None
    link_candidates: list[LinkCandidate] = []
    masked_question: str = ""
    candidates: list[RankedPlan] = []  # the planner's untried plans, best first
    planner_calls: int = 0
    llm: list[dict] = []  # each planner call: prompt, raw outputs, seconds
    attempts: list[dict] = []  # each grounded plan: plan, answers count, checks
    feedback: list[str] = []  # why earlier plans were rejected
    plan: list[str] = []
    grounding: PathResult | None = None
    checks: list[Check] = []
    status: Status = "running"
    answers: list[str] = []
    message: str = ""


class AgentConfig(BaseModel):
    max_attempts: int = 3  # grounded plans tried before giving up
    max_planner_calls: int = 2
    replan_samples: int = 4  # samples drawn when asking the model again
    max_witnesses: int = 3
    recursion_limit: int = 40


class Agent:
    """One compiled graph over a planner; `run` answers a question, `stream` yields step events."""

    def __init__(self, planner: Planner, kinds: AnswerKinds | None = None, config: AgentConfig | None = None) -> None:
        self.planner = planner  # an LLM `Planner` or an `EmbeddingPlanner`: link, propose, schema, kg
        self.planner_name = planner.name
        self.kg = planner.kg
        self.schema = planner.schema
        self.kinds = kinds
        self.config = config or AgentConfig()
        self.graph = self._build()

    def _build(self):
        g = StateGraph(AgentState)
        g.add_node("link", self.link)
        g.add_node("plan", self.plan)
        g.add_node("ground", self.ground)
        g.add_node("check", self.check)
        g.add_node("answer", self.answer)
        g.add_edge(START, "link")
        g.add_conditional_edges("link", lambda s: "plan" if s.topic else "answer", ["plan", "answer"])
        g.add_conditional_edges("plan", lambda s: "ground" if s.plan else "answer", ["ground", "answer"])
        g.add_edge("ground", "check")
        g.add_conditional_edges("check", self.after_check, ["answer", "plan"])
        g.add_edge("answer", END)
        return g.compile()

    # ---- nodes ------------------------------------------------------------------------------

    def link(self, state: AgentState) -> dict:
        links, masked_question = self.planner.link(state.question)
        if not links:
            return {"status": "no_entity", "message": "no entity of the knowledge graph found in the question"}
        return {"topic": links[0].entity, "link_candidates": links, "masked_question": masked_question}

    def plan(self, state: AgentState) -> dict:
        tried = [a["plan"] for a in state.attempts]
        candidates = [c for c in state.candidates if c.plan not in tried]
        update: dict[str, Any] = {}
        if not candidates and state.planner_calls < self.config.max_planner_calls:
            again = state.planner_calls > 0  # replanning: sample more widely
            started = time.perf_counter()
            proposal = self.planner.propose(state.masked_question, state.topic,
                                            samples=self.config.replan_samples if again else None,
                                            temperature=1.0 if again else None)
            candidates = [c for c in proposal.candidates if c.plan not in tried]
            update["planner_calls"] = state.planner_calls + 1
            update["llm"] = state.llm + [{"planner": self.planner_name, "messages": proposal.messages, "raw": proposal.raw, "usage": proposal.usage,
                                          "seconds": round(time.perf_counter() - started, 4)}]
        if not candidates:
            update |= {"plan": [], "candidates": [], "status": "no_plan",
                       "message": "no plan grounded and passed the checks" + (f": {'; '.join(state.feedback)}" if state.feedback else "")}
            return update
        return update | {"plan": candidates[0].plan, "candidates": candidates[1:]}

    def ground(self, state: AgentState) -> dict:
        result = execute_plan(self.kg, [state.topic], state.plan, max_witnesses=self.config.max_witnesses)
        return {"grounding": result}

    def check(self, state: AgentState) -> dict:
        checks = check_grounding(state.question, state.grounding, self.schema, self.kinds)
        failed = [c for c in checks if not c.passed]
        attempt = {"plan": state.plan, "answers": len(state.grounding.answers), "failed": [c.name for c in failed]}
        update: dict[str, Any] = {"checks": checks, "attempts": state.attempts + [attempt]}
        if failed:
            update["feedback"] = state.feedback + [f"{' -> '.join(state.plan)}: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)]
        return update

    def after_check(self, state: AgentState) -> str:
        if all(c.passed for c in state.checks):
            return "answer"
        return "plan" if len(state.attempts) < self.config.max_attempts else "answer"

    def answer(self, state: AgentState) -> dict:
        if state.status != "running":
            return {}
        if state.checks and all(c.passed for c in state.checks):
            return {"status": "answered", "answers": state.grounding.answers,
                    "message": f"{len(state.grounding.answers)} answer(s) via {' -> '.join(state.plan)}"}
        return {"status": "no_plan", "answers": [],
                "message": "no plan grounded and passed the checks: " + "; ".join(state.feedback)}

    # ---- running ------------------------------------------------------------------------------

    def stream(self, question: str) -> Iterator[tuple[str, dict, float, dict]]:
        """(node, update, seconds, state before the update) for each step as it finishes, then
        ("end", final state, 0, final state)."""
        state = AgentState(question=question)
        values = state.model_dump()
        last = time.perf_counter()
        for chunk in self.graph.stream(state, stream_mode="updates", config={"recursion_limit": self.config.recursion_limit}):
            for node, update in chunk.items():
                now = time.perf_counter()
                before = dict(values)
                values.update(update or {})
                yield node, update or {}, now - last, before
                last = now
        yield "end", values, 0.0, values

    def run(self, question: str) -> AgentState:
        final: dict = {}
        for node, update, _, _ in self.stream(question):
            if node == "end":
                final = update
        return AgentState.model_validate(final)
