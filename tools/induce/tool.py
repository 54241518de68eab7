"""The induction tool: programs are proposed, run on the examples in the sandbox, and the one that fits answers.

Hypothesis Search's design on the tool interface (tools/base.py). A proposal is a *pool* of programs:
the LLM's samples (under a grammar of the grid primitives for grid tasks, so they parse) and,
unless turned off, the enumerator's compositions (tools/induce/enumerator.py). With both on, the first
round is the enumerator's alone (the LLM joins it only when the search proposes nothing), so a task the
search solves costs no model call, and the LLM's first draw sees the search's closest program. Executing
the pool runs every program on every training input and every test input in one sandbox call
(tools/sandbox.py); a program is scored by the training pairs it reproduces, then by its size. One
that reproduces them all is applied to the test inputs. Otherwise the closest program and its first wrong
example go back to the LLM (`prompt.tried`, the format it is trained to refine from), and the next round
draws again (the enumerator goes a level deeper); after `max_proposals` rounds the tool says no program
fits, showing the closest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from tools import sandbox
from tools.base import Attempt, Check, Conclusion, Constraint, LLMCall, LLMUnavailable, Proposal, Refusal, Sampling, Task
from tools.induce import bottom_up, enumerator
from tools.induce.prompt import GRID_PRELUDE, VALUE_PRELUDE, program_grammar, program_prompt, tried
from tools.induce.task import InduceTask, TaskError, from_dict
from tools.induce.text import from_text

KEEP = 8  # programs kept as evidence besides the winner: the best of the rest


class Program(BaseModel):
    code: str  # an expression over the grid `x` (or the arguments `x0, x1, ...`), or a whole `def f(...)`
    by: Literal["llm", "enumerator"]

    def source(self, task: InduceTask) -> str:
        """The function the sandbox calls."""
        if self.code.lstrip().startswith("def "):
            return self.code
        names = "x" if task.kind == "grid" else ", ".join(f"x{k}" for k in range(len(task.train[0].inputs)))
        return f"def f({names}):\n    return {self.code}\n"


class Pool(BaseModel):
    programs: list[Program]
    round: int


class Checked(BaseModel):
    """One program run on the examples: what it gave, and which training pairs it reproduced."""

    program: Program
    outputs: list[Any]  # per training example (None on error)
    errors: list[str | None]
    passed: list[bool]
    predictions: list[Any] = []  # per test input
    size: int

    @property
    def score(self) -> tuple[int, int]:
        return sum(self.passed), -self.size


class InduceResult(BaseModel):
    """The induction tool's evidence: the examples, the closest programs with pass/fail per example, the winner."""

    kind: Literal["induce"] = "induce"  # the viewer's renderer
    task: InduceTask
    checked: list[Checked]  # best first; the winner, when there is one, is first
    tried: int  # programs run this round
    by: dict[str, int]  # programs per proposer
    solved_by: str | None = None
    predictions: list[Any] = []
    sandbox_calls: int = 0
    sandbox_seconds: float = 0.0

    @property
    def winner(self) -> Checked | None:
        return self.checked[0] if self.checked and all(self.checked[0].passed) else None


