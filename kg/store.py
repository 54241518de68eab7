"""Load a knowledge graph from triple files into a networkx graph plus the indices the hot path needs.

Formats: MetaQA `head|relation|tail`, TSV `head<TAB>relation<TAB>tail`, JSONL `{"head","relation","tail"}`.
Names are kept exactly as written. Entities get dense integer ids; each relation gets a CSR
adjacency per direction (`r` head->tail, `~r` tail->head) so a hop over a frontier is a few numpy calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np

from kg.names import MemoryNames

log = logging.getLogger(__name__)

INVERSE = "~"
TripleFormat = Literal["pipe", "tsv", "jsonl"]


class KGFormatError(ValueError):
    """A line of a triple file is not what its format expects."""

    def __init__(self, path: Path, line_no: int, problem: str) -> None:
        self.path, self.line_no, self.problem = path, line_no, problem
        super().__init__(f"{path}:{line_no}: {problem}")


@dataclass
class LoadReport:
    """What loading found: nothing is dropped without being counted here."""

    path: str
    format: TripleFormat
    lines: int = 0
    triples: int = 0
    duplicates: int = 0
    blank_lines: int = 0
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Adjacency:
    """Compressed rows: the neighbours of entity i are indices[indptr[i]:indptr[i+1]], sorted."""

    indptr: np.ndarray
    indices: np.ndarray

    def neighbours(self, entity: int) -> np.ndarray:
        return self.indices[self.indptr[entity] : self.indptr[entity + 1]]

    def expand(self, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All edges leaving `frontier`, as parallel arrays (source, target)."""
        starts, ends = self.indptr[frontier], self.indptr[frontier + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int32)
            return empty, empty
        # Concatenate the row slices without a Python loop: position k of the output reads
        # indices[starts[row(k)] + offset of k within its row].
        row = np.repeat(np.arange(len(frontier)), lengths)
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return frontier[row], self.indices[starts[row] + offsets]


def inverse_of(step: str) -> str:
    """`r` <-> `~r`."""
    return step[1:] if step.startswith(INVERSE) else INVERSE + step


class KnowledgeGraph:
    """Entities, relations and their adjacency. Build with `KnowledgeGraph.load` or `from_triples`."""

    stored_schema: dict | None = None  # a schema derived when the graph was stored (`kg.rdf`), else derived on demand

    def __init__(self, names: list[str], relations: list[str], triples: np.ndarray, report: LoadReport):
        self.names = names
        self.relations = relations
        self.triples = triples  # int32 array (n, 3): head id, relation index, tail id; deduplicated
        self.report = report

    @cached_property
    def ids(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def adjacency(self) -> dict[str, Adjacency]:
        """Each step's CSR rows: `r` head -> tail, `~r` tail -> head."""
        adjacency: dict[str, Adjacency] = {}
        n, triples = len(self.names), self.triples
        for r, relation in enumerate(self.relations):
            edges = triples[triples[:, 1] == r]
            adjacency[relation] = _csr(edges[:, 0], edges[:, 2], n)
            adjacency[INVERSE + relation] = _csr(edges[:, 2], edges[:, 0], n)
        return adjacency

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def load(
        cls, path: str | Path, *, format: TripleFormat | None = None, skip_bad_lines: bool = False
    ) -> KnowledgeGraph:
        """Read a triple file. A malformed line raises KGFormatError unless `skip_bad_lines`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"knowledge graph file not found: {path}" + (" (it is a folder)" if path.is_dir() else ""))
        fmt = format or detect_format(path)
        report = LoadReport(path=str(path), format=fmt)
        kg = cls.from_triples(list(read_triples(path, fmt, report, skip_bad_lines)), report=report)
        if report.bad_lines:
            log.warning(
                "%s: skipped %d malformed line(s), e.g. %s",
                path,
                report.bad_lines,
                "; ".join(report.bad_examples),
            )
        return kg

    @classmethod
    def from_triples(
        cls, triples: Iterator[tuple[str, str, str]] | list[tuple[str, str, str]], *, report: LoadReport | None = None
    ) -> KnowledgeGraph:
        report = report or LoadReport(path="<memory>", format="pipe")
        ids: dict[str, int] = {}
        rel_ids: dict[str, int] = {}
        flat: list[int] = []
        for head, relation, tail in triples:
            flat.append(ids.setdefault(head, len(ids)))
            flat.append(rel_ids.setdefault(relation, len(rel_ids)))
            flat.append(ids.setdefault(tail, len(ids)))
        raw = np.asarray(flat, dtype=np.int32).reshape(-1, 3)
        unique = np.unique(raw, axis=0) if len(raw) else raw
        report.triples = len(unique)
        report.duplicates = len(raw) - len(unique)
        return cls(list(ids), list(rel_ids), unique, report)

    # ---- lookups ------------------------------------------------------------------------

    @cached_property
    def same_as(self) -> dict[str, str]:
        """Steps that repeat another: a relation stored as the inverse of another (`plays_in_club_inverse` holds
        exactly the edges of `plays_in_club` reversed) or as a copy of it, mapped (both directions) to the step
        it repeats. Planners and mining use the other; a plan naming either grounds the same."""
        edges = {r: self.triples[self.triples[:, 1] == i][:, [0, 2]] for i, r in enumerate(self.relations)}
        by_size: dict[int, list[str]] = {}
        for r in self.relations:
            by_size.setdefault(len(edges[r]), []).append(r)
        same: dict[str, str] = {}
        for size, group in by_size.items():
            for i, first in enumerate(group):
                for second in group[i + 1 :]:
                    if first in same or second in same or not size:
                        continue
                    # keep the plainer name: `plays_in_club`, not `plays_in_club_inverse`
                    a, b = (first, second) if len(first) <= len(second) else (second, first)
                    if _same_edges(edges[b], edges[a]):
                        same[b], same[INVERSE + b] = a, INVERSE + a
                    elif _same_edges(edges[b], edges[a][:, ::-1]):
                        same[b], same[INVERSE + b] = INVERSE + a, a
        return same

    @property
    def steps(self) -> list[str]:
        """Every relation step a plan needs: each relation and its inverse, less those that repeat another."""
        every = [step for relation in self.relations for step in (relation, INVERSE + relation)]
        return [s for s in every if s not in self.same_as]

    @property
    def entity_count(self) -> int:
        return len(self.names)

    def has(self, name: str) -> bool:
        return name in self.ids

    def entity_id(self, name: str) -> int:
        try:
            return self.ids[name]
        except KeyError:
            raise KeyError(f"entity not in the knowledge graph: {name!r}") from None

    def name_of(self, ids: list[int]) -> list[str]:
        names = self.names
        return [names[i] for i in ids]

    @cached_property
    def name_index(self) -> MemoryNames:
        return MemoryNames(self.ids)

    def steps_from(self, entity: int) -> list[str]:
        """The steps with at least one edge leaving `entity`."""
        return [s for s, adj in self.adjacency.items() if adj.indptr[entity + 1] > adj.indptr[entity]]

    def step(self, step: str) -> Adjacency:
        try:
            return self.adjacency[step]
        except KeyError:
            known = ", ".join(self.steps)
            raise KeyError(f"unknown relation {step!r}; known relations: {known}") from None

    def neighbours(self, entity: str, step: str) -> list[str]:
        return self.name_of(self.step(step).neighbours(self.entity_id(entity)).tolist())

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The graph as networkx: nodes are entity names, edges keyed by relation."""
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.names)
        names, relations = self.names, self.relations
        g.add_edges_from((names[h], names[t], relations[r]) for h, r, t in self.triples.tolist())
        return g

    def __repr__(self) -> str:
        return f"KnowledgeGraph({len(self.names)} entities, {len(self.relations)} relations, {len(self.triples)} triples)"


