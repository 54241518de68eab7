"""The embedding planner: the edge scorer of `kg.search` behind the planner interface the agent uses.

It links and masks like the LLM planner, then proposes the beam search's plans instead of sampling
a model, so the agent's plan -> ground -> check -> answer graph, its traces and the runner work
unchanged. No model server is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent.checks import AnswerKinds
from agent.planner import DISTILLED, Planner, Proposal, RankedPlan
from kg.linking import EntityLinker
from kg.schema import Schema
from kg.mining import MinedPlan
from kg.search import CARD_FILE, EdgeSearch, SearchCard, SearchConfig, TextEncoder, find_scorer, split_plans, train_search
from kg.store import KnowledgeGraph

SHIPPED = DISTILLED  # shipped scorers live beside the distilled planners, one folder each


class EmbeddingPlanner:
    """Ranked plans from the edge scorer's beam; `prepare` encodes many questions in one go."""

    name = "embedding"

    def __init__(self, kg: KnowledgeGraph, folder: Path, *, encoder: TextEncoder | None = None, top: int = 4) -> None:
        self.kg = kg
        self.schema = Schema.derive(kg)
        self.linker = EntityLinker(kg)
        self.folder = folder
        self.search = EdgeSearch(kg, folder)
        self.encoder = encoder or TextEncoder()
        self.top = top

    link = Planner.link  # the same linking and masking as the LLM planner
    first_steps = Planner.first_steps
    plan = Planner.plan  # link, then propose: for `reasoner plan`

    def prepare(self, questions: Sequence[str]) -> None:
        """Encode the masked questions of a batch up front, in batches (distinct texts once)."""
        self.encoder.encode([self.link(q)[1] for q in questions])

    def propose(self, masked_question: str, topic: str, *, samples: int | None = None,
                temperature: float | None = None) -> Proposal:
        """The top plans of the beam search. Asked again (replanning, more samples), the beam widens."""
        vector = self.encoder.encode([masked_question])[0]
        width = self.search.config.beam * (2 if samples and samples > 1 and temperature else 1)
        found = self.search.search(vector, topic, beam=width, top=max(self.top, width))
        candidates = [RankedPlan(plan=plan, logprob=round(score, 4), votes=1) for plan, score in found]
        raw = [f"{' -> '.join(plan)}  {score:.4f}" for plan, score in found]
        return Proposal(candidates=candidates, messages=[], raw=raw)


def train_search_planner(kg: KnowledgeGraph, mined: list[MinedPlan], out: Path, config: SearchConfig, **kwargs) -> SearchCard:
    """Train the edge scorer into `out`, with the answer-kind table the agent's checks read (training plans only)."""
    card = train_search(kg, mined, out, config, **kwargs)
    train, _, _ = split_plans(kg, mined, config)
    (out / "answer_kinds.json").write_text(AnswerKinds.learn(train, Schema.derive(kg)).model_dump_json(indent=1) + "\n")
    return card


def find_search_scorer(kg: KnowledgeGraph, folder: Path = SHIPPED) -> Path | None:
    return find_scorer(kg, folder)


def is_search_scorer(folder: Path) -> bool:
    return (folder / CARD_FILE).is_file()


def choose_scorer(kg: KnowledgeGraph, planner: str) -> Path | None:
    """The scorer folder for `--planner embedding` (the shipped one for this graph) or a scorer folder."""
    if planner == "embedding":
        folder = find_search_scorer(kg)
        if folder is None:
            raise FileNotFoundError("no shipped edge scorer matches this graph's relations; "
                                    "train one with `reasoner train-search` and pass its folder as --planner")
        return folder
    if is_search_scorer(Path(planner)):
        return Path(planner)
    return None