@dataclass(eq=False, kw_only=True)
class InduceTool(Sampling):
    name: ClassVar[str] = "induce"
    max_proposals: ClassVar[int] = 3  # rounds: depth-1 enumeration (and a first draw, without the enumerator); depth 2 and a draw with feedback; a last draw

    use_enumerator: bool = True
    search_seconds: float = 12.0  # the bottom-up search's budget on a value task
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)

    # ---- frame ------------------------------------------------------------------------------------

    def frame(self, task: Task) -> InduceTask | Refusal:
        try:
            if task.input:
                return from_dict(task.input, "task", "input")
            return from_text(task.question)
        except TaskError as e:
            return Refusal(status="undecided", message=f"cannot read the examples: {e}")

    # ---- propose ----------------------------------------------------------------------------------

    def propose(self, frame: InduceTask, attempts: list[Attempt], earlier: list[Proposal]) -> Proposal:
        round_ = len(earlier)
        # With both on, the search's first round runs alone: what it solves costs no model call, and what it does
        # not solve gives the model's first draw the closest program to refine. Its later draws follow.
        draw = round_ - 1 if self.use_llm and self.use_enumerator else round_
        found: list[str] = []
        if self.use_enumerator and round_ < 2:
            if frame.kind == "grid":
                found = enumerator.expressions(frame, depth=round_ + 1)
            elif round_ == 0:  # bottom-up search runs once, to its time budget
                found = bottom_up.search(frame, self.search_seconds)
        programs: list[Program] = []
        calls: list[LLMCall] = []
        degraded = None
        closest = [a.result.checked[0] for a in attempts[-1:] if isinstance(a.result, InduceResult) and a.result.checked]
        prompt = program_prompt(frame, [tried(frame, c.program.code, c.outputs, c.passed) for c in closest])
        if self.use_llm and prompt is not None and (draw >= 0 or not found):
            try:
                call = self._draw(frame, prompt, max(draw, 0))
            except LLMUnavailable as e:
                degraded = f"the model server is down ({e}): the enumerator proposes alone"
            else:
                calls.append(call)
                for code in dict.fromkeys(text.strip() for text in call.raw):
                    if code:
                        programs.append(Program(code=code, by="llm"))
        known = {p.code for p in programs}
        programs += [Program(code=e, by="enumerator") for e in found if e not in known]
        return Proposal(by="+".join(sorted({p.by for p in programs})) or "none", candidates=[Pool(programs=programs, round=round_)] if programs else [],
                        calls=calls, raw=[p.code for p in programs if p.by == "llm"], degraded=degraded,
                        seconds=round(sum(c.seconds for c in calls), 4))

    def _draw(self, frame: InduceTask, prompt: str, round_: int) -> LLMCall:
        grammar = program_grammar(frame)
        return self.llm.sample(prompt=prompt, n=self.samples,
                               temperature=self.temperature + 0.2 * round_, max_tokens=self.max_tokens,
                               constraint=Constraint(kind="grammar", value=grammar) if grammar else None, model=self.model)

    def describe(self, candidate: Pool) -> str:
        by = ", ".join(f"{sum(p.by == b for p in candidate.programs)} by the {b}" for b in ("llm", "enumerator")
                       if any(p.by == b for p in candidate.programs))
        return f"round {candidate.round + 1}: {len(candidate.programs)} programs ({by})"

    # ---- execute: every program on every example, in the sandbox ---------------------------------

    def execute(self, frame: InduceTask, candidate: Pool) -> InduceResult:
        inputs = [ex.inputs for ex in frame.train] + [ex.inputs for ex in frame.test]
        prelude = GRID_PRELUDE if frame.kind == "grid" else VALUE_PRELUDE
        batch = sandbox.run([p.source(frame) for p in candidate.programs], inputs, prelude=prelude, limits=self.limits)
        n = len(frame.train)
        checked = []
        for program, run in zip(candidate.programs, batch.runs):
            outputs = [r.value if r.error is None else None for r in run.results]
            errors = [r.error for r in run.results]
            passed = [errors[i] is None and outputs[i] == ex.output for i, ex in enumerate(frame.train)]
            checked.append(Checked(program=program, outputs=outputs[:n], errors=errors[:n], passed=passed,
                                   predictions=outputs[n:], size=enumerator.size(program.code)))
        ranked = sorted(checked, key=lambda c: c.score, reverse=True)
        best = ranked[0] if ranked else None
        solved = best is not None and all(best.passed)
        kept = ranked[:1 + KEEP] + [c for c in ranked[1 + KEEP:] if c.program.by == "llm"][:KEEP]
        by = {b: sum(p.by == b for p in candidate.programs) for b in ("llm", "enumerator")}
        return InduceResult(task=frame, checked=kept, tried=len(checked), by={k: v for k, v in by.items() if v},
                            solved_by=best.program.by if solved else None,
                            predictions=best.predictions if solved else [], sandbox_calls=batch.calls,
                            sandbox_seconds=batch.seconds)

    # ---- check, conclude, abstain ----------------------------------------------------------------

    def check(self, frame: InduceTask, candidate: Pool, result: InduceResult) -> list[Check]:
        n = len(frame.train)
        if result.winner:
            fitting = sum(all(c.passed) for c in result.checked)
            return [Check(name="fits", passed=True,
                          detail=f"{result.winner.program.code!r} reproduces all {n} examples ({fitting} of the {result.tried} programs run do)")]
        best = result.checked[0] if result.checked else None
        detail = f"none of the {result.tried} programs reproduces all {n} examples"
        if best:
            detail += f"; the closest, {best.program.code!r}, reproduces {sum(best.passed)}: {miss(frame, best)}"
        return [Check(name="fits", passed=False, detail=detail)]

    def conclude(self, frame: InduceTask, candidate: Pool, result: InduceResult) -> Conclusion:
        winner = result.winner
        answers = [json.dumps(p) for p in result.predictions]
        shown = "; ".join(answers[:3]) + (" ..." if len(answers) > 3 else "")
        applied = f" Applied to the test input{'s' if len(answers) != 1 else ''}: {shown}." if answers else ""
        message = (f"The program {winner.program.code!r} (by the {winner.program.by}) reproduces all "
                   f"{len(frame.train)} examples.{applied}")
        return Conclusion(answers=answers, message=message, evidence=result)

    def abstain(self, frame: InduceTask, attempts: list) -> Refusal:
        tried = "; ".join(a.why() for a in attempts[-1:]) or "no program was proposed"
        return Refusal(status="undecided", message=f"No program fits the examples: {tried}.")


def miss(task: InduceTask, checked: Checked) -> str:
    """The first example a program gets wrong, in words (the feedback for the next round)."""
    for i, (ex, ok) in enumerate(zip(task.train, checked.passed)):
        if not ok:
            got = checked.errors[i] or json.dumps(checked.outputs[i])
            return f"on example {i + 1} it gives {_short(got)}, expected {_short(json.dumps(ex.output))}"
    return "it reproduces every example"


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
