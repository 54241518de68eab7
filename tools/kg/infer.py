"""Inferring a step the graph lacks from the rules the graph supports (`kg.rules`), with clingo.

When the best reading of a question grounds to nothing, its missing step is the head of some mined rules
(`in_language <= directed_by, ~directed_by, in_language`: the language of the director's other films). The
rules for that step, most confident first, are written as one answer-set program over the facts around the
step's sources (the edges each rule's body can walk from them) and solved by clingo, the logic tool's
solver. Every derived answer keeps the rule that derived it, the rule's PCA confidence on the graph, and the
facts it used (the body's path from the source), so an inferred answer can be audited like a fact.

A rule's confidence on the whole graph says how often it holds, not how often it holds here. So each answer's
confidence is the best rule's PCA confidence moved by the rule's neighbours where it is applied: the other
entities its first step reaches back from the answer's paths (for `written_by <= directed_by`, the director's
other films), how many of them have an edge of the missing step, and how many have it to this answer. The rule's
own confidence counts as PRIOR such neighbours (a Beta prior). Answers are ranked by that confidence, then by
how many paths and rules reach them; only those at or above `min_confidence` (calibrated) are given. Variables of a rule bind different
entities (object identity), as when the rules were mined.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from pydantic import BaseModel

from kg.paths import Edge
from kg.rules import Rule
from kg.store import KnowledgeGraph, inverse_of
from tools.logic.asp import solve

MAX_RULES = 12  # rules tried per missing step, the most confident first
PRIOR = 2.0  # how many neighbours the rule's confidence on the whole graph counts for, beside those where it is applied
MAX_EDGES = 20_000  # edges read per step of a rule's body; beyond it the rule's walk is cut (and counted)
SOLVE_SECONDS = 5.0


class InferredAnswer(BaseModel):
    answer: str
    confidence: float  # the rule's confidence here: its PCA confidence, moved by what the rule's neighbours say
    rule: str  # the best rule that derives it, as Datalog
    rule_confidence: float  # that rule's PCA confidence on the whole graph
    rules: int  # how many of the rules tried derive it
    paths: list[list[Edge]]  # the facts it rests on: up to three of the best rule's body paths, from a source
    via: list[str] = []  # the entities its first step went through (the director)
    neighbours: int = 0  # the other entities that step reaches back from them with an edge of the missing step
    agree: int = 0  # of them, those whose edge goes to this answer ("7 of Christopher Nolan's 8 other films")
    inferred: str | None = None  # when steps of the plan follow the inferred one: the inferred entity they were walked from

    def reason(self, step: str) -> str:
        """Why, in words: the rule, and what its neighbours say."""
        said = f"By the rule {self.rule}, which holds for {self.rule_confidence:.0%} of the graph's cases"
        if self.neighbours:
            said += (f"; of the {self.neighbours} other entities with a `{step}` edge that share "
                     f"{', '.join(self.via[:3])}{', ...' if len(self.via) > 3 else ''} with it, {self.agree} have it to "
                     f"{self.inferred or self.answer}")
        return said


class Inference(BaseModel):
    """What the rules gave for a missing step: answers at or above `min_confidence`, best first, and what was tried."""

    step: str
    sources: list[str]  # up to three of the entities the step was taken from
    min_confidence: float
    answers: list[InferredAnswer]
    below: list[InferredAnswer] = []  # the best answers under the threshold (up to three), not given
    rules_tried: list[str] = []  # as Datalog, with their confidence
    cut: int = 0  # rules whose walk was cut at MAX_EDGES
    seconds: float = 0.0

    def best_tried(self) -> str | None:
        return self.rules_tried[0] if self.rules_tried else None


def infer(kg: KnowledgeGraph, rules: list[Rule], step: str, sources: list[int], *, min_confidence: float,
          max_witnesses: int = 3) -> Inference:
    """The answers the rules with head `step` derive from `sources` (entity ids)."""
    started = time.perf_counter()
    usable = sorted((r for r in rules if r.head == step and all(_known(kg, s) for s in r.body)),
                    key=lambda r: (-r.pca_confidence, -r.support))[:MAX_RULES]
    steps = sorted({s for r in usable for s in r.body})
    index = {s: i for i, s in enumerate(steps)}
    facts: set[tuple[int, int, int]] = set()
    cut = 0
    start = np.unique(np.asarray(sources, dtype=np.int32))
    for rule in usable:
        frontier = start
        for s in rule.body:
            heads, tails = kg.step(s).expand(frontier)
            if len(heads) > MAX_EDGES:
                heads, tails, cut = heads[:MAX_EDGES], tails[:MAX_EDGES], cut + 1
            facts.update(zip([index[s]] * len(heads), heads.tolist(), tails.tolist()))
            frontier = np.unique(tails)
    program = "\n".join([*(f"src({x})." for x in start.tolist()), *(f"e({k},{h},{t})." for k, h, t in sorted(facts)),
                         *(_asp(i, rule, index) for i, rule in enumerate(usable)), "#show d/5."])
    solved = solve(program, models=1, seconds=SOLVE_SECONDS) if usable else None
    derived: dict[int, dict[int, list[tuple[int, ...]]]] = defaultdict(lambda: defaultdict(list))  # y -> rule -> paths
    for atom in solved.first if solved else []:
        i, x, y, a, b = map(int, atom[2:-1].split(","))
        derived[y][i].append(tuple(v for v in (x, a, b, y) if v >= 0))
    # Each answer by its best rule (rules are tried most confident first), its confidence moved by the rule's
    # neighbours: the other entities its first step reaches back from where the answer's paths went.
    best = {y: min(by_rule) for y, by_rule in derived.items()}
    local = {y: _neighbours(kg, usable[best[y]], start, {path[1] for path in derived[y][best[y]]}, y) for y in derived}
    confidence = {y: round((local[y][1] + PRIOR * usable[best[y]].pca_confidence) / (local[y][0] + PRIOR), 4) for y in derived}
    ranked = sorted(derived, key=lambda y: (-confidence[y], -len(derived[y][best[y]]), -len(derived[y]), y))
    on_paths = sorted({v for y in ranked for paths in derived[y].values() for path in paths for v in path})
    name = dict(zip(on_paths, kg.name_of(on_paths)))
    found = []
    for y in ranked:
        rule = usable[best[y]]
        paths = [[Edge(source=name[u], relation=s, target=name[v]) for s, u, v in zip(rule.body, path, path[1:])]
                 for path in sorted(derived[y][best[y]])[:max_witnesses]]
        found.append(InferredAnswer(answer=name[y], confidence=confidence[y], rule=rule.text(), rule_confidence=rule.pca_confidence,
                                    rules=len(derived[y]), paths=paths, via=sorted({p[0].target for p in paths}),
                                    neighbours=local[y][0], agree=local[y][1]))
    given = [a for a in found if a.confidence >= min_confidence]
    return Inference(step=step, sources=kg.name_of(start[:3].tolist()), min_confidence=min_confidence, answers=given,
                     below=[a for a in found if a.confidence < min_confidence][:3], cut=cut,
                     rules_tried=[f"{r.text()} (PCA confidence {r.pca_confidence:.2f}, support {r.support})" for r in usable],
                     seconds=round(time.perf_counter() - started, 4))


def _neighbours(kg: KnowledgeGraph, rule: Rule, sources: np.ndarray, via: set[int], y: int) -> tuple[int, int]:
    """Of the other entities the rule's first step reaches back from `via` (the director's other films), how many have
    an edge of the rule's head step, and how many have it to `y`: the rule checked where it is applied."""
    _, others = kg.step(inverse_of(rule.body[0])).expand(np.asarray(sorted(via), dtype=np.int32))
    others = np.setdiff1d(np.unique(others), sources)
    heads, tails = kg.step(rule.head).expand(others)
    return len(np.unique(heads)), len(np.unique(heads[tails == y]))


def _known(kg: KnowledgeGraph, step: str) -> bool:
    try:
        kg.step(step)
    except KeyError:
        return False
    return True


def _asp(i: int, rule: Rule, index: dict[str, int]) -> str:
    """Rule `i` as an ASP rule deriving d(I, X, Y, A, B) (-1 for a variable the body does not have), every
    variable a different entity."""
    names = ["X", *"AB"[: len(rule.body) - 1], "Y"]
    atoms = [f"e({index[s]},{u},{v})" for s, u, v in zip(rule.body, names, names[1:])]
    distinct = [f"{u}!={v}" for j, u in enumerate(names) for v in names[j + 1 :]]
    a, b = (names[1:-1] + ["-1", "-1"])[:2]
    return f"d({i},X,Y,{a},{b}) :- src(X), {', '.join(atoms + distinct)}."
