"""The embedding planner: the edge scorer of `kg.search` behind the same planner interface as the LLM planner.

It links and masks like the LLM planner, then proposes the beam search's plans instead of sampling
a model, so the KG tool, its checks and the traces work unchanged. No model server is involved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from kg.linking import EntityLinker, Framed
from kg.mining import MinedPlan
from kg.paths import plan_text
from kg.schema import Schema
from kg.search import CARD_FILE, EdgeSearch, SearchCard, SearchConfig, TextEncoder, find_scorer, split_plans, train_search
from kg.store import KnowledgeGraph
from tools.base import Proposal
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import PLANNERS, PlanResult, RankedPlan, plan_question, reading_steps

REPLAN_WIDENING = 2  # asked again, the beam is this many times wider


class EmbeddingPlanner:
    """Ranked plans from the edge scorer's beam; `prepare` encodes many questions in one go."""

    name = "embedding"

    def __init__(self, kg: KnowledgeGraph, folder: Path, *, encoder: TextEncoder | None = None, top: int = 4) -> None:
        self.kg = kg
        self.schema = Schema.derive(kg)
        self.linker = EntityLinker(kg)
        self.folder = folder
        self.search = EdgeSearch(kg, folder, schema=self.schema)
        self.encoder = encoder or TextEncoder()
        self.top = top

    def link(self, question: str) -> Framed:
        return self.linker.frame(question, second=self.search.table.and_ is not None)

    def reading_steps(self, topic: str) -> list[str]:
        return reading_steps(self.kg, self.schema, topic)

    def plan(self, question: str) -> PlanResult:
        return plan_question(self, question)

    def prepare(self, questions: Sequence[str]) -> None:
        """Encode the masked questions of a batch up front, in batches (distinct texts once)."""
        self.encoder.encode([self.link(q).masked for q in questions])

    def propose(self, masked_question: str, topics: str | Sequence[str], *, samples: int | None = None,
                temperature: float | None = None) -> Proposal:
        """The top plans of the beam search. Asked again (replanning, more samples), the beam widens."""
        started = time.perf_counter()
        vector = self.encoder.encode([masked_question])[0]
        width = self.search.config.beam * (REPLAN_WIDENING if samples and samples > 1 and temperature else 1)
        found = self.search.search(vector, topics, beam=width, top=max(self.top, width))
        candidates = [RankedPlan(plan=plan, logprob=round(score, 4), votes=1, by=self.name) for plan, score in found]
        raw = [f"{plan_text(plan)}  {score:.4f}" for plan, score in found]
        return Proposal(by=self.name, candidates=candidates, raw=raw, seconds=round(time.perf_counter() - started, 4))


def train_search_planner(kg: KnowledgeGraph, mined: list[MinedPlan], out: Path, config: SearchConfig, **kwargs) -> SearchCard:
    """Train the edge scorer into `out`, with the answer-kind table the KG checks read (training plans only)."""
    card = train_search(kg, mined, out, config, **kwargs)
    train, _, _ = split_plans(kg, mined, config)
    AnswerKinds.learn(train, Schema.derive(kg)).save(out)
    QuestionForms.learn(m.masked_question for m in train).save(out)
    return card


def choose_scorer(kg: KnowledgeGraph, planner: str) -> Path | None:
    """The scorer folder for `--planner embedding` (the shipped one for this graph) or a scorer folder."""
    if planner == "embedding":
        folder = find_scorer(kg, PLANNERS)
        if folder is None:
            raise FileNotFoundError("no shipped edge scorer matches this graph's relations; "
                                    "train one with `reasoner train-search` and pass its folder as --planner")
        return folder
    if (Path(planner) / CARD_FILE).is_file():
        return Path(planner)
    return None
