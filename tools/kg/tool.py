"""The KG tool behind the common tool interface.

frame: link the topic entity and mask it (a weak link must come with a question that reads like the
graph's own) -> propose: the planner's readings of the question, ranked (asked again with wider
sampling); a plan scored far below the best reading is another question, and is dropped before it is
grounded -> execute: the plan breadth-first over the graph, answers with witness paths -> check:
chains, grounded, not the topic, answer kind -> conclude: the answers and their witness paths (for a
question over a set, "how many", "are all", "which of them were released before 1995": the set grounded so,
and the count, quantifier or filter decided over it by clingo, tools/kg/sets.py); or
abstain: when the best reading grounds to nothing, say which edge the graph lacks; or, when rules mined from
the graph derive the missing step (tools/kg/infer.py) with a confidence at or above the calibrated one,
answer `inferred`: the derived answers, each with its rule and the facts it used, never mixed with facts.

With a fallback planner (the edge scorer beside an LLM planner), a model server that does not answer
makes the fallback propose instead, and the answer says it was degraded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel

from kg.linking import STOPWORDS, EntityLinker, Framed, LinkCandidate
from kg.paths import AND, Edge, PathResult, branches, execute_plan, plan_text, render_path
from kg.questions import BRACKETED, MASK, masked
from kg.rules import Rule
from kg.schema import Schema
from kg.store import INVERSE, KnowledgeGraph
from tools.base import Attempt, Check, Conclusion, LLMUnavailable, Proposal, Recognition, Refusal, Task
from tools.kg.checks import DEFAULT_MAX_GAP, DEFAULT_MIN_RULE_CONFIDENCE, AnswerKinds, Conventions, QuestionForms, Readings, check_grounding
from tools.kg.infer import Inference, infer
from tools.kg.input import KGInput
from tools.kg.llm_planner import RankedPlan
from tools.kg.sets import SetDecision, SetQuery, decide, read_query

NO_ENTITY = "no entity of the knowledge graph found in the question"
DOWN_SECONDS = 5.0  # after the model server failed to answer, the fallback proposes for this long before it is tried again
_NOT_CONTENT = STOPWORDS | {"ent", "can", "you", "tell", "me", "please", "also", "did", "many", "much", "same", "other"}


def question_clauses(masked_question: str) -> list[str]:
    """The message, each clause of it that names the entity, and each such clause from its question word
    on ("can you tell me what year [ENT] came out" -> "what year [ENT] came out")."""
    clauses = [masked_question] + [c.strip() for c in re.split(r"[,.;:!?]+", masked_question) if MASK in c]
    for clause in list(clauses):
        wh = re.search(r"\b(who|whom|whose|when|where|what|which|how)\b", clause, re.I)
        if wh and wh.start() > 0 and MASK in clause[wh.start():]:
            clauses.append(clause[wh.start():])
    return list(dict.fromkeys(clauses))


def content_words(text: str) -> set[str]:
    """The words of a question that can name a relation, singular ("movies" and "movie" meet)."""
    return {w.removesuffix("s") for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _NOT_CONTENT}


class Planner(Protocol):
    """What the KG tool asks of a planner: the LLM planner and the embedding planner both fit."""

    name: str
    kg: KnowledgeGraph
    schema: Schema
    folder: Path | None  # where its trained tables are, if it was trained

    def link(self, question: str) -> Framed: ...

    def propose(self, masked_question: str, topics: list[str], *, samples: int | None = None,
                temperature: float | None = None) -> Proposal: ...


class KGFrame(BaseModel):
    question: str  # what the planner reads: for a question over a set, the question naming the set
    topic: str
    topics: list[str] = []  # the topic, then a second entity the question names ([ENT2]), if any
    masked_question: str
    link_candidates: list[LinkCandidate]
    query: SetQuery | None = None  # a count, quantifier or filter over the set the question names (tools/kg/sets.py)


class MissingEdge(BaseModel):
    """Where the best reading of a question found nothing: the step at `hop` has no edge from the entities
    it was taken from (the topic at hop 1; at a later hop, the entities the steps before it reached). For a
    conjunctive plan, `topic` names the branch's topic; when each branch reaches entities but none is
    reached by both, `disjoint` holds how many each reaches."""

    hop: int  # 1-based, within the branch
    step: str
    sources: list[str]  # up to three of them
    count: int  # how many there were
    before: list[str] = []  # the steps before `hop`
    only_topic: bool = False  # the step's edges from there all lead back to the topic, where a path never returns
    topic: str | None = None  # the branch's topic, for a conjunctive plan
    disjoint: list[int] = []

    def sentence(self, topic: str) -> str:
        if self.disjoint:
            reached = " and ".join(map(str, self.disjoint))
            return f"The graph has no entity that both branches of the plan reach (they reach {reached} entities, none in common)."
        topic = self.topic or topic
        relation, direction = self.step.removeprefix(INVERSE), ("to" if self.step.startswith(INVERSE) else "from")
        back = f" other than back to {topic}" if self.only_topic else ""
        if self.hop == 1:
            return f"The graph has no `{relation}` edge {direction} {topic}."
        names = ", ".join(self.sources) + (", ..." if self.count > len(self.sources) else "")
        return (f"The graph has no `{relation}` edge {direction} any of the {self.count} entities that "
                f"{' -> '.join(self.before)} reaches from {topic} ({names}){back}.")


class KGGrounding(BaseModel):
    """The KG tool's evidence: the plan from the topic, and per answer the paths that reach it; for an
    abstention, the reading tried and the edge the graph lacks."""

    kind: Literal["kg"] = "kg"
    topic: str
    topics: list[str] = []  # for a conjunctive plan, the topic of each branch
    plan: list[str]
    witnesses: dict[str, list[list[Edge]]]
    planner: str
    missing: MissingEdge | None = None
    inference: Inference | None = None  # status `inferred`, or the rules tried before `not_in_graph`
    decision: SetDecision | None = None  # a question over the set: what clingo decided over it


class KGTool:
    name = "kg"
    max_proposals = 2  # the planner's first call, then one wider call when its plans are used up

    def __init__(self, planner: Planner, kinds: AnswerKinds | None = None, forms: QuestionForms | None = None, *,
                 fallback: Planner | None = None, replan_samples: int = 4, replan_temperature: float = 1.0,
                 max_witnesses: int = 3, rules: list[Rule] | None = None) -> None:
        self.planner = planner
        self.fallback = fallback  # proposes when the planner's model server does not answer
        self.kg = planner.kg
        self.schema = planner.schema
        self.kinds = kinds  # what each question cue asks for, from the training plans
        self.forms = forms  # the training questions' forms, for routing and weak links
        conventions = Conventions.load(planner.folder) if planner.folder else None
        self.revisit = bool(conventions and conventions.revisit)  # learned: paths may come back to the topic
        # How far below its best reading a planner's plan may score and still be a reading of the question.
        self.max_gap = {p.name: _max_gap(p) for p in (planner, fallback) if p is not None}
        self.linker = EntityLinker(self.kg)  # for the values a question over a set names
        self.rules = rules or []  # mined from the graph (kg/rules.py): what a missing step may be inferred by
        readings = Readings.load(planner.folder) if planner.folder else None
        self.min_rule_confidence = readings.min_rule_confidence if readings else DEFAULT_MIN_RULE_CONFIDENCE
        self.replan_samples = replan_samples
        self.replan_temperature = replan_temperature
        self.max_witnesses = max_witnesses
        self._down_until = 0.0  # monotonic time until which the model server counts as down

    def prepare(self, questions: Sequence[str]) -> None:
        """Let a planner that works faster on many questions at once (the embedding planner) see them."""
        prepare = getattr(self.planner, "prepare", None)
        if prepare:
            prepare(questions)

    def recognise(self, text: str) -> Recognition:
        """A topic entity marked in [brackets] (the graph's convention), or a question about a linked entity that
        reads like the graph's own questions; closer still when the link is weak (a common word like "Up")."""
        marked = BRACKETED.search(text)
        if marked and re.search(r"[^\W\d_]", marked.group(1)):  # a name, not a list of numbers
            detail = f"{marked.group(0)} is marked as the topic entity"
            return Recognition(fits=True, signal=detail, checks=[Check(name="entity", passed=True, detail=detail)],
                               reason="the message marks its topic entity in [brackets], as KG questions do", anchored=True)
        query = read_query(text, self.linker)
        links, _, masked_question = self.planner.link(query.base if query else text)
        if not links:
            checks = [Check(name="entity", passed=False, detail="no entity of the graph is named")]
        else:
            best = links[0]
            link = f"{best.entity!r} ({best.method} link of {best.span!r}" + (f"; weak: {best.weak})" if best.weak else ")")
            checks = [Check(name="entity", passed=True, detail=link),
                      self.reads_like_a_question(masked_question, strict=bool(best.weak))]
        signal = "; ".join(f"{c.name}: {c.detail}" for c in checks)
        failed = next((c for c in checks if not c.passed), None)
        if failed:
            return Recognition(fits=False, signal=signal, checks=checks, why_not=f"not a knowledge-graph question: {failed.detail}",
                               anchored=bool(links))
        return Recognition(fits=True, signal=signal, checks=checks, reason="a question about an entity of the knowledge graph",
                           anchored=True)

    def reads_like_a_question(self, masked_question: str, strict: bool = False) -> Check:
        """Whether a message with its entity masked is close to a question the planner was trained on: the
        message, or its clause that names the entity ("hey, quick one: who wrote [ENT]?"), comes near a
        training question and shares a content word with it (the words that name a relation). `strict`
        (for a weak link) asks the closeness that suffices without a known cue."""
        if self.forms is None:
            return Check(name="question", passed=True, detail="not checked: the planner ships no question forms")
        best = None  # (passed, similarity, form, shared words, cue, cue known)
        for clause in question_clauses(masked_question):
            cue, expected = self.kinds.expected(clause) if self.kinds else (None, None)
            needs = self.forms.loose if expected is not None and not strict else self.forms.strict
            words = content_words(clause)
            for form, similarity in self.forms.nearest(clause):
                shared = words & content_words(form)
                # A training question word for word reads like one, content words or not ("who is from [ENT]").
                found = (similarity >= needs and (bool(shared) or similarity >= 100), similarity, form, shared, cue,
                         expected is not None)
                best = max(best or found, found, key=lambda f: f[:2])
        passed, similarity, form, shared, cue, known = best
        needs = f"needs {self.forms.strict:g}" + ("" if strict else f", or {self.forms.loose:g} with a known cue")
        return Check(name="question", passed=passed,
                     detail=f"nearest training question {form!r} at {similarity:.0f} ({needs}; cue {cue!r} "
                            f"{'known' if known else 'unknown'}); shared words: {', '.join(sorted(shared)) or 'none'}")

    def frame(self, task: Task) -> KGFrame | Refusal:
        query = read_query(task.question, self.linker)
        question = query.base if query else task.question  # a question over a set: the planner reads the set's question
        topic = KGInput.model_validate(task.input or {}).topic
        if topic is not None:
            if not self.kg.has(topic):
                return Refusal(status="no_entity", message=f"input.topic: {topic!r} is not an entity of the knowledge graph")
            link = LinkCandidate(entity=topic, span=topic, method="marked", score=1.0)
            return KGFrame(question=question, topic=topic, topics=[topic], masked_question=masked(question, topic),
                           link_candidates=[link], query=query)
        links, topics, masked_question = self.planner.link(question)
        marked = BRACKETED.search(question)
        if marked and (not links or links[0].method != "marked"):
            # A name the user marked is taken as written: the graph not holding it is an answer, not a typo to fix.
            nearest = ", ".join(repr(c.entity) for c in links[:5])
            return Refusal(status="no_entity", message=f"{marked.group(0)} is not an entity of the knowledge graph"
                                                       + (f"; the nearest names it holds: {nearest}" if nearest else ""))
        if not links:
            return Refusal(status="no_entity", message=NO_ENTITY)
        best = links[0]
        if best.weak:
            fits = self.reads_like_a_question(masked_question, strict=True)
            if not fits.passed:
                return Refusal(status="no_entity",
                               message=f"{NO_ENTITY}: the only candidate, {best.entity!r} for {best.span!r}, is a weak link "
                                       f"({best.weak}) and the message does not read like a question about it ({fits.detail})")
        return KGFrame(question=question, topic=best.entity, topics=topics, masked_question=masked_question,
                       link_candidates=links, query=query)

    def propose(self, frame: KGFrame, attempts: list[Attempt], earlier: list[Proposal]) -> Proposal:
        """The planner's readings of the question, best first; asked again, it samples more widely. A plan
        scored more than `max_gap` below the best reading so far is dropped: it reads another question."""
        again = bool(earlier)  # the first plans were used up: sample more widely
        options = {"samples": self.replan_samples if again else None, "temperature": self.replan_temperature if again else None}
        proposal = self._propose(frame, options)
        best = max(c.logprob for p in [*earlier, proposal] if p.by == proposal.by for c in p.candidates) \
            if proposal.candidates else 0.0
        max_gap = self.max_gap[proposal.by]
        kept = []
        for candidate in proposal.candidates:
            candidate.gap = round(best - candidate.logprob, 4)
            if candidate.gap <= max_gap:
                kept.append(candidate)
            else:
                proposal.rejected.append(f"{self.describe(candidate)}: {candidate.gap:.2f} below the best reading of the "
                                         f"question (at most {max_gap:g}): it reads another question")
        proposal.candidates = kept
        return proposal

    def _propose(self, frame: KGFrame, options: dict) -> Proposal:
        why = "the model server did not answer moments ago"
        if self.fallback is None or time.monotonic() >= self._down_until:
            try:
                return self.planner.propose(frame.masked_question, frame.topics or [frame.topic], **options)
            except LLMUnavailable as e:
                if self.fallback is None:
                    raise
                self._down_until = time.monotonic() + DOWN_SECONDS
                why = f"the model server does not answer ({e})"
        proposal = self.fallback.propose(frame.masked_question, frame.topics or [frame.topic], **options)
        proposal.degraded = f"{why}; the {self.fallback.name} planner proposed instead of the {self.planner.name} planner"
        return proposal

    def describe(self, candidate: RankedPlan) -> str:
        return plan_text(candidate.plan)

    def topics_of(self, frame: KGFrame, plan: list[str]) -> list[str]:
        """The topics a plan runs from: the topic, or for a conjunctive plan one per branch."""
        return (frame.topics or [frame.topic]) if AND in plan else [frame.topic]

    def execute(self, frame: KGFrame, candidate: RankedPlan) -> PathResult:
        return execute_plan(self.kg, self.topics_of(frame, candidate.plan), candidate.plan, max_witnesses=self.max_witnesses,
                            revisit=self.revisit)

    def check(self, frame: KGFrame, candidate: RankedPlan, result: PathResult) -> list[Check]:
        checks = check_grounding(frame.question, result, self.schema, self.kinds, revisit=self.revisit)
        if frame.query and frame.query.comparator and result.answers:
            try:
                decision = self.decide(frame, result)
                checks.append(Check(name="condition", passed=True,
                                    detail=f"{frame.query.condition!r} is checked by `{decision.step}` from the set's members"))
            except ValueError as e:
                checks.append(Check(name="condition", passed=False, detail=str(e)))
        if not result.answers:
            missing = self.missing_edge(frame, result)
            checks = [c.model_copy(update={"detail": missing.sentence(frame.topic)}) if c.name == "grounded" else c
                      for c in checks]
        return checks

    def missing_edge(self, frame: KGFrame, result: PathResult) -> MissingEdge:
        """The first step of a plan that grounded to nothing with no edge from the entities before it; for a
        conjunctive plan whose branches each reach something, that nothing is reached by both."""
        parts, topics = branches(result.plan), result.topics
        sizes = result.frontier_sizes
        at = next((i for i, size in enumerate(sizes) if size == 0), None)
        if at is None:  # every branch reached entities: none in common
            return MissingEdge(hop=len(result.plan), step=AND, sources=[], count=0, disjoint=[
                len(execute_plan(self.kg, [t], part, revisit=self.revisit).answers) for t, part in zip(topics, parts)])
        branch = result.plan[:at].count(AND)
        hop = at - sum(len(p) + 1 for p in parts[:branch]) + 1
        part, topic = parts[branch], topics[branch] if len(parts) > 1 else frame.topic
        step = part[hop - 1]
        sources = [topic] if hop == 1 else execute_plan(self.kg, [topic], part[: hop - 1], revisit=self.revisit).answers
        _, targets = self.kg.step(step).expand(np.array([self.kg.entity_id(s) for s in sources], dtype=np.int32))
        return MissingEdge(hop=hop, step=step, sources=sources[:3], count=len(sources), before=part[: hop - 1],
                           only_topic=len(targets) > 0 and not self.revisit, topic=topic if len(parts) > 1 else None)

    def conclude(self, frame: KGFrame, candidate: RankedPlan, result: PathResult) -> Conclusion:
        grounding = KGGrounding(topic=frame.topic, topics=result.topics, plan=result.plan, planner=candidate.by or self.planner.name,
                                witnesses={a: result.witnesses.get(a, []) for a in result.answers})
        message = f"{len(result.answers)} answer(s) via {plan_text(result.plan)}"
        if frame.query is None:
            return Conclusion(answers=result.answers, message=message, evidence=grounding)
        grounding.decision = decision = self.decide(frame, result)
        answers = decision.met if decision.aggregate == "list" else [decision.answer]
        return Conclusion(answers=answers, message=f"{decision.sentence()} The set: {message}, decided by clingo.",
                          evidence=grounding)

    def decide(self, frame: KGFrame, result: PathResult) -> SetDecision:
        return decide(self.kg, self.schema, frame.query, result.answers, result.plan[-1])

    def abstain(self, frame: KGFrame, attempts: list[Attempt]) -> Refusal | Conclusion:
        """No plan passed. When the best reading of the question grounded to nothing, the answer is not in the
        graph: the message names the edge it lacks, and rules that derive that edge confidently enough give an
        `inferred` answer instead; otherwise no plan fits the question."""
        if not attempts:
            return Refusal(status="no_plan", message="the planner proposed no plan for this question")
        best = attempts[0]
        if best.failed != ["grounded"]:
            return Refusal(status="no_plan", message="no plan grounded and passed the checks: " + "; ".join(a.why() for a in attempts))
        candidate = RankedPlan.model_validate(best.proposed)
        missing = self.missing_edge(frame, self.execute(frame, candidate))
        others = [a.candidate for a in attempts[1:]]
        topics = self.topics_of(frame, candidate.plan)
        read = (f"The question was read as {best.candidate} from {' and '.join(topics)}"
                + (f" (other readings tried: {'; '.join(others)})" if others else ""))
        evidence = KGGrounding(topic=frame.topic, topics=topics, plan=candidate.plan, witnesses={},
                               planner=candidate.by or self.planner.name, missing=missing)
        inference = None if frame.query else self.infer(frame, candidate.plan, missing)
        if inference and inference.answers:
            evidence.inference, evidence.witnesses = inference, {a.answer: a.paths for a in inference.answers}
            shown = "; ".join(f"{a.answer} (confidence {a.confidence:.2f})" for a in inference.answers[:5])
            best_answer = inference.answers[0]
            message = (f"Inferred, not in the graph: {shown}{', ...' if len(inference.answers) > 5 else ''}. "
                       f"{missing.sentence(frame.topic)} {best_answer.reason(missing.step)}; from "
                       f"{render_path(best_answer.paths[0])}. {read}.")
            return Conclusion(status="inferred", answers=[a.answer for a in inference.answers], message=message,
                              evidence=evidence)
        evidence.inference = inference
        tried = ""
        if inference and inference.below:
            near = inference.below[0]
            tried = (f" The rules suggest {near.answer} at confidence {near.confidence:.2f}, below the "
                     f"{inference.min_confidence:.2f} asked ({near.reason(missing.step)}).")
        elif inference and inference.rules_tried:
            tried = f" No rule for it derives anything here (the best tried: {inference.best_tried()})."
        elif inference:
            tried = f" No rule mined from the graph concludes `{missing.step}`."
        message = f"{missing.sentence(frame.topic)}{tried} {read}; no answer is given rather than an answer to another question."
        return Refusal(status="not_in_graph", message=message, evidence=evidence)

    def infer(self, frame: KGFrame, plan: list[str], missing: MissingEdge) -> Inference | None:
        """The missing step inferred by the mined rules from the entities it was taken from, and any steps after it
        walked from the inferred entities; None with no rules, or for a conjunctive plan."""
        if missing.disjoint or AND in plan or not self.rules:
            return None
        before, after = plan[: missing.hop - 1], plan[missing.hop :]
        sources = [frame.topic] if not before else execute_plan(self.kg, [frame.topic], before, revisit=self.revisit).answers
        ids = [self.kg.entity_id(s) for s in sources]
        inference = infer(self.kg, self.rules, missing.step, ids, min_confidence=self.min_rule_confidence,
                          max_witnesses=self.max_witnesses)
        if not after or not inference.answers:
            return inference
        # The steps after the inferred one are facts, walked from each inferred entity; an answer keeps the best
        # confidence among the inferred entities it is reached from.
        by_entity = {a.answer: a for a in inference.answers}
        result = execute_plan(self.kg, list(by_entity), after, max_witnesses=self.max_witnesses, revisit=self.revisit)
        found = []
        for answer in result.answers:
            if answer == frame.topic and not self.revisit:
                continue  # a path never comes back to its topic on this graph, inferred or not
            paths = result.witnesses[answer]
            via = max((by_entity[p[0].source] for p in paths), key=lambda a: a.confidence)
            found.append(via.model_copy(update={"answer": answer, "inferred": via.answer, "paths": [
                via.paths[0] + p for p in paths if p[0].source == via.answer][: self.max_witnesses]}))
        found.sort(key=lambda a: -a.confidence)  # stable: the walk's own ranking within a confidence
        return inference.model_copy(update={"answers": found})


def _max_gap(planner: Planner) -> float:
    readings = Readings.load(planner.folder) if planner.folder else None
    return readings.max_gap if readings else DEFAULT_MAX_GAP
