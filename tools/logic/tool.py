"""The logic tool: the LLM translates, the prover (or clingo) decides, the samples vote.

LINC's design on the tool interface (tools/base.py). One proposal is an *ensemble*: `samples`
translations of the whole problem, drawn sentence by sentence under a grammar, so every line parses
(tools/logic/translate.py). Executing it checks each translation before it may vote:

- parse: every line is a formula (ASP: an objects line, then conditions);
- conclusion: its formula is not a premise's read off another sentence (that would prove itself);
- names: one arity per name, and the conclusion (options) speaks the premises' vocabulary;
- consistency: the premises have a model (E finds no contradiction; clingo finds an answer set);
- decided: the prover answered (a time-out is not "Unknown"); for options, exactly one holds.

The translations that pass vote; the majority is the answer, with its proof. A proof counts before its absence:
True or False outvotes Unknown, which a translation that missed a link between its names also gives, so
Unknown wins only when no translation proves either way (`proofs_first`). The vote stops early: a majority's
worth is drawn first, and when they all agree on a proof the rest could not overturn them. Otherwise the
rest of the vote is drawn; when it still ties or nothing passes, a fresh vote is drawn, hotter (and when a
conclusion used predicates no premise has, its conclusions may use only the premises'; with `closed_conclusions`,
every draw's do); when that fails too, the tool says it cannot decide, with what it tried.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel

from tools.base import LLM, Attempt, Check, Conclusion, Constraint, LLMCall, Proposal, Refusal, Task
from tools.logic import prover
from tools.logic.asp import AspError, condition, entailed, objects, ordering_program, solve, unknown_objects
from tools.logic.fol import FormulaError, Node, parse, signature
from tools.logic.input import LogicInput
from tools.logic.problem import LogicProblem, choose, from_text
from tools.logic.symbols import unify
from tools.logic.translate import ASP_GBNF, FOL_GBNF, asp_prompt, conclusion_grammar, fol_prompt, vocabulary, words_grammar


class Sample(BaseModel):
    """One translation of the whole problem: a line per premise, and the conclusion's (FOL) or one
    condition per option (ASP)."""

    premises: list[str]
    conclusion: str | None = None
    options: dict[str, str] = {}
    finish: list[str] = []  # per line: "length" when the model was cut at max_tokens


class Ensemble(BaseModel):
    mode: Literal["fol", "asp"]
    samples: list[Sample]
    temperature: float  # of the samples drawn last
    needed: int = 0  # votes that settle it early (a majority of the whole vote); 0: the plurality of those drawn


class Outcome(BaseModel):
    """One sample checked and decided."""

    checks: list[Check]
    verdict: str | None = None  # True / False / Unknown, or an option's letter; None when a check failed
    calls: list[prover.Call] = []  # the prover's runs (FOL)
    proof: str = ""  # E's proof, or the answer set that clingo found
    new_predicates: list[str] = []  # predicates its conclusion uses that no premise has
    renamed: dict[str, str] = {}  # symbols made one vocabulary before proving (old -> new)
    seconds: float = 0.0


class LogicResult(BaseModel):
    """The logic tool's evidence: the problem, every translation with its checks and verdict, the vote."""

    kind: Literal["logic"] = "logic"  # the viewer's renderer
    mode: str
    why: str
    premises: list[str]
    conclusion: str | None = None
    options: list[tuple[str, str]] = []
    samples: list[Sample]
    outcomes: list[Outcome]
    votes: dict[str, int]
    answers: list[str]  # the majority, when there is one
    winner: int | None = None  # a sample that voted for it


