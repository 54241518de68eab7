"""Symbolic checks on a grounded plan, run before any answer is given.

- the plan chains in the schema (each relation starts at the kind the previous one ends at);
- the answers are not the topic entity;
- the kind of the answers is one the question asks for. What a question asks for is read from its
  cue, the interrogative phrase ("who", "when", "which language", "what genres"), and which kinds
  a cue asks for is counted from mined training plans (`AnswerKinds`), so it holds for any graph.
  A cue never seen in training is not checked, and the check says so.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from kg.mining import MinedPlan
from kg.questions import BRACKETED
from kg.paths import PathResult
from kg.schema import Schema

_WH = {"who", "whom", "whose", "when", "where", "what", "which", "how"}
_NOUN_AFTER = {"what", "which", "how"}  # "which language", "what genres", "how many"
_FILLER = {"is", "are", "was", "were", "do", "does", "did", "the", "a", "an", "kind", "kinds", "type", "types", "of"}
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


class AnswerKinds(BaseModel):
    """How often each answer kind follows each question cue in mined training plans."""

    counts: dict[str, dict[str, int]]

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


class Check(BaseModel):
    name: str
    passed: bool
    detail: str


def check_grounding(question: str, grounding: PathResult, schema: Schema, kinds: AnswerKinds | None) -> list[Check]:
    plan = grounding.plan
    checks = [
        Check(name="chains", passed=schema.chains(plan),
              detail=" -> ".join(f"{s} ({schema.relation(s).head_kind}->{schema.relation(s).tail_kind})" for s in plan)),
        Check(name="grounded", passed=bool(grounding.answers),
              detail=f"{len(grounding.answers)} answer(s)" + (f"; frontier cut at hop {grounding.truncated_at_hop}"
                                                             if grounding.truncated_at_hop else "")),
        Check(name="not_topic", passed=not set(grounding.answers) & set(grounding.topics),
              detail="no answer is the topic entity"),
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
