"""The router: which tool answers a task, decided before any tool runs, with the evidence recorded.

An explicit `tool` wins; then the shape of a typed `input`; otherwise each registered tool is asked, most
specific first (tools/registry.py), whether the message holds its kind of task: a table of numbers
(regress), input -> output examples (induce), premises with a question or conclusion (logic), an entity
marked in [brackets] or a question about a linked entity that reads like the graph's own questions (kg).
Those rules decide where they are certain. What they leave undecided goes to the learned router
(agent/route_model.py), which names a tool only above that tool's calibrated probability, and the KG only when
the KG tool linked an entity of the graph in the message. What neither takes is routed to `none`, which the
executor answers by saying what the service can do; it is never sent to the KG to be answered anyway.
"""

from __future__ import annotations

from pydantic import BaseModel

from agent.route_model import RouteModel
from tools.base import Check, Route, Task
from tools.registry import registered, tool_of_input


class RouteDecision(BaseModel):
    tool: Route
    explicit: bool = False  # named by the caller, not read from the text
    reason: str
    checks: list[Check] = []  # what the chosen route required, and whether the task had it
    signals: dict[str, str] = {}  # what was seen for each tool asked


class Router:
    """Routes tasks among the registered tools; a served tool recognises with what it holds (the KG tool: its
    entity linker and training questions)."""

    def __init__(self, tools: dict, model: RouteModel | None | bool = True) -> None:
        self.tools = tools
        self.model = RouteModel.load() if model is True else (model or None)  # False: the rules alone

    def route(self, task: Task) -> RouteDecision:
        if task.tool:
            return RouteDecision(tool=task.tool, explicit=True, reason=f"the caller asked for the {task.tool} tool")
        if task.input:
            tool = tool_of_input(task.input)
            if tool:
                return RouteDecision(tool=tool, reason=f"the input has the shape of the {tool} tool's input")
        signals: dict[str, str] = {}
        misses, checks, allowed = [], [], set()
        for name, spec in registered().items():
            seen = spec.recognise(task.question, self.tools.get(name))
            signals[name] = seen.signal
            if seen.fits:
                return RouteDecision(tool=name, reason=seen.reason, checks=seen.checks, signals=signals)
            if seen.why_not:
                misses.append(seen.why_not)
                checks += seen.checks
            # The learned router may send a message to a tool that grounds on something named (the KG: an entity) only
            # when the tool found it in the message.
            if seen.anchored is not False:
                allowed.add(name)
        why = f" ({'; '.join(misses)})" if misses else ""
        if self.model is not None and task.question.strip():
            tool, probability, probabilities = self.model.decide(task.question, allowed)
            signals["learned"] = ", ".join(f"{k} {v:.2f}" for k, v in sorted(probabilities.items(), key=lambda kv: -kv[1]))
            if tool != "none":
                learned = Check(name="learned router", passed=True,
                                detail=f"{tool} at {probability:.2f} (needs {self.model.thresholds[tool]:.2f})")
                return RouteDecision(tool=tool, reason=f"the learned router reads it as the {tool} tool's kind of task "
                                                       f"({probability:.0%}); the rules were not sure{why}",
                                     checks=[*checks, learned], signals=signals)
        return RouteDecision(tool="none", reason=f"no tool fits this message{why}", checks=checks, signals=signals)
