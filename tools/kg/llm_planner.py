"""The relation planner: one constrained LLM call turns a question into ranked relation plans.

The prompt (prompts/kg_plan.txt) shows the graph's schema and, when mined plans are given,
the most similar training questions with their plans as earlier turns of the chat. The topic
entity is masked as [ENT] everywhere, so the model learns question shapes, not names. Decoding is
constrained by the graph's schema, not by the topic's own edges: the first relation must leave an
entity of the topic's kind, and each next one must start where the previous one ends. A plan is
thus a reading of the question; whether the graph holds its edges is for grounding to find out, and
a missing edge is reported as such instead of steering the model to another question.

A question that names a second entity ([ENT2]) may get a conjunctive plan, `a & b`: a path from
[ENT], one from [ENT2], the answers both reach; the two must end at the same kind of entity. A
planner trained on conjunctions has a code for `&`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from string import ascii_lowercase

from pydantic import BaseModel
from rapidfuzz import fuzz, process

import prompts
from kg.linking import EntityLinker, Framed, LinkCandidate
from kg.mining import MinedPlan, read_mined_plans
from kg.paths import AND, MAX_HOPS
from kg.schema import Schema
from kg.store import INVERSE, KnowledgeGraph
from tools.base import LLM, Constraint, Proposal

PLANNERS = Path(__file__).resolve().parent / "planners"  # shipped planners (distilled adapters, edge scorers), one folder each


class Example(BaseModel):
    question: str  # masked
    plan: list[str]


MAX_PLAN_TOKENS = 64  # a JSON plan of up to MAX_HOPS relation names


class RankedPlan(BaseModel):
    plan: list[str]
    logprob: float  # of the most likely sample that produced it
    votes: int  # samples that produced it
    by: str = ""  # the planner that proposed it
    gap: float | None = None  # log-probability below the planner's best reading of the question


class PlanResult(BaseModel):
    question: str
    topic: str | None
    topics: list[str] = []
    masked_question: str
    candidates: list[RankedPlan]  # best first
    link_candidates: list[LinkCandidate]
    messages: list[dict]  # the prompt as sent
    raw: list[str]  # the model's outputs, one per sample


# ---- the one plan format (prompt examples, model output, distillation targets) ----------


def render_plan(plan: Sequence[str]) -> str:
    return json.dumps({"plan": list(plan)})


MAX_PLAN_STEPS = 2 * MAX_HOPS + 1  # a conjunction of two paths; a model's output holding more is not a plan


def parse_plan(text: str) -> list[str]:
    """A JSON plan as the model writes it; ValueError for anything else (model output is untrusted: a
    remote model may ignore the constraint)."""
    if len(text) > 40 * MAX_PLAN_TOKENS:
        raise ValueError(f"expected a plan, got {len(text)} characters")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("expected a plan, got JSON nested too deeply") from None
    plan = value.get("plan") if isinstance(value, dict) else None
    if not isinstance(plan, list) or not all(isinstance(step, str) for step in plan) or len(plan) > MAX_PLAN_STEPS:
        raise ValueError(f"expected {{\"plan\": [relation, ...]}}, got {text[:200]!r}")
    return plan


def plan_messages(system: str, examples: Sequence[Example], masked_question: str) -> list[dict]:
    messages = [{"role": "system", "content": system}]
    for example in examples:
        messages += [{"role": "user", "content": example.question}, {"role": "assistant", "content": render_plan(example.plan)}]
    return messages + [{"role": "user", "content": masked_question}]


def system_prompt(schema: Schema) -> str:
    return prompts.render("kg_plan.txt", schema=schema.describe()).strip()


# ---- the decoding constraint -------------------------------------------------------------


def plan_alternatives(schema: Schema, first_steps: Sequence[str], max_hops: int = MAX_HOPS) -> list[list[list[str]]]:
    """Every admissible plan shape: a list of positions, each the steps allowed there.

    Each alternative fixes the kind of entity reached after every hop but the last, so the steps
    allowed at a position depend on the step before it: plans start at the topic and chain by kind.
    """
    by_head: dict[str, list[str]] = {}
    for r in schema.relations:
        by_head.setdefault(r.head_kind, []).append(r.name)
    tail = {r.name: r.tail_kind for r in schema.relations}
    alternatives: list[list[list[str]]] = []

    def extend(positions: list[list[str]], allowed: list[str]) -> None:
        alternatives.append(positions + [sorted(allowed)])  # close the plan here...
        if len(positions) + 1 == max_hops:
            return
        for kind in sorted({tail[s] for s in allowed}):  # ...or reach one kind and go on from it
            if by_head.get(kind):
                extend(positions + [sorted(s for s in allowed if tail[s] == kind)], by_head[kind])

    extend([], list(first_steps))
    return alternatives


def conjunctive_alternatives(schema: Schema, first_steps: Sequence[str], second_steps: Sequence[str],
                             max_hops: int = MAX_HOPS) -> list[list[list[str]]]:
    """Every admissible conjunctive plan shape: a path from the first topic, AND, a path from the second,
    ending at the same kind, with at most `max_hops` relation steps in all."""
    tail = {r.name: r.tail_kind for r in schema.relations}

    def by_end(alternatives: list[list[list[str]]]) -> list[tuple[str, list[list[str]]]]:
        return [(kind, positions[:-1] + [[s for s in positions[-1] if tail[s] == kind]])
                for positions in alternatives for kind in sorted({tail[s] for s in positions[-1]})]

    firsts = by_end(plan_alternatives(schema, first_steps, max_hops - 1))
    seconds = by_end(plan_alternatives(schema, second_steps, max_hops - 1))
    return [a + [[AND]] + b for kind_a, a in firsts for kind_b, b in seconds if kind_a == kind_b and len(a) + len(b) <= max_hops]


def plan_json_schema(alternatives: list[list[list[str]]]) -> dict:
    """A JSON schema admitting exactly the plans of `alternatives` (see `plan_alternatives`)."""
    arrays = [
        {"type": "array", "prefixItems": [{"enum": steps} for steps in positions], "items": False,
         "minItems": len(positions), "maxItems": len(positions)}
        for positions in alternatives
    ]
    return {"type": "object", "properties": {"plan": {"anyOf": arrays}}, "required": ["plan"], "additionalProperties": False}


class CompactFormat:
    """The distilled planner's format: `<masked question> =>` then one one-token code per step.

    Short prompts and three-token plans are where the serving speed is; the codes come from the
    graph's relations (sorted), so a graph with the same relations gets the same codes.
    """

    SEPARATOR = " =>"

    def __init__(self, codes: dict[str, str]) -> None:
        self.codes = codes
        self.steps = {code: step for step, code in codes.items()}

    @classmethod
    def for_schema(cls, schema: Schema, conjunctive: bool = False) -> CompactFormat:
        forward = sorted(r.name for r in schema.relations if not r.name.startswith(INVERSE))
        if len(forward) > len(ascii_lowercase):
            raise ValueError(f"compact plan codes cover at most {len(ascii_lowercase)} relations; this graph has {len(forward)}")
        codes = {}
        for letter, relation in zip(ascii_lowercase, forward):
            codes[relation], codes[INVERSE + relation] = letter, letter.upper()
        if conjunctive:
            codes[AND] = AND
        return cls(codes)

    @property
    def conjunctive(self) -> bool:
        return AND in self.codes

    def prompt(self, masked_question: str) -> str:
        return masked_question + self.SEPARATOR

    def render(self, plan: Sequence[str]) -> str:
        return "".join(" " + self.codes[step] for step in plan)

    def parse(self, text: str) -> list[str]:
        codes = text.split()
        if len(codes) > MAX_PLAN_STEPS:
            raise ValueError(f"expected a plan of at most {MAX_PLAN_STEPS} codes, got {len(codes)}")
        try:
            return [self.steps[code] for code in codes]
        except KeyError as e:
            raise ValueError(f"unknown plan code {e.args[0][:40]!r} in {text[:200]!r}") from None

    def regex(self, alternatives: list[list[list[str]]]) -> str:
        """The admissible plans as a regular expression over codes, for constrained decoding."""
        return "|".join(
            "".join("(" + "|".join(" " + self.codes[step] for step in steps) + ")" for steps in positions)
            for positions in alternatives
        )


# ---- retrieval of similar training questions ------------------------------------------------


class ExampleIndex:
    """The training questions (masked) with their mined plans; `nearest` finds the most similar."""

    def __init__(self, examples: Sequence[Example]) -> None:
        unique = {(e.question, tuple(e.plan)): e for e in examples}
        self.examples = list(unique.values())
        self.texts = [e.question for e in self.examples]

    @classmethod
    def from_mined(cls, mined: Sequence[MinedPlan]) -> ExampleIndex:
        return cls([Example(question=m.masked_question, plan=m.plan) for m in mined if m.plan and m.exact])

    @classmethod
    def load(cls, path: str | Path) -> ExampleIndex:
        return cls.from_mined(read_mined_plans(path))

    def nearest(self, masked_question: str, k: int) -> list[Example]:
        """The k most similar examples, the most similar last (nearest the question in the prompt)."""
        found = process.extract(masked_question, self.texts, scorer=fuzz.token_sort_ratio, limit=k)
        return [self.examples[index] for _, _, index in reversed(found)]


# ---- the planner -----------------------------------------------------------------------------


class LLMPlanner:
    """Links the topic, masks it, and asks the model for `samples` constrained plans, ranked.

    With `compact` (a distilled planner) the prompt is the masked question alone and the model
    answers in compact codes; otherwise the chat prompt shows the schema and retrieved examples
    and the model answers in JSON.
    """

    name = "llm"

    def __init__(
        self,
        kg: KnowledgeGraph,
        llm: LLM,
        *,
        model: str | None = None,
        examples: ExampleIndex | None = None,
        k_examples: int = 8,
        samples: int = 4,
        temperature: float = 1.0,
        compact: CompactFormat | None = None,
        folder: Path | None = None,
    ) -> None:
        self.kg = kg
        self.folder = folder  # the distilled planner's folder (its card and answer kinds), if distilled
        self.schema = Schema.derive(kg)
        self.linker = EntityLinker(kg)
        self.llm = llm
        self.model = model  # the served model to ask; None: the client's default
        self.examples = examples
        self.k_examples = k_examples
        self.samples = samples
        self.temperature = temperature
        self.compact = compact
        self.system = system_prompt(self.schema)

    def reading_steps(self, topic: str) -> list[str]:
        return reading_steps(self.kg, self.schema, topic)

    @property
    def conjunctive(self) -> bool:
        """Whether this planner writes conjunctive plans: a distilled one trained on them, or the base model."""
        return self.compact.conjunctive if self.compact else True

    def link(self, question: str) -> Framed:
        return self.linker.frame(question, second=self.conjunctive)

    def propose(self, masked_question: str, topics: str | Sequence[str], *, samples: int | None = None,
                temperature: float | None = None) -> Proposal:
        """One constrained LLM call: `samples` plans from the topics, ranked by votes then log-probability."""
        topics = [topics] if isinstance(topics, str) else list(topics)
        alternatives = plan_alternatives(self.schema, self.reading_steps(topics[0]))
        if len(topics) > 1 and self.conjunctive:
            alternatives += conjunctive_alternatives(self.schema, self.reading_steps(topics[0]), self.reading_steps(topics[1]))
        samples = samples or self.samples
        temperature = (self.temperature if samples > 1 else 0.0) if temperature is None else temperature
        if self.compact:
            call = self.llm.sample(prompt=self.compact.prompt(masked_question), n=samples, temperature=temperature,
                                   max_tokens=MAX_HOPS + 1, model=self.model,
                                   constraint=Constraint(kind="regex", value=self.compact.regex(alternatives)))
        else:
            examples = self.examples.nearest(masked_question, self.k_examples) if self.examples else []
            call = self.llm.sample(messages=plan_messages(self.system, examples, masked_question), n=samples,
                                   temperature=temperature, max_tokens=MAX_PLAN_TOKENS, model=self.model,
                                   constraint=Constraint(kind="json", value=plan_json_schema(alternatives)))
        ranked: dict[tuple[str, ...], RankedPlan] = {}
        for text, logprob in zip(call.raw, call.logprobs):
            try:
                plan = self.compact.parse(text) if self.compact else parse_plan(text)
            except ValueError:
                continue  # an output cut at max_tokens; the other samples still count
            seen = ranked.get(tuple(plan))
            if seen:
                seen.votes += 1
                seen.logprob = max(seen.logprob, logprob)
            else:
                ranked[tuple(plan)] = RankedPlan(plan=plan, logprob=logprob, votes=1, by=self.name)
        candidates = sorted(ranked.values(), key=lambda p: (-p.votes, -p.logprob))
        return Proposal(by=self.name, candidates=candidates, calls=[call], raw=call.raw, seconds=call.seconds)

    def plan(self, question: str) -> PlanResult:
        return plan_question(self, question)


# ---- shared by both planners: linking, the steps a reading starts with, `reasoner plan` ------------


def reading_steps(kg: KnowledgeGraph, schema: Schema, topic: str) -> list[str]:
    """The steps a plan from `topic` may start with: every step leaving an entity of the topic's kinds
    (the kinds at the head of the steps the topic has), whether or not the topic has that edge itself."""
    entity = kg.entity_id(topic)
    kinds = {schema.relation(s).head_kind for s in kg.steps_from(entity)}
    return [r.name for r in schema.relations if r.head_kind in kinds]


def plan_question(planner, question: str) -> PlanResult:
    """Link, then propose: ranked plans for one question (`reasoner plan`)."""
    links, topics, masked_question = planner.link(question)
    if not links:
        return PlanResult(question=question, topic=None, masked_question=question, candidates=[],
                          link_candidates=[], messages=[], raw=[])
    proposal = planner.propose(masked_question, topics)
    messages = proposal.calls[0].messages if proposal.calls else []
    return PlanResult(question=question, topic=topics[0], topics=topics, masked_question=masked_question,
                      candidates=proposal.candidates, link_candidates=links, messages=messages, raw=proposal.raw)


def find_distilled(kg: KnowledgeGraph, folder: Path = PLANNERS) -> Path | None:
    """The shipped distilled planner trained for a graph with exactly these relations, if any."""
    for card in sorted(folder.glob("*/planner.json")):
        if json.loads(card.read_text())["relations"] == sorted(kg.relations):
            return card.parent
    return None


def distilled_format(planner_dir: Path) -> CompactFormat:
    return CompactFormat(json.loads((planner_dir / "planner.json").read_text())["codes"])