class LogicTool:
    name = "logic"
    max_proposals = 3  # a majority's worth of translations, the rest of the vote, then a fresh vote drawn hotter

    def __init__(self, llm: LLM, *, model: str | None = None, samples: int = 5, temperature: float = 0.5,
                 seconds: float = 3.0, max_tokens: int = 160, unify: bool = True, symbols_first: bool = True,
                 proofs_first: bool = True, closed_conclusions: bool = False, properties: bool = False,
                 words: bool = False) -> None:
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"the logic tool's samples must be a whole number of at least 1, not {samples!r}")
        self.llm = llm
        self.model = model
        self.samples = samples
        self.temperature = temperature
        self.seconds = seconds  # per prover or solver call
        self.max_tokens = max_tokens
        self.unify = unify  # one vocabulary per translation before proving (tools/logic/symbols.py)
        self.symbols_first = symbols_first  # draft the premises, read the story's symbols off the drafts, translate again shown them
        # A verdict the prover proved (True, False) outvotes "Unknown", which a translation that missed a link
        # between its names also gives: "Unknown" wins only when no translation proves either way.
        self.proofs_first = proofs_first
        self.closed_conclusions = closed_conclusions  # conclusions may use only the premises' predicates from the first draw
        self.properties = properties  # before proving, `Love(x, animals)` is `LoveAnimals(x)` (tools/logic/symbols.py)
        self.words = words  # names only of the story's words (translate.words_grammar)

    # ---- frame ------------------------------------------------------------------------------------

    def frame(self, task: Task) -> LogicProblem | Refusal:
        try:
            if task.input:
                given = LogicInput.model_validate(task.input)
                options = [(chr(ord("A") + i), o) for i, o in enumerate(given.options or [])]
                return choose(given.premises, given.conclusion, options, premise_formulas=given.premises_fol,
                              conclusion_formula=given.conclusion_fol)
            return from_text(task.question)
        except ValueError as e:
            return Refusal(status="undecided", message=f"cannot read the problem: {e}")

    # ---- propose: an ensemble of translations ----------------------------------------------------

    def propose(self, frame: LogicProblem, attempts: list[Attempt], earlier: list[Proposal]) -> Proposal:
        """A vote of `samples` translations, drawn so that it can stop early: first a majority's worth (all
        agreeing settles it: the rest could not overturn them), then the rest; after that, a fresh vote drawn
        hotter, restricted to the premises' predicates when an earlier conclusion used others. Each ensemble
        carries the earlier samples of its vote."""
        majority = self.samples // 2 + 1
        carried = [s for p in earlier[-1:] for c in p.candidates for s in c.samples] if len(earlier) == 1 else []
        given = frame.premise_formulas is not None and frame.conclusion_formula is not None
        if given and earlier:
            return Proposal(by="llm", candidates=[])  # the prover alone: nothing to draw again
        if not earlier:
            count, needed, temperature = majority, (majority if self.samples > 1 and not given else 0), self.temperature
        elif len(earlier) == 1 and self.samples > majority:
            count, needed, temperature = self.samples - majority, 0, self.temperature
        else:
            count, needed, temperature = self.samples, 0, self.temperature + 0.3 * len(earlier)
        # The conclusions may use only the premises' predicates: always with closed_conclusions, else once a conclusion used others.
        strayed = any(o.new_predicates for a in attempts if isinstance(a.result, LogicResult) for o in a.result.outcomes)
        restrict = self.closed_conclusions or strayed
        samples, calls = self.draw(frame, count, temperature, restrict)
        ensemble = Ensemble(mode=frame.mode, samples=carried + samples, temperature=temperature, needed=needed)
        return Proposal(by="llm", candidates=[ensemble], calls=calls, raw=[_render(s) for s in samples],
                        seconds=round(sum(c.seconds for c in calls), 4))

    def draw(self, frame: LogicProblem, count: int, temperature: float, restrict: bool) -> tuple[list[Sample], list[LLMCall]]:
        """`count` translations of the whole problem, each line under the grammar."""
        calls = []
        if frame.mode == "asp":
            texts = frame.premises + [text for _, text in frame.options]
            call = self._call([asp_prompt(s) for s in texts], ASP_GBNF, temperature, count)
            calls.append(call)
            size = len(frame.premises)
            return [Sample(premises=ls[:size], options={letter: ls[size + i] for i, (letter, _) in enumerate(frame.options)},
                           finish=fs) for ls, fs in _by_sample(call, len(texts), count)], calls
        if frame.premise_formulas is not None:  # given: translate at most the conclusion
            if frame.conclusion_formula is not None:
                return [Sample(premises=frame.premise_formulas, conclusion=frame.conclusion_formula)], calls
            samples = [Sample(premises=frame.premise_formulas) for _ in range(count)]
        else:
            call = self._call([fol_prompt(s) for s in frame.premises], self._grammar(frame), temperature, count)
            calls.append(call)
            samples = [Sample(premises=ls, finish=fs) for ls, fs in _by_sample(call, len(frame.premises), count)]
            table = self._symbols(samples, frame) if self.symbols_first and len(frame.premises) > 1 else None
            if table:  # the story's symbols, read off these drafts: every premise again, shown them
                call = self._call([fol_prompt(s, table) for s in frame.premises], self._grammar(frame), temperature, count)
                calls.append(call)
                samples = [Sample(premises=ls, finish=fs) for ls, fs in _by_sample(call, len(frame.premises), count)]
        # The conclusion, once per sample, shown the names its premises use (a sample that does not parse: none).
        # `restrict`: only the premises' predicates.
        names = [_names(s.premises) for s in samples]
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            if n is not None:
                groups.setdefault(self._grammar(frame, conclusion_grammar(n) if restrict else FOL_GBNF), []).append(i)
        for grammar, asked in groups.items():
            call = self._call([fol_prompt(frame.conclusion or "", names[i]) for i in asked], grammar, temperature, 1)
            calls.append(call)
            for i, text, finish in zip(asked, call.raw, call.finish):
                samples[i].conclusion, samples[i].finish = text.strip(), samples[i].finish + [finish]
        return samples, calls

    def _symbols(self, drafts: list[Sample], frame: LogicProblem) -> str | None:
        """The story's symbols from draft translations of its premises, made one vocabulary: the predicates two
        drafts agree on (all of them, from a single draft) and the constants, as a `Names:` line."""
        formulas = []
        for draft in drafts:
            for line in draft.premises:
                try:
                    formulas.append(parse(line))
                except FormulaError:
                    continue
        if not formulas:
            return None
        unified, _ = unify(formulas, " ".join(frame.premises), _embed) if self.unify else (formulas, {})
        uses: Counter[str] = Counter()
        for formula in unified:
            try:
                uses.update(f"{key}/{arity}" for key, arity in signature(formula).items())
            except FormulaError:
                continue  # one name with two arities in one line: that draft's line names nothing
        least = 2 if len(drafts) > 1 else 1
        kept = [k for k, n in uses.items() if n >= least or k.startswith("const ")]
        predicates = sorted(f"{k.split(' ', 1)[1].rsplit('/', 1)[0]}/{k.rsplit('/', 1)[1]}" for k in kept if k.startswith("pred "))
        constants = sorted(k.split(" ", 1)[1].rsplit("/", 1)[0] for k in kept if k.startswith("const "))
        return ", ".join(predicates + constants) or None

    def _grammar(self, frame: LogicProblem, grammar: str = FOL_GBNF) -> str:
        return words_grammar([*frame.premises, frame.conclusion or ""], grammar) if self.words else grammar

    def _call(self, prompts: list[str], grammar: str, temperature: float, n: int) -> LLMCall:
        return self.llm.sample(prompt=prompts, n=n, temperature=temperature, max_tokens=self.max_tokens,
                               constraint=Constraint(kind="grammar", value=grammar), model=self.model)

    def describe(self, candidate: Ensemble) -> str:
        settle = f", settled by {candidate.needed} agreeing" if candidate.needed else ""
        return f"{len(candidate.samples)} {candidate.mode.upper()} translations at temperature {candidate.temperature:g}{settle}"

    # ---- execute: check and decide every sample, then vote -----------------------------------------

    def execute(self, frame: LogicProblem, candidate: Ensemble) -> LogicResult:
        decided: dict[str, Outcome] = {}  # equal translations are decided once
        outcomes = []
        for sample in candidate.samples:
            key = _render(sample)
            if key not in decided:
                decided[key] = self._decide_asp(sample) if frame.mode == "asp" else self._decide_fol(sample, frame)
            outcomes.append(decided[key])
        ranked = Counter(o.verdict for o in outcomes if o.verdict is not None).most_common()
        answer = vote([o.verdict for o in outcomes], needed=candidate.needed, proofs_first=self._proofs_first(frame))
        return LogicResult(mode=frame.mode, why=frame.why, premises=frame.premises, conclusion=frame.conclusion,
                           options=frame.options, samples=candidate.samples, outcomes=outcomes, votes=dict(ranked),
                           answers=[answer] if answer else [],
                           winner=next((i for i, o in enumerate(outcomes) if o.verdict == answer), None) if answer else None)

    def _decide_fol(self, sample: Sample, frame: LogicProblem) -> Outcome:
        checks = []
        try:
            premises = [parse(p) for p in sample.premises]
            conclusion = parse(sample.conclusion or "")
        except FormulaError as e:
            cut = " (cut at max_tokens)" if "length" in sample.finish else ""
            return Outcome(checks=[Check(name="parse", passed=False, detail=f"{e}{cut}")])
        checks.append(Check(name="parse", passed=True, detail=f"{len(premises)} premises and the conclusion parse"))
        if frame.conclusion_formula is None:
            restated = _restated(frame.premises, premises, frame.conclusion or "", conclusion)
            checks.append(Check(name="conclusion", passed=restated is None,
                                detail=restated or "the conclusion is not a premise's formula read off another sentence"))
            if restated:
                return Outcome(checks=checks)
        renamed: dict[str, str] = {}
        if self.unify:
            formulas, renamed = unify([*premises, conclusion], " ".join([*frame.premises, frame.conclusion or ""]), _embed,
                                      properties=self.properties)
            *premises, conclusion = formulas
            detail = "; ".join(f"{old} → {new}" for old, new in renamed.items()) or "nothing to rename"
            checks.append(Check(name="symbols", passed=True, detail=f"one vocabulary: {detail}"))
        problem, new = _names_check(premises, conclusion)
        checks.append(Check(name="names", passed=problem is None, detail=problem or "one arity per name; the conclusion uses the premises' predicates"))
        if problem:
            return Outcome(checks=checks, new_predicates=new)
        consistency = prover.consistent(premises, self.seconds)
        calls = [consistency]
        if consistency.status == "Unsatisfiable":
            checks.append(Check(name="consistency", passed=False, detail="the premises contradict each other (E derives false)"))
            return Outcome(checks=checks, calls=calls, proof=consistency.proof, seconds=consistency.seconds)
        if consistency.status.startswith("Error"):
            checks.append(Check(name="consistency", passed=False, detail=f"E could not read the problem ({consistency.status})"))
            return Outcome(checks=checks, calls=calls, seconds=consistency.seconds)
        checks.append(Check(name="consistency", passed=True, detail=f"E finds no contradiction ({consistency.status})"))
        verdict = prover.decide(premises, conclusion, self.seconds)
        calls += verdict.calls
        seconds = round(sum(c.seconds for c in calls), 3)
        timed_out = [c.goal for c in verdict.calls if c.status not in ("Theorem", "CounterSatisfiable")]
        if verdict.label == "Unknown" and timed_out:
            statuses = ", ".join(f"{c.goal}: {c.status}" for c in verdict.calls)
            checks.append(Check(name="decided", passed=False, detail=f"the prover could not settle it within {self.seconds:g} s ({statuses})"))
            return Outcome(checks=checks, calls=calls, seconds=seconds)
        checks.append(Check(name="decided", passed=True, detail=_label_detail(verdict.label)))
        proof = next((c.proof for c in verdict.calls if c.status == "Theorem"), "")
        return Outcome(checks=checks, verdict=verdict.label, calls=calls, proof=proof, seconds=seconds, renamed=renamed)

    def _decide_asp(self, sample: Sample) -> Outcome:
        checks = []
        try:
            names = objects(sample.premises[0])
            conditions = sample.premises[1:]
            if any(c.startswith("obj(") for c in [*conditions, *sample.options.values()]):
                raise AspError("only the first line lists objects; the others are conditions")
            program = ordering_program(sample.premises[0], conditions)
            for option in sample.options.values():
                condition(option)
        except AspError as e:
            return Outcome(checks=[Check(name="parse", passed=False, detail=str(e))])
        checks.append(Check(name="parse", passed=True, detail=f"{len(names)} objects, {len(conditions)} conditions"))
        strangers = sorted({o for c in [*conditions, *sample.options.values()] for o in unknown_objects(c, names)})
        checks.append(Check(name="names", passed=not strangers,
                            detail=f"not among the objects: {', '.join(strangers)}" if strangers else "every condition names listed objects"))
        if strangers:
            return Outcome(checks=checks)
        try:
            solved = solve(program, models=1, seconds=self.seconds)
        except AspError as e:
            return Outcome(checks=checks + [Check(name="consistency", passed=False, detail=f"clingo: {e}")])
        if not solved.satisfiable:
            detail = "the statements exclude every order" if solved.satisfiable is False else f"clingo ran out of {self.seconds:g} s"
            return Outcome(checks=checks + [Check(name="consistency", passed=False, detail=detail)], seconds=solved.seconds)
        checks.append(Check(name="consistency", passed=True, detail="an order satisfies every statement"))
        held = [letter for letter, condition in sample.options.items() if entailed(program, condition, self.seconds)]
        passed = len(held) == 1
        checks.append(Check(name="decided", passed=passed,
                            detail=f"{held[0]} holds in every order" if passed else f"options holding in every order: {held or 'none'}"))
        return Outcome(checks=checks, verdict=held[0] if passed else None, proof=program + "\n% an order: " + " ".join(solved.first),
                       seconds=solved.seconds)

    def _proofs_first(self, frame: LogicProblem) -> bool:
        return self.proofs_first and frame.mode == "fol"  # options (ASP) have no Unknown to outvote

    # ---- check, conclude, abstain ----------------------------------------------------------------

    def check(self, frame: LogicProblem, candidate: Ensemble, result: LogicResult) -> list[Check]:
        passed = [o for o in result.outcomes if o.verdict is not None]
        reasons = Counter(f"{c.name}: {c.detail}" for o in result.outcomes for c in o.checks if not c.passed)
        dropped = "; ".join(f"{r} (×{n})" for r, n in reasons.most_common(3))
        checks = [Check(name="translations", passed=bool(passed),
                        detail=f"{len(passed)} of {len(result.outcomes)} translations passed the checks" + (f"; dropped: {dropped}" if dropped else ""))]
        if passed:
            votes = ", ".join(f"{k} {v}" for k, v in result.votes.items())
            if not candidate.needed:
                unsettled = " (a tie)"
            elif self._proofs_first(frame) and set(result.votes) == {"Unknown"}:
                unsettled = " (no proof yet: the rest of the vote is drawn)"
            else:
                unsettled = f" (not {candidate.needed} agreeing: the rest of the vote is drawn)"
            checks.append(Check(name="vote", passed=bool(result.answers), detail=f"votes: {votes}" + ("" if result.answers else unsettled)))
        return checks

    def conclude(self, frame: LogicProblem, candidate: Ensemble, result: LogicResult) -> Conclusion:
        answer = result.answers[0]
        share = f"{result.votes[answer]} of {len(result.outcomes)} translations"
        if frame.mode == "asp":
            text = dict(frame.options)[answer]
            message = f"{answer}) {text} — it holds in every order the statements allow ({share})."
        else:
            unproved = result.votes.get("Unknown", 0) if answer != "Unknown" else 0
            message = f"{answer}: {_label_detail(answer)} ({share}" + (f"; {unproved} found no proof either way" if unproved else "") + ")."
        return Conclusion(answers=[answer], message=message, evidence=result)

    def abstain(self, frame: LogicProblem, attempts: list) -> Refusal:
        tried = "; ".join(a.why() for a in attempts) or "no translation was proposed"
        return Refusal(status="undecided", message=f"The problem could not be decided: {tried}.")


