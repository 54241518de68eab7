"""Plan mining: recover the relation path behind a question from its gold answers alone.

For each question, every relation path of up to `max_hops` steps (inverses included) is executed
from the topic entity, and the path whose answer set best matches the gold answers (F1) is kept;
every path with the best score is kept. A question that names a second entity apart from its topic
may be a conjunction: pairs of paths, one from each entity, are intersected too (a conjunctive plan,
`a & b`) and compete with the single paths. Questions are grouped by topic entity so that the paths
of one topic are enumerated once. A second pass picks among equally scoring paths the one that
questions of the same shape (the question with its entity masked) share, then the shortest, and
keeps the others as `ties`. These plans are the training signal for the planner.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from kg.linking import EntityLinker
from kg.paths import AND, MAX_HOPS, execute_plan
from kg.questions import Question, masked
from kg.store import KnowledgeGraph, inverse_of

Plan = tuple[str, ...]


class MinedPlan(BaseModel):
    id: str
    question: str
    topic: str | None
    topics: list[str] = []  # the topic, then a second entity the question names (for a conjunctive plan)
    masked: str | None = None  # the question as the planner reads it (entities masked by `EntityLinker.frame`)
    hops: int | None = None
    answers: list[str]  # the gold answers
    plan: list[str]  # best plan; empty when none reaches any gold answer
    f1: float
    exact: bool  # the plan's answer set equals the gold set
    predicted: int  # size of the plan's answer set
    ties: list[list[str]] = []  # other plans with the same score
    note: str | None = None  # why there is no plan, when there is none

    @property
    def masked_question(self) -> str:
        return self.masked or masked(self.question, self.topic)


def read_mined_plans(path: str | Path) -> list[MinedPlan]:
    """Mined plans from a JSONL file (what `reasoner kg mine` writes)."""
    with Path(path).open(encoding="utf-8") as f:
        return [MinedPlan.model_validate_json(line) for line in f if line.strip()]


def enumerate_paths(kg: KnowledgeGraph, topic: int, max_hops: int, gold: np.ndarray,
                    revisit: bool = False) -> dict[Plan, np.ndarray]:
    """Answer sets of every non-empty path from `topic` of up to `max_hops` steps (steps that repeat another,
    like a stored inverse, left out); with `revisit`, a path may come back to the topic.

    A final step that cannot reach any of the `gold` ids (checked backwards, which is cheap) is
    skipped: its F1 would be zero for every question of this topic.
    """
    start = np.array([topic], dtype=np.int32)
    found: dict[Plan, np.ndarray] = {}
    steps = [(step, kg.adjacency[step]) for step in kg.steps]

    def grow(prefix: Plan, frontier: np.ndarray) -> None:
        last = len(prefix) + 1 == max_hops
        for step, adjacency in steps:
            if last and not _reaches(kg, frontier, step, gold):
                continue
            _, targets = adjacency.expand(frontier)
            targets = np.unique(targets if revisit else targets[targets != topic])
            if len(targets) == 0:
                continue
            plan = (*prefix, step)
            found[plan] = targets
            if not last:
                grow(plan, targets)

    grow((), start)
    return found


def _reaches(kg: KnowledgeGraph, frontier: np.ndarray, step: str, gold: np.ndarray) -> bool:
    _, predecessors = kg.adjacency[inverse_of(step)].expand(gold)
    return bool(np.isin(predecessors, frontier).any())


def best_plans(paths: Iterable[tuple[Plan, np.ndarray]], gold: np.ndarray) -> tuple[float, list[tuple[Plan, int]]]:
    """The highest F1 against `gold` and every (plan, answers) reaching it with its answer-set size, shortest first."""
    best = 0.0
    plans: list[tuple[Plan, int]] = []
    for plan, answers in paths:
        hits = len(np.intersect1d(answers, gold, assume_unique=True))
        if hits == 0:
            continue
        f1 = round(2 * hits / (len(answers) + len(gold)), 9)
        if f1 > best:
            best, plans = f1, [(plan, len(answers))]
        elif f1 == best:
            plans.append((plan, len(answers)))
    plans.sort(key=lambda p: (len(p[0]), p[0]))
    return best, plans


def conjunctions(first: dict[Plan, np.ndarray], second: dict[Plan, np.ndarray], gold: np.ndarray,
                 max_hops: int) -> Iterator[tuple[Plan, np.ndarray]]:
    """Pairs of paths, one from each topic, that both reach a gold answer, with at most `max_hops` steps in
    all: the plan `a & b` and the entities both reach."""
    hits = lambda paths: [(p, a) for p, a in paths.items() if np.isin(a, gold).any()]  # noqa: E731
    seconds = hits(second)
    for plan_a, a in hits(first):
        for plan_b, b in seconds:
            if len(plan_a) + len(plan_b) <= max_hops:
                both = np.intersect1d(a, b, assume_unique=True)
                if len(both):
                    yield (*plan_a, AND, *plan_b), both


# ---- the whole run ----------------------------------------------------------------------

_KG: KnowledgeGraph | None = None  # the graph a worker process mines over (inherited by fork)


def mine_questions(
    kg: KnowledgeGraph,
    questions: list[Question],
    *,
    max_hops: int = MAX_HOPS,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    revisit: bool = False,
) -> list[MinedPlan]:
    """Mine a plan for every question with gold answers, in input order. With `revisit` a path may come back
    to its topic; a question naming a second entity may get a conjunctive plan."""
    linker = EntityLinker(kg)
    groups: dict[str, list[tuple[Question, list[str], str]]] = defaultdict(list)
    results: dict[str, MinedPlan] = {}
    for q in questions:
        _, topics, masked_question = linker.frame(q.question)
        topic = topics[0] if topics else None
        if not q.answers:
            results[q.id] = _unmined(q, topic, "no gold answers", topics, masked_question)
        elif topic is None:
            results[q.id] = _unmined(q, None, "no entity of the graph found in the question")
        else:
            groups[topic].append((q, topics, masked_question))
    if progress and results:
        progress(len(results))

    jobs = [(topic, group, max_hops, revisit) for topic, group in groups.items()]
    workers = workers or os.cpu_count() or 1
    global _KG
    _KG = kg
    kg.adjacency, kg.ids  # built (or read out of a store) once, before any worker forks
    try:
        if workers > 1 and len(jobs) > 1:
            with mp.get_context("fork").Pool(workers) as pool:
                _collect(pool.imap_unordered(_mine_topic, jobs, chunksize=16), results, progress)
        else:
            _collect(map(_mine_topic, jobs), results, progress)
    finally:
        _KG = None
    mined = [results[q.id] for q in questions]
    for m in resolve_ties(mined):
        if not m.exact:  # a non-exact tie may select a different number of entities
            m.predicted = len(execute_plan(kg, m.topics or [m.topic], m.plan, revisit=revisit).answers)
    return mined


def _collect(batches: Iterable[list[MinedPlan]], results: dict[str, MinedPlan], progress) -> None:
    for batch in batches:
        for m in batch:
            results[m.id] = m
        if progress:
            progress(len(batch))


def _mine_topic(job: tuple[str, list[tuple[Question, list[str], str]], int, bool]) -> list[MinedPlan]:
    topic, group, max_hops, revisit = job
    kg = _KG
    assert kg is not None
    golds = [np.unique(np.array([kg.ids[a] for a in q.answers or () if a in kg.ids], dtype=np.int32)) for q, _, _ in group]
    union = np.unique(np.concatenate(golds))
    paths = enumerate_paths(kg, kg.ids[topic], max_hops, union, revisit) if len(union) else {}
    seconds: dict[str, dict[Plan, np.ndarray]] = {}  # paths from each second entity, a branch shorter
    mined = []
    for (q, topics, masked_question), gold_ids in zip(group, golds):
        answers = q.answers or []
        # Gold answers missing from the graph still count against recall.
        gold = np.concatenate([gold_ids, -1 - np.arange(len(answers) - len(gold_ids), dtype=np.int32)])
        gold.sort()
        f1, plans = best_plans(paths.items(), gold) if len(gold_ids) else (0.0, [])
        if len(topics) > 1 and len(gold_ids):
            # A path from the topic alone may give a conjunction's answers by chance (every player of this
            # club is from that country); tied with the conjunction, the question's shape decides below.
            if topics[1] not in seconds:
                seconds[topics[1]] = enumerate_paths(kg, kg.ids[topics[1]], max_hops - 1, union, revisit)
            first = {p: a for p, a in paths.items() if len(p) < max_hops}
            both_f1, both = best_plans(conjunctions(first, seconds[topics[1]], gold_ids, max_hops), gold)
            if both_f1 > f1:
                f1, plans = both_f1, both
            elif both_f1 == f1:
                plans = plans + both
        if not plans:
            mined.append(_unmined(q, topic, "no path of up to %d hops reaches a gold answer" % max_hops, topics, masked_question))
            continue
        mined.append(
            MinedPlan(
                id=q.id, question=q.question, topic=topic, topics=topics, masked=masked_question, hops=q.hops,
                answers=answers, plan=list(plans[0][0]), f1=round(f1, 6), exact=f1 == 1.0, predicted=plans[0][1],
                ties=[list(p) for p, _ in plans[1:]],
            )
        )
    return mined


def _unmined(q: Question, topic: str | None, note: str, topics: list[str] | None = None,
             masked_question: str | None = None) -> MinedPlan:
    return MinedPlan(
        id=q.id, question=q.question, topic=topic, topics=topics or [], masked=masked_question, hops=q.hops,
        answers=q.answers or [], plan=[], f1=0.0, exact=False, predicted=0, note=note,
    )


def resolve_ties(mined: list[MinedPlan]) -> list[MinedPlan]:
    """Choose among equally scoring plans the one most questions of the same shape also reach.

    A question's shape is its text with the topic masked. The plan behind a shape scores best on
    nearly all its questions; a coincidental plan (a 1-hop path that happens to give a 3-hop
    question's answers) on few. Ties within a shape go to the shorter plan. Returns the records
    whose plan changed.
    """
    changed = []
    support: dict[str, Counter[Plan]] = defaultdict(Counter)
    for m in mined:
        if m.plan:
            support[m.masked_question].update(map(tuple, [m.plan, *m.ties]))
    for m in mined:
        if not m.ties:
            continue
        shape = support[m.masked_question]
        options = [tuple(m.plan), *map(tuple, m.ties)]
        chosen = max(options, key=lambda p: (shape[p], -len(p)))  # max keeps the first on a full tie
        if chosen != options[0]:
            m.ties = [list(p) for p in options if p != chosen]
            m.plan = list(chosen)
            changed.append(m)
    return changed


class MiningSummary(BaseModel):
    questions: int
    exact: float  # share of questions whose mined plan gives exactly the gold answers
    mean_f1: float
    no_plan: int
    plan_lengths: dict[int, int]  # hops of the mined plan -> questions
    top_plans: list[tuple[str, int]]  # most frequent plans, as "r1,~r2"


def summarise(mined: list[MinedPlan], top: int = 10) -> dict[str, MiningSummary]:
    """Figures per question hop count (from the file name or record) and over all questions."""
    groups: dict[str, list[MinedPlan]] = defaultdict(list)
    for m in mined:
        groups["all"].append(m)
        if m.hops is not None:
            groups[f"{m.hops}-hop"].append(m)
    summary = {}
    for name, group in sorted(groups.items()):
        plans = Counter(",".join(m.plan) for m in group if m.plan)
        summary[name] = MiningSummary(
            questions=len(group),
            exact=round(sum(m.exact for m in group) / len(group), 4),
            mean_f1=round(sum(m.f1 for m in group) / len(group), 4),
            no_plan=sum(not m.plan for m in group),
            plan_lengths=dict(sorted(Counter(len(m.plan) for m in group if m.plan).items())),
            top_plans=plans.most_common(top),
        )
    return summary
