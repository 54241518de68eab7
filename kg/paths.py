"""Relation-path execution: follow a plan breadth-first from topic entities, keep the witness edges.

A plan is a list of relation steps. A conjunctive plan joins branches with `AND`: each branch runs
from its own topic entity (the first from the first topic, and so on) and the answers are the
entities every branch reaches, each with a witness path from every topic.

Whether a path may come back to a topic entity is a graph's convention (MetaQA: never; a graph of
spouses: "the wife of the husband of X" is X), so `revisit` says it: without it topic entities are
removed from every frontier after the start. A frontier larger than `max_frontier` is cut (lowest
ids kept) and the cut is reported in the result, never silent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from kg.store import KnowledgeGraph

DEFAULT_MAX_FRONTIER = 20_000
MAX_HOPS = 3  # the longest relation path any planner proposes or mining searches
AND = "&"  # joins the branches of a conjunctive plan


def branches(plan: Sequence[str]) -> list[list[str]]:
    """The branches of a plan: one for a path, one per topic for a conjunctive plan."""
    parts: list[list[str]] = [[]]
    for step in plan:
        if step == AND:
            parts.append([])
        else:
            parts[-1].append(step)
    return parts


class Edge(BaseModel):
    """One traversed edge, in the direction of travel: `relation` may be an inverse `~r`."""

    source: str
    relation: str
    target: str


def render_path(path: Sequence[Edge]) -> str:
    """A witness path as text: `source --relation--> target --relation--> ...`."""
    return path[0].source + "".join(f" --{e.relation}--> {e.target}" for e in path)


def plan_text(plan: Sequence[str]) -> str:
    """A plan as text: `r1 -> r2`, and `r1 & r2` for the branches of a conjunctive plan."""
    return f" {AND} ".join(" -> ".join(part) for part in branches(plan))


def one_per_topic(paths: Sequence[Sequence[Edge]]) -> list[Sequence[Edge]]:
    """The first witness path from each topic: one for a path, one per branch for a conjunctive plan."""
    return list({path[0].source: path for path in reversed(paths) if path}.values())[::-1]


class PathResult(BaseModel):
    topics: list[str]
    plan: list[str]
    answers: list[str]  # ranked: most supporting paths first, then by name
    support: dict[str, int]  # answer -> number of distinct paths from a topic that reach it
    witnesses: dict[str, list[list[Edge]]]  # answer -> up to `max_witnesses` paths from a topic
    frontier_sizes: list[int]  # entities reached after each hop (after any cut)
    truncated_at_hop: int | None = None  # first hop whose frontier was cut, 1-based
    evidence_edges: int = 0  # edges on some path from a topic to an answer


class Layer:
    """The edges of one hop: parallel arrays of source and target ids, sorted by target."""

    def __init__(self, sources: np.ndarray, targets: np.ndarray) -> None:
        order = np.argsort(targets, kind="stable")
        self.sources, self.targets = sources[order], targets[order]

    def sources_of(self, target: int) -> np.ndarray:
        lo, hi = np.searchsorted(self.targets, [target, target + 1])
        return self.sources[lo:hi]


def execute_plan(
    kg: KnowledgeGraph,
    topics: Sequence[str],
    plan: Sequence[str],
    *,
    max_frontier: int = DEFAULT_MAX_FRONTIER,
    max_witnesses: int = 1,
    revisit: bool = False,
) -> PathResult:
    """Answers of `plan` from `topics`, with up to `max_witnesses` witness paths per answer (per topic for a
    conjunctive plan). A path runs from all `topics` at once; a conjunctive plan's branch i from `topics[i]`."""
    parts = branches(plan)
    if any(not part for part in parts):
        raise ValueError(f"a plan needs at least one relation in each branch: {list(plan)}")
    if len(parts) > 1 and len(parts) != len(topics):
        raise ValueError(f"a plan of {len(parts)} branches needs as many topic entities, got {len(topics)}")
    adjacencies = [[kg.step(step) for step in part] for part in parts]  # unknown steps fail before any work
    starts = [np.unique(np.array([kg.entity_id(t) for t in group], dtype=np.int32))
              for group in ([[t] for t in topics] if len(parts) > 1 else [topics])]
    runs = [_run(start, steps, max_frontier, revisit) for start, steps in zip(starts, adjacencies)]
    answers = runs[0][0]
    for frontier, _, _, _ in runs[1:]:
        answers = np.intersect1d(answers, frontier, assume_unique=True)
    paths = {a: [(part, path) for part, (_, layers, _, _) in zip(parts, runs) for path in _paths_to(a, layers, max_witnesses)]
             for a in answers.tolist()}
    on_paths = sorted(set(paths).union(x for found in paths.values() for _, path in found for edge in path for x in edge))
    name = dict(zip(on_paths, kg.name_of(on_paths)))  # only these: a store looks names up
    witnesses = {name[a]: [[Edge(source=name[s], relation=part[i], target=name[t]) for i, (s, t) in enumerate(path)]
                           for part, path in found] for a, found in paths.items()}
    support = np.ones(len(answers), dtype=np.int64)
    for start, (_, layers, _, _) in zip(starts, runs):
        support *= _path_counts(start, layers, answers)
    support_by_name = {name[a]: int(n) for a, n in zip(answers.tolist(), support.tolist())}
    sizes: list[int] = []
    for i, (_, _, hop_sizes, _) in enumerate(runs):
        sizes += ([1] if i else []) + hop_sizes + [0] * (len(parts[i]) - len(hop_sizes))  # AND: the next topic
    cuts = [offset + hop for offset, (_, _, _, hop) in zip(np.cumsum([0] + [len(p) + 1 for p in parts]), runs) if hop]
    return PathResult(
        topics=list(topics),
        plan=list(plan),
        answers=sorted(witnesses, key=lambda a: (-support_by_name[a], a)),
        support=support_by_name,
        witnesses=witnesses,
        frontier_sizes=sizes,
        truncated_at_hop=int(cuts[0]) if cuts else None,
        evidence_edges=sum(_evidence_size(answers, layers) for _, layers, _, _ in runs),
    )