def detect_format(path: Path) -> TripleFormat:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".tsv":
        return "tsv"
    with path.open(encoding="utf-8", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonl"
    return "tsv" if "\t" in first and "|" not in first else "pipe"


def read_triples(path: Path, fmt: TripleFormat, report: LoadReport, skip_bad_lines: bool) -> Iterator[tuple[str, str, str]]:
    """The triples of a file, counting lines, blanks and (with `skip_bad_lines`) bad lines in `report`."""
    with path.open(encoding="utf-8", newline="", errors="surrogateescape") as f:
        for line_no, line in enumerate(f, 1):
            report.lines += 1
            line = line.rstrip("\r\n")
            if not line.strip():
                report.blank_lines += 1
                continue
            try:
                triple = _parse_line(line, fmt)
            except ValueError as e:
                error = KGFormatError(path, line_no, str(e))
                if not skip_bad_lines:
                    raise error from None
                report.bad_lines += 1
                if len(report.bad_examples) < 3:
                    report.bad_examples.append(f"line {line_no}: {e}")
                continue
            yield triple


_EXPECTED = {
    "pipe": "'head|relation|tail'",
    "tsv": "'head<TAB>relation<TAB>tail'",
}


def _parse_line(line: str, fmt: TripleFormat) -> tuple[str, str, str]:
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # bytes read as surrogates: the file is not UTF-8 here
        raise ValueError("not text in UTF-8") from None
    if fmt == "jsonl":
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"expected a JSON object with head, relation, tail; invalid JSON ({e.msg})") from None
        except RecursionError:
            raise ValueError("expected a JSON object with head, relation, tail; JSON nested too deeply") from None
        if not isinstance(record, dict):
            raise ValueError("expected a JSON object with head, relation, tail")
        missing = [k for k in ("head", "relation", "tail") if not isinstance(record.get(k), str) or not record[k]]
        if missing:
            raise ValueError(f"expected non-empty string fields head, relation, tail; bad or missing: {', '.join(missing)}")
        fields = [record["head"], record["relation"], record["tail"]]
    else:
        fields = line.split("|" if fmt == "pipe" else "\t")
        if len(fields) != 3:
            raise ValueError(f"expected {_EXPECTED[fmt]} (3 fields), got {len(fields)} field(s)")
        if not all(fields):
            raise ValueError(f"expected {_EXPECTED[fmt]} with no empty field")
    if fields[1].startswith(INVERSE):
        raise ValueError(f"relation names may not start with '{INVERSE}' (it marks an inverse): {fields[1]!r}")
    return fields[0], fields[1], fields[2]


def _same_edges(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two (head, tail) arrays of unique edges hold the same edges."""
    return np.array_equal(a[np.lexsort((a[:, 1], a[:, 0]))], b[np.lexsort((b[:, 1], b[:, 0]))])


def _csr(rows: np.ndarray, cols: np.ndarray, n: int) -> Adjacency:
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Adjacency(indptr, cols[order].astype(np.int32))
