"""The executor: a LangGraph state graph that routes a task to a tool, then plans, grounds and checks.

    START -> route --(no tool serves it)--> answer -> END
                   \\-> frame --(refused: no entity, bad input)--> answer
                              \\-> plan --(no candidate left)--> answer
                                        \\-> ground -> check --(passed)--> answer
                                                            \\-(failed, attempts left)--> plan

`route` picks the tool (an explicit one wins; otherwise the router reads the message). Every other
node calls the routed tool through its interface (tools/base.py): frame, propose, execute, check,
conclude. A candidate that fails a check goes back to `plan` with the failure as feedback, which tries
the next-best candidate, then asks the tool to propose again, up to `max_attempts` grounded candidates.
When none passes, the tool says why (`abstain`): for the KG, what the graph lacks for the best reading.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from agent.router import RouteDecision, Router
from tools.base import Attempt, Check, Conclusion, Proposal, Refusal, Status, Task, Tool
from tools.registry import capabilities


class AgentState(BaseModel):
    task: Task
    route: RouteDecision | None = None
    tool: str | None = None
    frame: Any = None  # the tool's framing of the task (KG: the linked topic and the masked question)
    proposals: list[Proposal] = []  # every proposing round, with its LLM calls
    candidates: list[Any] = []  # untried candidates, best first
    candidate: Any = None
    candidate_text: str = ""
    result: Any = None  # the candidate executed
    checks: list[Check] = []
    attempts: list[Attempt] = []
    feedback: list[str] = []  # why earlier candidates were rejected
    status: Status = "running"
    answers: list[str] = []
    message: str = ""
    conclusion: Conclusion | None = None


class AgentConfig(BaseModel):
    max_attempts: int = 3  # grounded candidates tried before giving up
    recursion_limit: int = 40


class Agent:
    """One compiled graph over the tools served; `run` answers a task, `stream` yields step events."""

    def __init__(self, tools: dict[str, Tool], config: AgentConfig | None = None) -> None:
        self.tools = tools
        self.router = Router(tools)
        self.config = config or AgentConfig()
        self.graph = self._build()

    @property
    def planner_name(self) -> str | None:
        """The KG tool's planner (llm | embedding), if the KG tool is served."""
        kg = self.tools.get("kg")
        return kg.planner.name if kg else None

    def _build(self):
        g = StateGraph(AgentState)
        for name in ("route", "frame", "plan", "ground", "check", "answer"):
            g.add_node(name, getattr(self, name))
        running = lambda to: lambda s: to if s.status == "running" else "answer"  # noqa: E731
        g.add_edge(START, "route")
        g.add_conditional_edges("route", running("frame"), ["frame", "answer"])
        g.add_conditional_edges("frame", running("plan"), ["plan", "answer"])
        g.add_conditional_edges("plan", lambda s: "ground" if s.candidate is not None else "answer", ["ground", "answer"])
        g.add_edge("ground", "check")
        g.add_conditional_edges("check", self.after_check, ["answer", "plan"])
        g.add_edge("answer", END)
        return g.compile()

    # ---- nodes ------------------------------------------------------------------------------

    def route(self, state: AgentState) -> dict:
        decision = self.router.route(state.task)
        update: dict[str, Any] = {"route": decision, "tool": decision.tool}
        if decision.tool == "none":
            return update | {"status": "no_tool", "message": f"{decision.reason}. This service answers: {capabilities()}."}
        if decision.tool not in self.tools:
            return update | {"status": "no_tool",
                             "message": f"this looks like a task for the {decision.tool} tool, which is not served here"}
        return update

    def frame(self, state: AgentState) -> dict:
        framed = self.tools[state.tool].frame(state.task)
        if isinstance(framed, Refusal):
            return {"status": framed.status, "message": framed.message}
        return {"frame": framed}

    def plan(self, state: AgentState) -> dict:
        tool = self.tools[state.tool]
        tried = {a.candidate for a in state.attempts}
        candidates = [c for c in state.candidates if tool.describe(c) not in tried]
        update: dict[str, Any] = {}
        if not candidates and len(state.proposals) < tool.max_proposals:
            proposal = tool.propose(state.frame, state.attempts, state.proposals)
            candidates = [c for c in proposal.candidates if tool.describe(c) not in tried]
            update["proposals"] = state.proposals + [proposal]
        if not candidates:
            return update | {"candidate": None, "candidates": []}
        return update | {"candidate": candidates[0], "candidate_text": tool.describe(candidates[0]), "candidates": candidates[1:]}

    def ground(self, state: AgentState) -> dict:
        return {"result": self.tools[state.tool].execute(state.frame, state.candidate)}

    def check(self, state: AgentState) -> dict:
        checks = self.tools[state.tool].check(state.frame, state.candidate, state.result)
        failed = [c for c in checks if not c.passed]
        answers = getattr(state.result, "answers", [])
        attempt = Attempt(candidate=state.candidate_text, proposed=state.candidate, result=state.result, answers=len(answers),
                          failed=[c.name for c in failed], checks=checks)
        update: dict[str, Any] = {"checks": checks, "attempts": state.attempts + [attempt]}
        if failed:
            update["feedback"] = state.feedback + [attempt.why()]
        return update

    def after_check(self, state: AgentState) -> str:
        if all(c.passed for c in state.checks):
            return "answer"
        return "plan" if len(state.attempts) < self.config.max_attempts else "answer"

    def answer(self, state: AgentState) -> dict:
        if state.status != "running":
            return {}
        tool = self.tools[state.tool]
        if state.checks and all(c.passed for c in state.checks):
            conclusion = tool.conclude(state.frame, state.candidate, state.result)
            return {"status": "answered", "answers": conclusion.answers, "message": conclusion.message, "conclusion": conclusion}
        refusal = tool.abstain(state.frame, state.attempts)
        if isinstance(refusal, Conclusion):  # inferred: answers from weaker evidence, said so by its status
            return {"status": refusal.status, "answers": refusal.answers, "message": refusal.message, "conclusion": refusal}
        return {"status": refusal.status, "answers": [], "message": refusal.message,
                "conclusion": Conclusion(answers=[], message=refusal.message, evidence=refusal.evidence)}

    # ---- running ------------------------------------------------------------------------------

    def stream(self, task: Task) -> Iterator[tuple[str, dict, float, dict]]:
        """(node, update, seconds, state before the update) for each step as it finishes, then
        ("end", final state, 0, final state)."""
        state = AgentState(task=task)
        values = dict(state)
        last = time.perf_counter()
        for chunk in self.graph.stream(state, stream_mode="updates", config={"recursion_limit": self.config.recursion_limit}):
            for node, update in chunk.items():
                now = time.perf_counter()
                before = dict(values)
                values.update(update or {})
                yield node, update or {}, now - last, before
                last = now
        yield "end", values, 0.0, values

    def run(self, task: Task) -> AgentState:
        final: dict = {}
        for node, update, _, _ in self.stream(task):
            if node == "end":
                final = update
        return AgentState.model_validate(final)

