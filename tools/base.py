"""The one interface every symbolic tool implements, and the types that cross it.

A tool frames a task (parse, link), proposes candidates (the LLM's part, every call recorded as an
`LLMCall`), executes a candidate symbolically, checks the result, and concludes with answers and
typed evidence, or, when no candidate passes, abstains with the reason and its evidence. The executor (agent/graph.py) drives any tool through these five methods; the LLM
client is passed in (the `LLM` protocol), so tools never import the agent.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

ToolName = str  # a registered tool's name (tools/registry.py): kg, logic, induce, regress, and any installed
Route = str  # a tool's name, or "none": no tool serves the message
# Every status a run can end with, in one place (traces, API and viewer read this list).
Status = Literal["running", "answered", "inferred", "not_in_graph", "undecided", "no_entity", "no_plan", "no_tool", "error"]
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
    """Samples from the served model; `agent.llm.client.LLMClient` is the implementation."""

    def sample(self, *, messages: list[dict] | None = None, prompt: str | list[str] | None = None, n: int = 1,
               temperature: float = 0.0, max_tokens: int = 64, constraint: Constraint | None = None,
               model: str | None = None) -> LLMCall: ...


# ---- what a tool is given, and what it gives back ------------------------------------------------


class Task(BaseModel):
    """A message to answer: its text, optionally the tool that must answer it and that tool's typed input."""

    question: str
    tool: ToolName | None = None
    input: dict[str, Any] | None = None  # the chosen tool's typed input (its spec's `input`, tools/registry.py)


class Pair(BaseModel):
    """A training pair for a tool's adapter: the prompt the tool sends, and the output it should get back."""

    prompt: str
    target: str
    source: str  # what made it (generated, a benchmark's training part): validation figures are given per source
    group: str  # the problem it comes from: validation holds out whole groups
    kind: str = ""  # what part of the problem (the logic translator's: premise, conclusion, asp)


class BatchItem(BaseModel):
    """One task of a batch file, read by its tool (`Files.read`): what to ask, and what the answer is scored by."""

    id: str  # its key in the output file (resume skips the ids already there)
    task: Task | None = None  # None when the item could not be read: `problem` says why, and that is its line
    gold: Any = None  # what the tool's record scores the answer against, when known
    problem: str | None = None
    notes: list[str] = []  # what reading it changed (rows dropped, ...)


class Check(BaseModel):
    name: str
    passed: bool
    detail: str


class Recognition(BaseModel):
    """What a tool sees of its kind of task in a message, for the router: whether it takes the message, what
    it saw (its signal, shown for every tool asked), why it takes it, and the checks that said so."""

    fits: bool
    signal: str
    reason: str = ""
    checks: list[Check] = []
    why_not: str | None = None  # said when no tool takes the message (the KG's: not a question of the graph)
    # Whether the message names something the tool grounds on (the KG's: an entity of the graph linked in it); the
    # learned router may not send a message to a tool that says False. None: the tool grounds on nothing named.
    anchored: bool | None = None


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
    """One candidate grounded and checked; the next round's `propose` reads the earlier ones."""

    candidate: str  # as the tool describes it
    proposed: Any = None  # the candidate as proposed, with its score
    result: Any = Field(None, exclude=True)  # the candidate executed, as the tool's own type (not in traces or answers)
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
    # "inferred": no candidate passed, and the tool concluded from weaker evidence it names (the KG's mined rules)
    status: Status = "answered"


Frame = TypeVar("Frame")  # a tool's reading of a task (the KG's linked topic; the logic problem; the data set)
Candidate = TypeVar("Candidate")  # what it proposes (a plan; a vote of translations; a pool of programs or forms)
Result = TypeVar("Result")  # a candidate executed (its grounding; the verdicts; the fits), the evidence it concludes with


class Tool(Protocol[Frame, Candidate, Result]):
    name: str
    max_proposals: int  # proposing rounds before the tool gives up

    def frame(self, task: Task) -> Frame | Refusal: ...

    # The earlier attempts (each with its typed result) and proposing rounds, first first: what to carry or avoid.
    def propose(self, frame: Frame, attempts: list[Attempt], earlier: list[Proposal]) -> Proposal: ...

    def describe(self, candidate: Candidate) -> str: ...  # one line, for attempts and feedback

    def execute(self, frame: Frame, candidate: Candidate) -> Result: ...

    def check(self, frame: Frame, candidate: Candidate, result: Result) -> list[Check]: ...

    def conclude(self, frame: Frame, candidate: Candidate, result: Result) -> Conclusion: ...

    # No candidate passed: why not; or what weaker evidence still concludes (a Conclusion with its own status).
    def abstain(self, frame: Frame, attempts: list[Attempt]) -> Refusal | Conclusion: ...


@dataclass(eq=False)
class Sampling:
    """The options of a tool whose LLM samples candidates beside a search of its own (induce, regress): with no
    LLM (None: no adapter shipped, no remote model), or `use_llm` off, the search proposes alone."""

    llm: LLM | None
    _: KW_ONLY
    model: str | None = None  # the served model to ask (default: the LLM's own)
    samples: int = 4  # candidates drawn per round
    temperature: float = 0.7
    max_tokens: int = 96
    use_llm: bool = True  # false also when there is no LLM

    def __post_init__(self) -> None:
        self.use_llm = self.use_llm and self.llm is not None
