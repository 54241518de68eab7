"""Relation-path execution: follow a plan breadth-first from topic entities, keep the witness edges.

MetaQA convention: a path never returns to a topic entity, so topic entities are removed from every
frontier after the start. A frontier larger than `max_frontier` is cut (lowest ids kept) and the
cut is reported in the result, never silent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from kg.store import KnowledgeGraph

DEFAULT_MAX_FRONTIER = 20_000
MAX_HOPS = 3  # the longest relation path any planner proposes or mining searches


class Edge(BaseModel):
    """One traversed edge, in the direction of travel: `relation` may be an inverse `~r`."""

    source: str
    relation: str
    target: str


def render_path(path: Sequence[Edge]) -> str:
    """A witness path as text: `source --relation--> target --relation--> ...`."""
    return path[0].source + "".join(f" --{e.relation}--> {e.target}" for e in path)


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
) -> PathResult:
    """Answers of `plan` from `topics`, with up to `max_witnesses` witness paths per answer."""
    if not plan:
        raise ValueError("a plan needs at least one relation")
    adjacencies = [kg.step(step) for step in plan]
    start = np.unique(np.array([kg.entity_id(t) for t in topics], dtype=np.int32))
    frontier = start
    layers: list[Layer] = []
    sizes: list[int] = []
    truncated_at: int | None = None
    for hop, adjacency in enumerate(adjacencies, 1):
        sources, targets = adjacency.expand(frontier)
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

    answers = frontier if len(layers) == len(plan) else np.empty(0, dtype=np.int32)
    names = kg.names
    witnesses = {
        names[a]: [[Edge(source=names[s], relation=plan[i], target=names[t]) for i, (s, t) in enumerate(path)]
                   for path in _paths_to(int(a), layers, max_witnesses)]
        for a in answers.tolist()
    }
    support = _path_counts(start, layers, len(kg.names)) if len(answers) else {}
    support_by_name = {names[a]: int(support[a]) for a in answers.tolist()}
    return PathResult(
        topics=list(topics),
        plan=list(plan),
        answers=sorted(witnesses, key=lambda a: (-support_by_name[a], a)),
        support=support_by_name,
        witnesses=witnesses,
        frontier_sizes=sizes,
        truncated_at_hop=truncated_at,
        evidence_edges=_evidence_size(answers, layers),
    )


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


def _path_counts(start: np.ndarray, layers: list[Layer], n: int) -> np.ndarray:
    """Number of distinct paths from the topics to every entity of the last layer."""
    counts = np.zeros(n, dtype=np.int64)
    counts[start] = 1
    for layer in layers:
        reached = np.zeros(n, dtype=np.int64)
        np.add.at(reached, layer.targets, counts[layer.sources])
        counts = reached
    return counts


def _evidence_size(answers: np.ndarray, layers: list[Layer]) -> int:
    """Count the edges that lie on some topic-to-answer path (the grounding subgraph)."""
    reached, total = answers, 0
    for layer in reversed(layers):
        on_path = np.isin(layer.targets, reached)
        total += int(on_path.sum())
        reached = np.unique(layer.sources[on_path])
    return total
