"""The schema of a knowledge graph, derived from its data: relations, their inverses, and entity kinds.

A kind is a cluster of relation *slots* (the heads or the tails of one relation) whose entity sets
overlap substantially; MetaQA's movies sit at the head of every relation, while directors, writers
and actors share one person kind. The planner shows the schema in its prompt and uses
`next_steps` to constrain decoding so a plan can only chain relations whose kinds meet.
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel

from kg.store import INVERSE, KnowledgeGraph

# Two slots are one kind when they share at least MIN_SHARED entities and either most of the
# smaller slot lies in the larger (MetaQA: the few movies with an IMDb rating are movies), or the
# overlap is a real fraction of the larger (directors who also act). A handful of shared names,
# like a film called "1984" among the years, does not merge kinds.
MIN_SHARED = 3
SUBSET_SHARE = 0.5
OVERLAP_SHARE = 0.01

_YEAR = re.compile(r"^\d{4}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class RelationInfo(BaseModel):
    name: str  # `r` or `~r`
    inverse: str
    head_kind: str
    tail_kind: str
    triples: int


class KindInfo(BaseModel):
    name: str
    entities: int
    examples: list[str]


class Schema(BaseModel):
    relations: list[RelationInfo]  # every relation step, forward and inverse, less those that repeat another
    kinds: list[KindInfo]
    same_as: dict[str, str] = {}  # a step that repeats another (a stored inverse) -> the step it repeats

    @classmethod
    def derive(cls, kg: KnowledgeGraph) -> Schema:
        return derive_schema(kg)

    def relation(self, step: str) -> RelationInfo:
        step = self.same_as.get(step, step)
        for info in self.relations:
            if info.name == step:
                return info
        raise KeyError(f"unknown relation {step!r}; known relations: {', '.join(r.name for r in self.relations)}")

    def next_steps(self, step: str | None, kind: str | None = None) -> list[str]:
        """Relation steps that may follow `step` (or start from an entity of `kind`)."""
        if step is not None:
            kind = self.relation(step).tail_kind
        return [r.name for r in self.relations if kind is None or r.head_kind == kind]

    def chains(self, plan: list[str] | tuple[str, ...]) -> bool:
        """True when each step's head kind is the previous step's tail kind."""
        return all(self.relation(b).head_kind == self.relation(a).tail_kind for a, b in zip(plan, plan[1:]))

    def describe(self) -> str:
        """One line per forward relation, for a prompt: `directed_by: movie -> person`."""
        return "\n".join(
            f"{r.name}: {r.head_kind} -> {r.tail_kind}" for r in self.relations if not r.name.startswith(INVERSE)
        )


def derive_schema(kg: KnowledgeGraph) -> Schema:
    if kg.stored_schema is not None:  # derived when the graph was stored
        return Schema.model_validate(kg.stored_schema)
    slots: dict[tuple[str, str], np.ndarray] = {}
    for r, relation in enumerate(kg.relations):
        edges = kg.triples[kg.triples[:, 1] == r]
        slots[(relation, "head")] = np.unique(edges[:, 0])
        slots[(relation, "tail")] = np.unique(edges[:, 2])

    keys = list(slots)
    parent = {k: k for k in keys}

    def find(k: tuple[str, str]) -> tuple[str, str]:
        while parent[k] != k:
            k = parent[k]
        return k

    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if _same_kind(slots[a], slots[b]):
                parent[find(a)] = find(b)

    clusters: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for k in keys:
        clusters.setdefault(find(k), []).append(k)

    kind_of: dict[tuple[str, str], str] = {}
    kinds: list[KindInfo] = []
    taken: set[str] = set()
    for members in sorted(clusters.values(), key=lambda m: keys.index(m[0])):
        entities = np.unique(np.concatenate([slots[m] for m in members]))
        names = [kg.names[i] for i in entities.tolist()]
        named_by = [m for m in members if m[0] not in kg.same_as] or members  # not by a stored inverse's name
        name = _unique(_kind_name(named_by, names), taken)
        kinds.append(KindInfo(name=name, entities=len(entities), examples=names[:3]))
        for m in members:
            kind_of[m] = name

    relations: list[RelationInfo] = []
    for r, relation in enumerate(kg.relations):
        if relation in kg.same_as:
            continue
        count = int((kg.triples[:, 1] == r).sum())
        head, tail = kind_of[(relation, "head")], kind_of[(relation, "tail")]
        relations.append(RelationInfo(name=relation, inverse=INVERSE + relation, head_kind=head, tail_kind=tail, triples=count))
        relations.append(RelationInfo(name=INVERSE + relation, inverse=relation, head_kind=tail, tail_kind=head, triples=count))
    return Schema(relations=relations, kinds=kinds, same_as=kg.same_as)


def _same_kind(a: np.ndarray, b: np.ndarray) -> bool:
    shared = len(np.intersect1d(a, b, assume_unique=True))
    small, large = sorted((len(a), len(b)))
    return shared >= MIN_SHARED and (shared >= SUBSET_SHARE * small or shared >= OVERLAP_SHARE * large)


def _kind_name(members: list[tuple[str, str]], names: list[str]) -> str:
    """Name a kind by the shape of its values, else by the relations whose tails it holds."""
    if all(_YEAR.match(n) for n in names):
        return "year"
    if all(_NUMBER.match(n) for n in names):
        return "number"
    tails = sorted(rel for rel, side in members if side == "tail")
    if not tails:
        return "subject"  # only ever a head: the things the graph describes (MetaQA: movies)
    return "|".join(re.sub(r"^(has_|in_|is_)", "", rel) for rel in tails)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate
