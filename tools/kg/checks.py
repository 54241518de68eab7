"""The KG tool's checks on a grounded plan, run before any answer is given.

- the plan is a reading of the question: the planner scores it within `Readings.max_gap` of its best
  reading (checked when plans are proposed, so a plan that merely grounds is never tried);
- the plan chains in the schema (each relation starts at the kind the previous one ends at; the branches
  of a conjunctive plan end at the same kind);
- the answers are not the topic entity, unless the graph's questions answer so (`Conventions`);
- the kind of the answers is one the question asks for. What a question asks for is read from its
  cue, the interrogative phrase ("who", "when", "which language", "what genres"), and which kinds
  a cue asks for is counted from mined training plans (`AnswerKinds`), so it holds for any graph.
  A cue never seen in training is not checked, and the check says so.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel
from rapidfuzz import fuzz, process, utils

from kg.mining import MinedPlan
from kg.paths import AND, PathResult, branches
from kg.questions import BRACKETED
from kg.schema import Schema
from tools.base import Check

_WH = {"who", "whom", "whose", "when", "where", "what", "which", "how"}
_NOUN_AFTER = {"what", "which", "how"}  # "which language", "what genres", "how many"
_FILLER = {"is", "are", "was", "were", "do", "does", "did", "the", "a", "an", "kind", "kinds", "type", "types", "of",
           "s", "other", "else"}  # "what's", "what other films"
MIN_SUPPORT = 20  # a cue seen fewer times in training is not trusted
MIN_SHARE = 0.01  # a kind this rare for a cue counts as a mismatch


def cue(question: str) -> str | None:
    """The interrogative phrase of a question: `who`, `when`, `which language`; None if none.

    A bracketed topic entity is left out: in "what does [Tom Hanks] act in" the cue is "what act".
    """
    words = re.findall(r"[a-z]+", BRACKETED.sub(" ", question).lower())
    for i, word in enumerate(words):
        if word in _WH:
            if word in _NOUN_AFTER:
                following = [w for w in words[i + 1 : i + 4] if w not in _FILLER]
                if following:
                    return f"{word} {following[0]}"
            return word
    return None


class TrainedTable(BaseModel):
    """A table learned from a planner's training questions, kept as `FILE` beside the planner's weights."""

    FILE: ClassVar[str]

    @classmethod
    def load(cls, folder: Path) -> Self | None:
        path = folder / cls.FILE
        return cls.model_validate_json(path.read_text()) if path.is_file() else None

    def save(self, folder: Path) -> None:
        (folder / self.FILE).write_text(self.model_dump_json(indent=0) + "\n")


class AnswerKinds(TrainedTable):
    """How often each answer kind follows each question cue in mined training plans."""

    counts: dict[str, dict[str, int]]

    FILE: ClassVar[str] = "answer_kinds.json"

    @classmethod
    def learn(cls, mined: Iterable[MinedPlan], schema: Schema) -> AnswerKinds:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for m in mined:
            key = cue(m.question)
            if key and m.plan and m.exact:
                counts[key][schema.relation(m.plan[-1]).tail_kind] += 1
        return cls(counts={k: dict(v) for k, v in counts.items()})

    def expected(self, question: str) -> tuple[str | None, set[str] | None]:
        """(cue, kinds the cue asks for), or kinds None when the cue is unknown or too rare."""
        key = cue(question)
        seen = self.counts.get(key or "", {})
        total = sum(seen.values())
        if total < MIN_SUPPORT:
            return key, None
        return key, {kind for kind, n in seen.items() if n / total >= MIN_SHARE}


def check_grounding(question: str, grounding: PathResult, schema: Schema, kinds: AnswerKinds | None,
                    revisit: bool = False) -> list[Check]:
    plan = grounding.plan
    parts = branches(plan)
    ends = {schema.relation(part[-1]).tail_kind for part in parts}
    shown = " -> ".join(s if s == AND else f"{s} ({schema.relation(s).head_kind}->{schema.relation(s).tail_kind})" for s in plan)
    checks = [
        Check(name="chains", passed=all(schema.chains(part) for part in parts) and len(ends) == 1,
              detail=shown + ("" if len(ends) == 1 else f"; the branches end at different kinds ({', '.join(sorted(ends))})")),
        Check(name="grounded", passed=bool(grounding.answers),
              detail=f"{len(grounding.answers)} answer(s)" + (f"; frontier cut at hop {grounding.truncated_at_hop}"
                                                             if grounding.truncated_at_hop else "")),
        Check(name="not_topic", passed=revisit or not set(grounding.answers) & set(grounding.topics),
              detail="answers may be the topic entity: this graph's questions are answered so" if revisit
              else "no answer is the topic entity"),
    ]
    answer_kind = schema.relation(plan[-1]).tail_kind
    key, expected = kinds.expected(question) if kinds else (None, None)
    if expected is None:
        checks.append(Check(name="answer_kind", passed=True,
                            detail=f"not checked: no training evidence for the cue {key!r}; answers are {answer_kind}"))
    else:
        checks.append(Check(name="answer_kind", passed=answer_kind in expected,
                            detail=f"{key!r} asks for {' or '.join(sorted(expected))}; answers are {answer_kind}"))
    return checks


class Conventions(TrainedTable):
    """What a graph's questions take for granted, learned from its question-answer pairs when a planner is
    trained (`reasoner train`), not assumed: whether a path may come back to its topic (MetaQA: never; "the
    wife of the husband of X" is X), whether topics are marked, whether questions join two constraints,
    which relations the graph stores twice (an inverse kept as its own relation)."""

    revisit: bool = False  # a path may come back to its topic entity
    questions: int = 0  # questions with gold answers and a linked topic
    topic_answers: int = 0  # of them, those whose gold answers include the topic itself
    marked: int = 0  # of them, those that mark the topic in brackets
    conjunctive: int = 0  # mined plans that join two paths
    same_as: dict[str, str] = {}  # a stored inverse (or copy) of a relation -> the step it repeats
    merged_lines: int = 0  # question lines merged into another (a question listed once per answer)

    FILE: ClassVar[str] = "conventions.json"
    MIN_TOPIC_ANSWERS: ClassVar[int] = 3
    MIN_TOPIC_SHARE: ClassVar[float] = 0.002

    @classmethod
    def revisits(cls, questions: int, topic_answers: int) -> bool:
        """A path may come back to its topic when enough gold answers are the topic itself (a few could be noise)."""
        return topic_answers >= max(cls.MIN_TOPIC_ANSWERS, cls.MIN_TOPIC_SHARE * questions)


class QuestionForms(TrainedTable):
    """The distinct masked training questions of a planner, and how close a new question must come to
    one of them to count as a question about the graph (for the router).

    The two thresholds come from the forms themselves: each form's similarity to its nearest other form
    (leave one out), at the 5th percentile (`strict`, enough alone) and the 1st (`loose`, enough when
    the question's cue is one the training questions use).
    """

    forms: list[str]
    strict: float
    loose: float

    FILE: ClassVar[str] = "question_forms.json"
    CALIBRATION_SAMPLE: ClassVar[int] = 2000

    @classmethod
    def learn(cls, masked_questions: Iterable[str], seed: int = 0) -> QuestionForms:
        forms = sorted({utils.default_process(q) for q in masked_questions} - {""})
        if len(forms) < 2:
            raise ValueError("question forms need at least two distinct training questions")
        sample = random.Random(seed).sample(forms, min(len(forms), cls.CALIBRATION_SAMPLE))
        scores = process.cdist(sample, forms, scorer=fuzz.token_sort_ratio, workers=1)
        position = {form: j for j, form in enumerate(forms)}
        for i, form in enumerate(sample):
            scores[i, position[form]] = -1  # leave itself out
        nearest = sorted(float(s) for s in scores.max(axis=1))
        at = lambda share: round(nearest[int(share * (len(nearest) - 1))], 1)  # noqa: E731
        return cls(forms=forms, strict=at(0.05), loose=at(0.01))

    def nearest(self, masked_question: str, limit: int = 5) -> list[tuple[str, float]]:
        """The `limit` most similar training question forms, most similar first."""
        found = process.extract(utils.default_process(masked_question), self.forms, scorer=fuzz.token_sort_ratio,
                                processor=None, limit=limit)
        return [(form, similarity) for form, similarity, _ in found]


DEFAULT_MAX_GAP = 2.0  # nats, for a planner shipped without a calibrated table
DEFAULT_MIN_RULE_CONFIDENCE = 0.5  # likewise: the least PCA confidence of a rule whose answer is given as inferred


class Readings(TrainedTable):
    """How far (in log-probability, nats) a plan may score below the planner's best reading of a question
    and still count as a reading of that question: another way to ask the same thing, not another
    question. Calibrated on questions the planner never trained on, on the complete graph and on graphs
    with the edges those questions need deleted (bench/faithful.py --calibrate)."""

    max_gap: float
    calibration: dict = {}
    # The least PCA confidence at which a rule's answer for a missing step is given as `inferred` (bench/faithful.py --calibrate).
    min_rule_confidence: float = DEFAULT_MIN_RULE_CONFIDENCE
    rule_calibration: dict = {}

    FILE: ClassVar[str] = "readings.json"
