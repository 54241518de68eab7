"""A knowledge graph in an RDF store: Oxigraph on disk (embedded), or a SPARQL 1.1 endpoint over HTTP.

`load_store` writes a triple file into a store folder: an Oxigraph database (`oxigraph/`) and the name
index (`names.sqlite`, see `kg.names`). Entity i, numbered in load order exactly as the in-memory store
numbers it, is `<urn:reasoner:e:i>` with its name as `rdfs:label`; relation `r` is `<urn:reasoner:r:r>`.
So ids, frontier cuts and witness paths are the same on every backend. One more triple,
`<urn:reasoner:graph> <urn:reasoner:meta> "…"`, holds what the graph's users read before a question:
the relations in load order, the counts, the load report, the stored inverses and the schema, all
computed once at load. An endpoint serving the same triples (Oxigraph's server over the folder, or
QLever or Virtuoso loaded from `oxigraph dump`) is the same graph.

A hop of a plan is one SPARQL query, `VALUES` over the frontier, run by `kg.paths` hop by hop so the
frontier cut and witness paths are the in-memory store's. Whole-graph jobs (training an edge scorer,
mining in forked workers) read `triples` and `names` out of the store once, into memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import numpy as np

from kg.names import SqliteNames
from kg.schema import derive_schema
from kg.store import INVERSE, KnowledgeGraph, LoadReport, TripleFormat, detect_format, read_triples

log = logging.getLogger(__name__)

ENTITY = "urn:reasoner:e:"
RELATION = "urn:reasoner:r:"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
GRAPH, META = "urn:reasoner:graph", "urn:reasoner:meta"
FORMAT = 1  # the meta record's layout
CHUNK = 500_000  # triples handed to Oxigraph's bulk loader at once
VALUES = 5_000  # frontier entities per query


class StoreError(RuntimeError):
    """A store folder or endpoint that cannot serve as a graph, with what to do about it."""


def _literal(text: str) -> str:
    """`text` as a quoted literal of N-Triples and SPARQL (JSON's escapes are valid in both)."""
    return json.dumps(text, ensure_ascii=False)


def _relation_iri(relation: str) -> str:
    return RELATION + quote(relation, safe="")


def load_store(kb: Path, folder: Path, *, format: TripleFormat | None = None, skip_bad_lines: bool = False,
               progress: Callable[[str, int, int | None], None] | None = None) -> LoadReport:
    """Write the triple file `kb` into a new store folder. `progress(stage, done, total)` is told each stage's
    progress: `lines` read and stored, then `names` indexed."""
    import pyoxigraph as ox

    if not kb.is_file():
        raise FileNotFoundError(f"knowledge graph file not found: {kb}")
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty: remove it or name a new folder")
    fmt = format or detect_format(kb)
    report = LoadReport(path=str(kb), format=fmt)
    total = _count_lines(kb)
    tell = progress or (lambda stage, done, total: None)
    folder.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(folder / "oxigraph"))
    ids: dict[str, int] = {}
    relations: dict[str, str] = {}  # name -> IRI, in load order
    rel_index: dict[str, int] = {}
    flat: list[int] = []
    chunks: list[np.ndarray] = []
    text: list[str] = []
    label = f"> <{LABEL}> "

    def entity(name: str) -> int:
        i = ids.get(name)
        if i is None:
            i = ids[name] = len(ids)
            text.append(f"<{ENTITY}{i}{label}{_literal(name)} .\n")
        return i

    def flush() -> None:
        store.bulk_load(input="".join(text).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
        chunks.append(np.asarray(flat, dtype=np.int32).reshape(-1, 3))
        text.clear()
        flat.clear()
        tell("lines", report.lines, total)

    for head, relation, tail in read_triples(kb, fmt, report, skip_bad_lines):
        h, t = entity(head), entity(tail)
        if relation not in relations:
            relations[relation], rel_index[relation] = _relation_iri(relation), len(rel_index)
        text.append(f"<{ENTITY}{h}> <{relations[relation]}> <{ENTITY}{t}> .\n")
        flat += (h, rel_index[relation], t)
        if len(flat) >= 3 * CHUNK:
            flush()
    flush()
    raw = np.concatenate(chunks)
    unique = np.unique(raw, axis=0) if len(raw) else raw
    report.triples, report.duplicates = len(unique), len(raw) - len(unique)
    del raw
    chunks.clear()
    names = list(ids)
    ids.clear()
    kg = KnowledgeGraph(names, list(relations), unique, report)
    meta = {"format": FORMAT, "relations": list(relations), "entities": len(names), "report": vars(report),
            "same_as": kg.same_as, "schema": derive_schema(kg).model_dump()}
    store.add(ox.Quad(ox.NamedNode(GRAPH), ox.NamedNode(META), ox.Literal(json.dumps(meta, ensure_ascii=False))))
    store.flush()
    indexed = 0

    def named(n: int) -> None:
        nonlocal indexed
        indexed += n
        tell("names", indexed, len(names))

    SqliteNames.build(folder / "names.sqlite", enumerate(names), named)
    return report


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


class Oxigraph:
    """SPARQL over an Oxigraph folder, opened read-only (several processes may read it at once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._opened: tuple[int, object] | None = None

    def select(self, query: str) -> list[tuple[str, ...]]:
        import pyoxigraph as ox

        if self._opened is None or self._opened[0] != os.getpid():  # a forked worker opens its own handle
            self._opened = (os.getpid(), ox.Store.read_only(str(self.folder)))
        solutions = self._opened[1].query(query)
        width = len(solutions.variables)
        return [tuple(row[i].value for i in range(width)) for row in solutions]


class Endpoint:
    """SPARQL over HTTP (SPARQL 1.1 protocol: a POSTed form, JSON results)."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout, headers={"Accept": "application/sparql-results+json"})

    def select(self, query: str) -> list[tuple[str, ...]]:
        try:
            response = self.client.post(self.url, data={"query": query})
        except httpx.HTTPError as e:
            raise StoreError(f"SPARQL endpoint {self.url} did not answer: {e}") from None
        if response.status_code != 200:
            raise StoreError(f"SPARQL endpoint {self.url} answered {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
            variables = body["head"]["vars"]
            return [tuple(b[v]["value"] for v in variables) for b in body["results"]["bindings"]]
        except (ValueError, KeyError, TypeError) as e:
            raise StoreError(f"SPARQL endpoint {self.url} sent results that are not SPARQL JSON: {e!r}") from None


    def names(self) -> Iterator[tuple[int, str]]:
        """Every entity's (id, name), streamed as tab-separated results."""
        query = f"SELECT ?e ?n WHERE {{ ?e <{LABEL}> ?n }}"
        try:
            with self.client.stream("POST", self.url, data={"query": query}, headers={"Accept": "text/tab-separated-values"}) as response:
                if response.status_code != 200:
                    raise StoreError(f"SPARQL endpoint {self.url} answered {response.status_code} when asked for names")
                lines = response.iter_lines()
                next(lines, None)  # the header: ?e ?n
                for line in lines:
                    entity, _, literal = line.partition("\t")
                    if entity.startswith(f"<{ENTITY}"):
                        yield int(entity[len(ENTITY) + 1 : -1]), _unquote(literal)
        except httpx.HTTPError as e:
            raise StoreError(f"SPARQL endpoint {self.url} did not answer: {e}") from None


def _unquote(literal: str) -> str:
    """The text of a literal written as in N-Triples: `"…"`, maybe with a language tag or datatype."""
    end = literal.rfind('"')
    try:
        return json.loads(literal[: end + 1].replace("\\'", "'"))
    except ValueError:
        raise StoreError(f"not a literal: {literal[:200]!r}") from None


class SparqlStep:
    """One relation step over SPARQL: `expand` is one query per `VALUES` chunk of the frontier."""

    def __init__(self, sparql: Oxigraph | Endpoint, step: str) -> None:
        self.sparql = sparql
        relation = step.removeprefix(INVERSE)
        edge = "?s <{}> ?o" if relation == step else "?o <{}> ?s"
        self.pattern = edge.format(_relation_iri(relation))

    def expand(self, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All edges leaving `frontier` (sorted ids), as parallel arrays (source, target) in the in-memory order."""
        rows: list[tuple[str, ...]] = []
        for start in range(0, len(frontier), VALUES):
            values = " ".join(f"<{ENTITY}{i}>" for i in frontier[start : start + VALUES].tolist())
            rows += self.sparql.select(f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {values} }} {self.pattern} }}")
        sources, targets = _ids([s for s, _ in rows]), _ids([o for _, o in rows])
        order = np.lexsort((targets, sources))
        return sources[order], targets[order]

    def neighbours(self, entity: int) -> np.ndarray:
        return self.expand(np.array([entity]))[1]


def _ids(iris: list[str]) -> np.ndarray:
    try:
        return np.array([int(iri[len(ENTITY):]) for iri in iris], dtype=np.int64)
    except ValueError:
        bad = next(iri for iri in iris if not iri.startswith(ENTITY) or not iri[len(ENTITY):].isdigit())
        raise StoreError(f"the store holds an edge to {bad!r}, not an entity of a graph loaded by `reasoner kg load`") from None


class RdfGraph(KnowledgeGraph):
    """A `KnowledgeGraph` whose edges and names stay in a store: open with `open_store` or `open_endpoint`."""

    def __init__(self, sparql: Oxigraph | Endpoint, names: SqliteNames, meta: dict, source: str) -> None:
        self.sparql, self.name_index, self.source = sparql, names, source
        self.relations = meta["relations"]
        self.report = LoadReport(**meta["report"])
        self._entities = meta["entities"]
        self.meta, self.stored_schema = meta, meta["schema"]
        self.same_as = meta["same_as"]
        self._steps = {step: SparqlStep(sparql, step) for r in self.relations for step in (r, INVERSE + r)}

    @property
    def entity_count(self) -> int:
        return self._entities

    def step(self, step: str) -> SparqlStep:
        try:
            return self._steps[step]
        except KeyError:
            raise KeyError(f"unknown relation {step!r}; known relations: {', '.join(self.steps)}") from None

    def has(self, name: str) -> bool:
        return self._id(name) is not None

    def entity_id(self, name: str) -> int:
        i = self._id(name)
        if i is None:
            raise KeyError(f"entity not in the knowledge graph: {name!r}")
        return i

    @lru_cache(maxsize=65_536)
    def _id(self, name: str) -> int | None:
        return self.name_index.id_of(name)

    def name_of(self, ids: list[int]) -> list[str]:
        return self.name_index.name_of(ids)

    def steps_from(self, entity: int) -> list[str]:
        rows = self.sparql.select(f"SELECT DISTINCT ?p ?d WHERE {{ {{ <{ENTITY}{entity}> ?p ?o BIND(1 AS ?d) }} "
                                  f"UNION {{ ?o ?p <{ENTITY}{entity}> BIND(0 AS ?d) }} }}")
        found = {unquote(p[len(RELATION):]) if d == "1" else INVERSE + unquote(p[len(RELATION):])
                 for p, d in rows if p.startswith(RELATION)}
        return [s for s in self._steps if s in found]

    # ---- the whole graph, read out of the store once (offline jobs) ---------------------------

    @cached_property
    def names(self) -> list[str]:
        return list(self.name_index.names())

    @cached_property
    def triples(self) -> np.ndarray:
        index = {_relation_iri(r): i for i, r in enumerate(self.relations)}
        rows = self.sparql.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?p), \"" + RELATION + "\")) }")
        triples = np.array([(int(s[len(ENTITY):]), index[p], int(o[len(ENTITY):])) for s, p, o in rows], dtype=np.int32)
        return np.unique(triples.reshape(-1, 3), axis=0)

    def __repr__(self) -> str:
        return f"RdfGraph({self.source}: {self._entities} entities, {len(self.relations)} relations, {self.report.triples} triples)"


def _meta(sparql: Oxigraph | Endpoint, where: str) -> dict:
    rows = sparql.select(f"SELECT ?m WHERE {{ <{GRAPH}> <{META}> ?m }}")
    if not rows:
        raise StoreError(f"{where} holds no graph loaded by `reasoner kg load` (no <{META}> record)")
    meta = json.loads(rows[0][0])
    if meta.get("format") != FORMAT:
        raise StoreError(f"{where} was stored in layout {meta.get('format')}; this version reads layout {FORMAT}: load it again")
    return meta


def is_store(path: Path) -> bool:
    return (path / "oxigraph").is_dir() and (path / "names.sqlite").is_file()


def open_store(folder: Path) -> RdfGraph:
    if not is_store(folder):
        raise StoreError(f"{folder} is not a graph store: build one with `reasoner kg load KB --store {folder}`")
    sparql = Oxigraph(folder / "oxigraph")
    return RdfGraph(sparql, SqliteNames(folder / "names.sqlite"), _meta(sparql, str(folder)), str(folder))


def names_cache(meta: dict, cache: Path | None = None) -> Path:
    """Where the name index of the graph `meta` describes is kept for its endpoints (one file per loaded graph: a
    store folder's `names.sqlite` may be linked or copied there instead of reading the names over HTTP)."""
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:24]
    cache = cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reasoner" / "names"
    return cache / f"{digest}.sqlite"


def open_endpoint(url: str, cache: Path | None = None) -> RdfGraph:
    """A graph behind a SPARQL endpoint. Its name index is read from the endpoint once into `names_cache`."""
    sparql = Endpoint(url)
    meta = _meta(sparql, url)
    path = names_cache(meta, cache)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        log.warning("reading the names of %d entities from %s into %s (once)", meta["entities"], url, path)
        SqliteNames.build(partial, sparql.names())
        partial.replace(path)
    return RdfGraph(sparql, SqliteNames(path), meta, url)


@contextlib.contextmanager
def sparql_server(folder: Path, wait: float = 60.0) -> Iterator[str]:
    """Oxigraph's SPARQL server (the `oxigraph` command of the `sparql` extra), read-only over a store folder's
    database on a free local port, while the block runs; yields its query URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [str(Path(sys.executable).parent / "oxigraph"), "serve-read-only", "--location", str(folder / "oxigraph"),
               "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise StoreError(f"the SPARQL server over {folder} did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/query"
    finally:
        server.terminate()
        server.wait()


def open_graph(spec: str | Path, *, skip_bad_lines: bool = False) -> KnowledgeGraph:
    """A graph from a triple file (loaded into memory), a store folder, or a SPARQL endpoint URL."""
    text = str(spec)
    if text.startswith(("http://", "https://")):
        return open_endpoint(text)
    path = Path(spec)
    if path.is_dir():
        return open_store(path)
    return KnowledgeGraph.load(path, skip_bad_lines=skip_bad_lines)
