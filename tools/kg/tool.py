"""The KG tool behind the common tool interface.

frame: link the topic entity and mask it -> propose: the planner's ranked relation plans (asked again
with wider sampling) -> execute: the plan breadth-first over the graph, answers with witness paths ->
check: chains, grounded, not the topic, answer kind -> conclude: the answers and their witness paths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel

from kg.linking import STOPWORDS, LinkCandidate
from kg.paths import Edge, PathResult, execute_plan
from kg.questions import MASK, masked
from kg.schema import Schema
from kg.store import KnowledgeGraph
from tools.base import Check, Conclusion, Proposal, Refusal, Task
from tools.inputs import KGInput
from tools.kg.checks import AnswerKinds, QuestionForms, check_grounding
from tools.kg.llm_planner import RankedPlan

NO_ENTITY = "no entity of the knowledge graph found in the question"
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

    def link(self, question: str) -> tuple[list[LinkCandidate], str]: ...

    def propose(self, masked_question: str, topic: str, *, samples: int | None = None,
                temperature: float | None = None) -> Proposal: ...


class KGFrame(BaseModel):
    question: str
    topic: str
    masked_question: str
    link_candidates: list[LinkCandidate]


class KGGrounding(BaseModel):
    """The KG tool's evidence: the plan from the topic, and per answer the paths that reach it."""

    kind: Literal["kg"] = "kg"
    topic: str
    plan: list[str]
    witnesses: dict[str, list[list[Edge]]]
    planner: str


class KGTool:
    name = "kg"
    max_proposals = 2  # the planner's first call, then one wider call when its plans are used up

    def __init__(self, planner: Planner, kinds: AnswerKinds | None = None, forms: QuestionForms | None = None, *,
                 replan_samples: int = 4, replan_temperature: float = 1.0, max_witnesses: int = 3) -> None:
        self.planner = planner
        self.kg = planner.kg
        self.schema = planner.schema
        self.kinds = kinds  # what each question cue asks for, from the training plans
        self.forms = forms  # the training questions' forms, for routing
        self.replan_samples = replan_samples
        self.replan_temperature = replan_temperature
        self.max_witnesses = max_witnesses

    def prepare(self, questions: Sequence[str]) -> None:
        """Let a planner that works faster on many questions at once (the embedding planner) see them."""
        prepare = getattr(self.planner, "prepare", None)
        if prepare:
            prepare(questions)

    def reads_like_a_question(self, masked_question: str) -> Check:
        """Whether a message with its entity masked is close to a question the planner was trained on: the
        message, or its clause that names the entity ("hey, quick one: who wrote [ENT]?"), comes near a
        training question and shares a content word with it (the words that name a relation)."""
        if self.forms is None:
            return Check(name="question", passed=True, detail="not checked: the planner ships no question forms")
        best = None  # (passed, similarity, form, shared words, cue, cue known)
        for clause in question_clauses(masked_question):
            cue, expected = self.kinds.expected(clause) if self.kinds else (None, None)
            needs = self.forms.loose if expected is not None else self.forms.strict
            words = content_words(clause)
            for form, similarity in self.forms.nearest(clause):
                shared = words & content_words(form)
                found = (similarity >= needs and bool(shared), similarity, form, shared, cue, expected is not None)
                best = max(best or found, found, key=lambda f: f[:2])
        passed, similarity, form, shared, cue, known = best
        return Check(name="question", passed=passed,
                     detail=f"nearest training question {form!r} at {similarity:.0f} (needs {self.forms.strict:g}, "
                            f"or {self.forms.loose:g} with a known cue; cue {cue!r} {'known' if known else 'unknown'}); "
                            f"shared words: {', '.join(sorted(shared)) or 'none'}")

    def frame(self, task: Task) -> KGFrame | Refusal:
        topic = KGInput.model_validate(task.input or {}).topic
        if topic is not None:
            if topic not in self.kg.ids:
                return Refusal(status="no_entity", message=f"input.topic: {topic!r} is not an entity of the knowledge graph")
            link = LinkCandidate(entity=topic, span=topic, method="marked", score=1.0)
            return KGFrame(question=task.question, topic=topic, masked_question=masked(task.question, topic),
                           link_candidates=[link])
        links, masked_question = self.planner.link(task.question)
        if not links:
            return Refusal(status="no_entity", message=NO_ENTITY)
        return KGFrame(question=task.question, topic=links[0].entity, masked_question=masked_question, link_candidates=links)

    def propose(self, frame: KGFrame, feedback: list[str], round: int) -> Proposal:
        again = round > 0  # the first plans were used up: sample more widely
        return self.planner.propose(frame.masked_question, frame.topic,
                                    samples=self.replan_samples if again else None,
                                    temperature=self.replan_temperature if again else None)

    def describe(self, candidate: RankedPlan) -> str:
        return " -> ".join(candidate.plan)

    def execute(self, frame: KGFrame, candidate: RankedPlan) -> PathResult:
        return execute_plan(self.kg, [frame.topic], candidate.plan, max_witnesses=self.max_witnesses)

    def check(self, frame: KGFrame, result: PathResult) -> list[Check]:
        return check_grounding(frame.question, result, self.schema, self.kinds)

    def conclude(self, frame: KGFrame, result: PathResult) -> Conclusion:
        grounding = KGGrounding(topic=frame.topic, plan=result.plan, planner=self.planner.name,
                                witnesses={a: result.witnesses.get(a, []) for a in result.answers})
        return Conclusion(answers=result.answers, message=f"{len(result.answers)} answer(s) via {' -> '.join(result.plan)}",
                          evidence=grounding)
