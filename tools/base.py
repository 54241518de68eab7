"""The one interface every symbolic tool implements, and the types that cross it.

A tool frames a task (parse, link), proposes candidates (the LLM's part, every call recorded as an
`LLMCall`), executes a candidate symbolically, checks the result, and concludes with answers and
typed evidence, or, when no candidate passes, abstains with the reason and its evidence. The executor (agent/graph.py) drives any tool through these five methods; the LLM
client is passed in (the `LLM` protocol), so tools never import the agent.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

ToolName = Literal["kg", "logic", "induce", "regress"]
Route = Literal["kg", "logic", "induce", "regress", "none"]  # "none": no tool serves the message
# Every status a run can end with, in one place (traces, API and viewer read this list).
Status = Literal["running", "answered", "not_in_graph", "undecided", "no_entity", "no_plan", "no_tool", "error"]
STATUSES: tuple[str, ...] = Status.__args__


# ---- the LLM, as tools see it ----------------------------------------------------------------


class Constraint(BaseModel):
    """Constrained decoding, as vLLM's structured outputs take it."""

    kind: Literal["json", "choice", "regex", "grammar"]
    value: Any  # a JSON schema, a list of choices, a regular expression, or an EBNF grammar


class LLMCall(BaseModel):
    """One request to the model server: what was sent, what came back, what it cost."""

    model: str
    messages: list[dict]  # the prompt as sent (a plain completion prompt is one message of role "prompt")
    raw: list[str]  # one output per sample
    logprobs: list[float] = []  # of each sample
    finish: list[str] = []  # why each sample ended: "stop", or "length" when cut at max_tokens
    constraint: str | None = None  # its kind
    usage: dict[str, int] = {}  # prompt_tokens, completion_tokens
    seconds: float = 0.0


class LLMUnavailable(RuntimeError):
    """The model server does not answer (down, restarting, unreachable): a tool may fall back, or fail."""


class LLM(Protocol):
    """Samples from the served model; `agent.llm.LLMClient` is the implementation."""

    def sample(self, *, messages: list[dict] | None = None, prompt: str | list[str] | None = None, n: int = 1,
               temperature: float = 0.0, max_tokens: int = 64, constraint: Constraint | None = None,
               model: str | None = None) -> LLMCall: ...


# ---- what a tool is given, and what it gives back ------------------------------------------------


class Task(BaseModel):
    """A message to answer: its text, optionally the tool that must answer it and that tool's typed input."""

    question: str
    tool: ToolName | None = None
    input: dict[str, Any] | None = None  # validated by the chosen tool (see tools.inputs)


class Check(BaseModel):
    name: str
    passed: bool
    detail: str


class Refusal(BaseModel):
    """A task the tool cannot take up or answer, with the status, the reason the answer gives, and the
    evidence for that reason (the reading tried, what the graph lacks)."""

    status: Status
    message: str
    evidence: Any = None


class Proposal(BaseModel):
    """Candidates from one proposing round, best first, and the LLM calls that made them."""

    by: str  # the proposer: "llm", "embedding", ...
    candidates: list[Any]
    calls: list[LLMCall] = []
    raw: list[str] = []  # what the proposer produced, as text (the model's outputs, or a search's scores)
    rejected: list[str] = []  # candidates the tool dropped before grounding, each with the reason
    degraded: str | None = None  # why a fallback proposer stood in for the usual one (the model server is down)
    seconds: float = 0.0


class Attempt(BaseModel):
    """One candidate grounded and checked."""

    candidate: str  # as the tool describes it
    proposed: Any = None  # the candidate as proposed, with its score
    answers: int
    failed: list[str]  # names of the checks it failed
    checks: list[Check] = []

    def why(self) -> str:
        """`candidate: check: detail; ...` for the checks it failed (feedback, and the reason no answer was given)."""
        return f"{self.candidate}: " + "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.passed)


class Conclusion(BaseModel):
    answers: list[str]
    message: str
    evidence: Any = None  # the tool's typed evidence, with a `kind` the viewer picks a renderer by


class Tool(Protocol):
    name: str
    max_proposals: int  # proposing rounds before the tool gives up

    def frame(self, task: Task) -> Any | Refusal: ...

    def propose(self, frame: Any, feedback: list[str], earlier: list[Proposal]) -> Proposal: ...  # earlier rounds first

    def describe(self, candidate: Any) -> str: ...  # one line, for attempts and feedback

    def execute(self, frame: Any, candidate: Any) -> Any: ...

    def check(self, frame: Any, candidate: Any, result: Any) -> list[Check]: ...

    def conclude(self, frame: Any, candidate: Any, result: Any) -> Conclusion: ...

    def abstain(self, frame: Any, attempts: list[Attempt]) -> Refusal: ...  # no candidate passed: why not
