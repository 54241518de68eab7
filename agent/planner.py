"""The relation planner: one constrained LLM call turns a question into ranked relation plans.

The prompt (prompts/plan_system.txt) shows the graph's schema and, when mined plans are given,
the most similar training questions with their plans as earlier turns of the chat. The topic
entity is masked as [ENT] everywhere, so the model learns question shapes, not names. Decoding is
constrained by a JSON schema built from the graph schema: the first relation must leave the topic
entity, and each next one must start where the previous one ends.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from string import Template

from openai import OpenAI
from pydantic import BaseModel
from rapidfuzz import fuzz, process

from kg.linking import EntityLinker, LinkCandidate
from kg.mining import MinedPlan
from kg.questions import MASK, masked
from kg.schema import Schema
from kg.store import KnowledgeGraph

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
MAX_HOPS = 3


class Example(BaseModel):
    question: str  # masked
    plan: list[str]


class RankedPlan(BaseModel):
    plan: list[str]
    logprob: float  # of the most likely sample that produced it
    votes: int  # samples that produced it


class PlanResult(BaseModel):
    question: str
    topic: str | None
    masked_question: str
    candidates: list[RankedPlan]  # best first
    link_candidates: list[LinkCandidate]
    messages: list[dict]  # the prompt as sent
    raw: list[str]  # the model's outputs, one per sample


# ---- the one plan format (prompt examples, model output, distillation targets) ----------


def render_plan(plan: Sequence[str]) -> str:
    return json.dumps({"plan": list(plan)})


def parse_plan(text: str) -> list[str]:
    value = json.loads(text)
    plan = value.get("plan") if isinstance(value, dict) else None
    if not isinstance(plan, list) or not all(isinstance(step, str) for step in plan):
        raise ValueError(f"expected {{\"plan\": [relation, ...]}}, got {text!r}")
    return plan


def plan_messages(system: str, examples: Sequence[Example], masked_question: str) -> list[dict]:
    messages = [{"role": "system", "content": system}]
    for example in examples:
        messages += [{"role": "user", "content": example.question}, {"role": "assistant", "content": render_plan(example.plan)}]
    return messages + [{"role": "user", "content": masked_question}]


def system_prompt(schema: Schema) -> str:
    return Template((PROMPTS / "plan_system.txt").read_text(encoding="utf-8")).substitute(schema=schema.describe()).strip()


# ---- the decoding constraint -------------------------------------------------------------


def plan_json_schema(schema: Schema, first_steps: Sequence[str], max_hops: int = MAX_HOPS) -> dict:
    """A JSON schema admitting exactly the plans that start with `first_steps` and chain by kind.

    Each alternative fixes the kind of entity reached after every hop but the last, so the
    steps allowed at a position depend on the step before it.
    """
    by_head: dict[str, list[str]] = {}
    for r in schema.relations:
        by_head.setdefault(r.head_kind, []).append(r.name)
    tail = {r.name: r.tail_kind for r in schema.relations}

    alternatives: list[dict] = []

    def extend(items: list[list[str]], allowed: list[str]) -> None:
        # `allowed`: steps possible at this position; close the plan here, or pick a kind and go on.
        closed = items + [sorted(allowed)]
        alternatives.append(_array_of(closed))
        if len(closed) == max_hops:
            return
        for kind in sorted({tail[s] for s in allowed}):
            leading_there = sorted(s for s in allowed if tail[s] == kind)
            if by_head.get(kind):
                extend(items + [leading_there], by_head[kind])

    extend([], list(first_steps))
    return {
        "type": "object",
        "properties": {"plan": {"anyOf": alternatives}},
        "required": ["plan"],
        "additionalProperties": False,
    }


def _array_of(positions: list[list[str]]) -> dict:
    return {
        "type": "array",
        "prefixItems": [{"enum": steps} for steps in positions],
        "items": False,
        "minItems": len(positions),
        "maxItems": len(positions),
    }


# ---- retrieval of similar training questions ------------------------------------------------


class ExampleIndex:
    """The training questions (masked) with their mined plans; `nearest` finds the most similar."""

    def __init__(self, examples: Sequence[Example]) -> None:
        unique = {(e.question, tuple(e.plan)): e for e in examples}
        self.examples = list(unique.values())
        self.texts = [e.question for e in self.examples]

    @classmethod
    def from_mined(cls, mined: Sequence[MinedPlan]) -> ExampleIndex:
        return cls([Example(question=masked(m.question, m.topic), plan=m.plan) for m in mined if m.plan and m.exact])

    @classmethod
    def load(cls, path: str | Path) -> ExampleIndex:
        with Path(path).open(encoding="utf-8") as f:
            return cls.from_mined([MinedPlan.model_validate_json(line) for line in f if line.strip()])

    def nearest(self, masked_question: str, k: int) -> list[Example]:
        """The k most similar examples, the most similar last (nearest the question in the prompt)."""
        found = process.extract(masked_question, self.texts, scorer=fuzz.token_sort_ratio, limit=k)
        return [self.examples[index] for _, _, index in reversed(found)]


# ---- the planner -----------------------------------------------------------------------------


class Planner:
    def __init__(
        self,
        kg: KnowledgeGraph,
        client: OpenAI,
        *,
        model: str,
        examples: ExampleIndex | None = None,
        k_examples: int = 8,
        samples: int = 4,
        temperature: float = 1.0,
    ) -> None:
        self.kg = kg
        self.schema = Schema.derive(kg)
        self.linker = EntityLinker(kg)
        self.client = client
        self.model = model
        self.examples = examples
        self.k_examples = k_examples
        self.samples = samples
        self.temperature = temperature
        self.system = system_prompt(self.schema)

    def first_steps(self, topic: str) -> list[str]:
        entity = self.kg.entity_id(topic)
        return [s for s, adj in self.kg.adjacency.items() if adj.indptr[entity + 1] > adj.indptr[entity]]

    def plan(self, question: str) -> PlanResult:
        links = self.linker.link(question)
        if not links:
            return PlanResult(question=question, topic=None, masked_question=question, candidates=[],
                              link_candidates=[], messages=[], raw=[])
        topic = links[0]
        masked_question = masked(question, topic.span)
        if MASK not in masked_question:
            masked_question = f"{masked_question} ({MASK} = {topic.entity})"
        examples = self.examples.nearest(masked_question, self.k_examples) if self.examples else []
        messages = plan_messages(self.system, examples, masked_question)
        constraint = plan_json_schema(self.schema, self.first_steps(topic.entity))
        response = self.client.chat.completions.create(
            model=self.model,
            messages=messages,
            n=self.samples,
            temperature=self.temperature if self.samples > 1 else 0.0,
            max_tokens=64,
            logprobs=True,
            extra_body={"structured_outputs": {"json": constraint, "disable_any_whitespace": True}},
        )
        raw = [choice.message.content or "" for choice in response.choices]
        ranked: dict[tuple[str, ...], RankedPlan] = {}
        for choice, text in zip(response.choices, raw):
            try:
                plan = parse_plan(text)
            except ValueError:
                continue  # an output cut at max_tokens; the others still count
            logprob = sum(t.logprob for t in choice.logprobs.content) if choice.logprobs and choice.logprobs.content else -math.inf
            seen = ranked.get(tuple(plan))
            if seen:
                seen.votes += 1
                seen.logprob = max(seen.logprob, logprob)
            else:
                ranked[tuple(plan)] = RankedPlan(plan=plan, logprob=logprob, votes=1)
        candidates = sorted(ranked.values(), key=lambda p: (-p.votes, -p.logprob))
        return PlanResult(question=question, topic=topic.entity, masked_question=masked_question,
                          candidates=candidates, link_candidates=links, messages=messages, raw=raw)