def vote(verdicts: list[str | None], *, needed: int = 0, proofs_first: bool = False, least: int = 1) -> str | None:
    """The answer of a vote (a verdict per translation, None for one that failed a check), or None when it is not
    settled: a tie, no verdict, fewer than `needed` agreeing, or, while `needed`, only Unknown with proofs first (the
    rest of the vote may still prove it). With proofs first, True or False outvotes Unknown when at least `least`
    translations give it."""
    ranked = Counter(v for v in verdicts if v is not None).most_common()
    pool = ([(k, n) for k, n in ranked if k != "Unknown" and n >= least] if proofs_first else []) or ranked
    if not pool or (len(pool) > 1 and pool[0][1] == pool[1][1]):
        return None
    answer, count = pool[0]
    return None if count < needed or (needed and proofs_first and answer == "Unknown") else answer


def _embed(texts: list[str]):
    from kg.search import shared_encoder

    return shared_encoder().encode(texts)


def _by_sample(call: LLMCall, lines: int, samples: int) -> list[tuple[list[str], list[str]]]:
    """The outputs of a batch of `lines` prompts × `samples`, regrouped as one (lines, finishes) per sample."""
    raw = [r.strip() for r in call.raw]
    finish = call.finish or [""] * len(raw)
    return [([raw[i * samples + j] for i in range(lines)], [finish[i * samples + j] for i in range(lines)]) for j in range(samples)]


