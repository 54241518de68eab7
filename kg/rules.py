"""Horn rules mined from a knowledge graph, for inferring the edges it lacks.

A rule here is a closed path rule, AMIE's commonest shape: the head is one step from X to Y, the body a path
of one to three steps from X to Y through fresh variables,

    in_language(X, Y) :- directed_by(X, A), directed_by(B, A), in_language(B, Y)

written with steps as `in_language <= directed_by, ~directed_by, in_language`. Every variable is bound to a
different entity (object identity): "films by the same director" means another film, never X itself, so a rule
never proves a fact from that fact. (AMIE's other closed shapes, two atoms over the same pair of variables,
are not mined.)

Each rule is scored on the graph as AMIE scores it:
- support: the pairs (X, Y) the body yields that the graph holds as head facts;
- head coverage: support over the head step's edges;
- PCA confidence: support over the body's pairs (X, Y) whose X has some edge of the head step (the partial
  completeness assumption: an X with no head edge at all is unknown, not a counter-example).

A head is a step (`~directed_by` reads "directed" from the person), because questions go out from their topic:
PCA confidence is then taken over the topic's side.

Mining multiplies the steps' sparse adjacency matrices, rows (X) in chunks, so memory stays bounded by a
chunk of paths; bodies are only paths whose kinds chain in the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel

from kg.schema import Schema, derive_schema
from kg.store import INVERSE, KnowledgeGraph, inverse_of

MAX_BODY = 3
MIN_SUPPORT = 10
MIN_HEAD_COVERAGE = 0.01
MIN_CONFIDENCE = 0.1
CHUNK = 2048  # rows (X) multiplied at once
RULES_FILE = "rules.jsonl"  # beside a trained planner


class Rule(BaseModel):
    head: str  # a step from X to Y
    body: list[str]  # steps from X to Y
    support: int
    head_coverage: float
    pca_confidence: float
    pca_body: int  # the body's pairs whose X has a head edge: the PCA confidence's denominator

    def text(self) -> str:
        """Datalog: `in_language(X, Y) :- directed_by(X, A), directed_by(B, A), in_language(B, Y)`."""
        names = ["X", *"ABC"[: len(self.body) - 1], "Y"]
        atoms = [_atom(step, a, b) for step, a, b in zip(self.body, names, names[1:])]
        return f"{_atom(self.head, 'X', 'Y')} :- {', '.join(atoms)}"


def _atom(step: str, a: str, b: str) -> str:
    return f"{step[1:]}({b}, {a})" if step.startswith(INVERSE) else f"{step}({a}, {b})"


def write_rules(rules: Iterable[Rule], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for rule in rules:
            f.write(rule.model_dump_json() + "\n")
            n += 1
    return n


def read_rules(path: Path) -> list[Rule]:
    rules = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rules.append(Rule.model_validate_json(line))
            except ValueError as e:
                raise ValueError(f"{path}:{line_no}: not a rule: {e}") from None
    return rules


@dataclass
class _Tally:
    support: int = 0
    pca_body: int = 0


@dataclass
class _Matrices:
    """Each step's adjacency as a sparse 0/1 matrix without self-loops, and the path-count diagonals object
    identity needs."""

    kg: KnowledgeGraph
    steps: dict[str, sp.csr_matrix] = field(default_factory=dict)
    diagonals: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def __getitem__(self, step: str) -> sp.csr_matrix:
        if step not in self.steps:
            adjacency, n = self.kg.adjacency[step], self.kg.entity_count
            m = sp.csr_matrix((np.ones(len(adjacency.indices), dtype=np.float64), adjacency.indices, adjacency.indptr),
                              shape=(n, n))
            m.setdiag(0)
            m.eliminate_zeros()
            self.steps[step] = m
        return self.steps[step]

    def round_trips(self, a: str, b: str) -> np.ndarray:
        """Per entity U, the paths U -a-> V -b-> U."""
        if (a, b) not in self.diagonals:
            self.diagonals[a, b] = np.asarray(self[a].multiply(self[b].T).sum(axis=1)).ravel()
        return self.diagonals[a, b]


def mine_rules(kg: KnowledgeGraph, schema: Schema | None = None, *, max_body: int = MAX_BODY,
               min_support: int = MIN_SUPPORT, min_head_coverage: float = MIN_HEAD_COVERAGE,
               min_confidence: float = MIN_CONFIDENCE, chunk: int = CHUNK,
               progress: Callable[[int, int], None] | None = None) -> list[Rule]:
    """Every closed path rule with up to `max_body` steps that meets the thresholds, best PCA confidence first."""
    if not 1 <= max_body <= MAX_BODY:
        raise ValueError(f"max_body must be 1 to {MAX_BODY}, got {max_body}")
    schema = schema or derive_schema(kg)
    steps = [r.name for r in schema.relations]
    kind = {r.name: (r.head_kind, r.tail_kind) for r in schema.relations}
    matrices = _Matrices(kg)
    heads = {h: matrices[h] for h in steps}
    rows = {h: np.flatnonzero(np.diff(m.indptr)) for h, m in heads.items()}  # the X of each head: PCA's domain
    bodies = [p for n in range(1, max_body + 1) for p in _paths(steps, kind, n)]
    by_start: dict[str, list[tuple[str, ...]]] = {}
    for body in bodies:
        by_start.setdefault(kind[body[0]][0], []).append(body)
    tallies: dict[tuple[str, tuple[str, ...]], _Tally] = {}
    total = sum(len(bs) for bs in by_start.values())
    done = 0
    for start, group in by_start.items():
        domain = np.unique(np.concatenate([rows[h] for h in steps if kind[h][0] == start] or [np.empty(0, np.int64)]))
        for body in group:
            fitting = [h for h in steps if kind[h] == (start, kind[body[-1]][1]) and _not_trivial(h, body, schema)]
            if fitting:
                for at in range(0, len(domain), chunk):
                    block = domain[at : at + chunk]
                    pairs = _body_pairs(matrices, body, block)
                    for h in fitting:
                        inside = np.isin(block, rows[h])
                        if not inside.any():
                            continue
                        found = pairs[inside]
                        tally = tallies.setdefault((h, body), _Tally())
                        tally.pca_body += found.nnz
                        tally.support += found.multiply(heads[h][block[inside]]).nnz
            done += 1
            if progress:
                progress(done, total)
    rules = []
    for (h, body), t in tallies.items():
        coverage = t.support / heads[h].nnz
        confidence = t.support / t.pca_body if t.pca_body else 0.0
        if t.support >= min_support and coverage >= min_head_coverage and confidence >= min_confidence:
            rules.append(Rule(head=h, body=list(body), support=t.support, head_coverage=round(coverage, 4),
                              pca_confidence=round(confidence, 4), pca_body=t.pca_body))
    return sorted(rules, key=lambda r: (-r.pca_confidence, -r.support, r.head, r.body))


def _paths(steps: list[str], kind: dict[str, tuple[str, str]], n: int) -> list[tuple[str, ...]]:
    """Paths of `n` steps whose kinds chain."""
    paths = [(s,) for s in steps]
    for _ in range(n - 1):
        paths = [p + (s,) for p in paths for s in steps if kind[s][0] == kind[p[-1]][1]]
    return paths


def _not_trivial(head: str, body: tuple[str, ...], schema: Schema) -> bool:
    same = lambda s: schema.same_as.get(s, s)  # noqa: E731
    return not (len(body) == 1 and same(body[0]) == same(head))


def _body_pairs(m: _Matrices, body: tuple[str, ...], block: np.ndarray) -> sp.csr_matrix:
    """For the rows `block` (X), the Y the body reaches with every variable a different entity, as a 0/1 matrix."""
    first = m[body[0]][block]
    if len(body) == 1:
        counts = first
    elif len(body) == 2:
        counts = first @ m[body[1]]
    else:
        a, b, c = body
        counts = first @ m[b] @ m[c]
        # Inclusion-exclusion over the two ways a 3-step path can reuse an entity: back at X after two steps
        # (X -a-> Z1 -b-> X -c-> Y), or at Y after one (X -a-> Y -b-> Z2 -c-> Y).
        at_x = sp.diags(m.round_trips(a, b)[block]) @ m[c][block]
        at_y = first @ sp.diags(m.round_trips(b, c))
        both = first.multiply(m[inverse_of(b)][block]).multiply(m[c][block])
        counts = counts - at_x - at_y + both
    counts = sp.coo_matrix(counts)
    keep = (counts.data > 0) & (block[counts.row] != counts.col)  # and Y is not X
    return sp.csr_matrix((np.ones(int(keep.sum())), (counts.row[keep], counts.col[keep])), shape=counts.shape)


def rules_by_head(rules: Iterable[Rule]) -> dict[str, list[Rule]]:
    found: dict[str, list[Rule]] = {}
    for rule in rules:
        found.setdefault(rule.head, []).append(rule)
    return found