def _run(start: np.ndarray, adjacencies: list, max_frontier: int, revisit: bool
         ) -> tuple[np.ndarray, list[Layer], list[int], int | None]:
    """(answers, layers, frontier sizes, first hop cut) of one path from `start`."""
    frontier = start
    layers: list[Layer] = []
    sizes: list[int] = []
    truncated_at: int | None = None
    for hop, adjacency in enumerate(adjacencies, 1):
        sources, targets = adjacency.expand(frontier)
        if not revisit:
            keep = ~np.isin(targets, start)
            sources, targets = sources[keep], targets[keep]
        frontier = np.unique(targets)
        if len(frontier) > max_frontier:
            truncated_at = truncated_at or hop
            frontier = frontier[:max_frontier]
            keep = np.isin(targets, frontier)
            sources, targets = sources[keep], targets[keep]
        layers.append(Layer(sources, targets))
        sizes.append(len(frontier))
        if len(frontier) == 0:
            break
    answers = frontier if len(layers) == len(adjacencies) else np.empty(0, dtype=np.int32)
    return answers, layers, sizes, truncated_at


def _paths_to(answer: int, layers: list[Layer], limit: int) -> list[list[tuple[int, int]]]:
    """Up to `limit` paths (as (source, target) pairs per hop) ending at `answer`, depth first."""
    paths: list[list[tuple[int, int]]] = []

    def walk(node: int, hop: int, suffix: list[tuple[int, int]]) -> None:
        if hop < 0:
            paths.append(suffix)
            return
        for source in layers[hop].sources_of(node).tolist():
            if len(paths) >= limit:
                return
            walk(source, hop - 1, [(source, node), *suffix])

    walk(answer, len(layers) - 1, [])
    return paths


def _path_counts(start: np.ndarray, layers: list[Layer], answers: np.ndarray) -> np.ndarray:
    """Number of distinct paths from the topics to each of `answers` (sorted ids of the last layer)."""
    nodes, counts = start, np.ones(len(start), dtype=np.int64)  # sorted ids, and the paths that reach each
    for layer in layers:
        at = np.searchsorted(nodes, layer.sources)  # every source of a layer was reached by the layer before
        nodes, inverse = np.unique(layer.targets, return_inverse=True)
        counts = np.bincount(inverse, weights=counts[at], minlength=len(nodes)).astype(np.int64)
    return counts[np.searchsorted(nodes, answers)] if len(answers) else np.zeros(0, dtype=np.int64)


def _evidence_size(answers: np.ndarray, layers: list[Layer]) -> int:
    """Count the edges that lie on some topic-to-answer path (the grounding subgraph)."""
    reached, total = answers, 0
    for layer in reversed(layers):
        on_path = np.isin(layer.targets, reached)
        total += int(on_path.sum())
        reached = np.unique(layer.sources[on_path])
    return total