def _names(premises: list[str]) -> str | None:
    try:
        return vocabulary([parse(p) for p in premises])
    except FormulaError:
        return None


def _names_check(premises: list[Node], conclusion: Node) -> tuple[str | None, list[str]]:
    """Why the names do not fit together (an arity clash, or conclusion predicates no premise uses), or None;
    and those new predicates."""
    symbols: dict[str, int] = {}
    try:
        for formula in premises:
            signature(formula, out=symbols)
        known = set(symbols)
        signature(conclusion, out=symbols)
    except FormulaError as e:
        return str(e), []
    new = sorted(k.split(" ", 1)[1] for k in set(symbols) - known if k.startswith("pred "))
    return (f"the conclusion uses predicates no premise has: {', '.join(new)}" if new else None), new


def _restated(sentences: list[str], premises: list[Node], sentence: str, conclusion: Node) -> str | None:
    """Why the conclusion's translation is a premise's, when its sentence is not that premise's; or None.
    Such a translation proves itself ("Socrates is mortal" read as `Man(socrates)`), so it may not vote."""
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    for i, (text, formula) in enumerate(zip(sentences, premises), 1):
        if formula == conclusion and re.findall(r"[a-z0-9]+", text.lower()) != words:
            return f"the conclusion was read as premise {i}'s formula, from another sentence"
    return None


def _label_detail(label: str) -> str:
    return {"True": "the premises prove the conclusion", "False": "the premises prove its negation",
            "Unknown": "the premises prove neither the conclusion nor its negation"}[label]


def _render(sample: Sample) -> str:
    tail = [f"conclusion: {sample.conclusion}"] if sample.conclusion is not None else [f"{k}) {v}" for k, v in sample.options.items()]
    return "\n".join([*sample.premises, *tail])
