"""`reasoner train`: from a graph and question-answer pairs to one planner folder, in stages.

1. questions: read, and merge a question listed once per answer into one with all its answers;
2. conventions: link every question (topics need not be marked), and learn from the gold answers
   whether a path may come back to its topic; note the relations the graph stores twice;
3. mining: the relation plan behind each question, from its answers (conjunctions included);
4. planner: the distilled LLM planner (`agent.distill`), into the folder;
5. scorer: the edge scorer (`kg.search`), into `search/` under it;
then the card: what it was trained on, the conventions, validation figures per question group for
both planners (the same held-out slice of the questions), time per stage and peak memory.

A stage that cannot succeed stops the run with a message saying why (too few questions, no plan
for most of them), before any training time is spent.
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from agent.distill import DistillCard, distill
from agent.training import DistillConfig
from kg.linking import EntityLinker
from kg.mining import mine_questions, summarise
from kg.paths import AND
from kg.questions import Question, is_held_out, merge_repeated, read_questions
from kg.rdf import open_graph
from kg.rules import RULES_FILE, mine_rules, rules_by_head, write_rules
from kg.search import SearchCard, SearchConfig, TextEncoder
from kg.store import KnowledgeGraph
from tools.kg.checks import Conventions
from tools.kg.search_planner import train_search_planner

SCORER_DIR = "search"  # the edge scorer's folder inside a trained planner folder
CARD = "train.json"
MIN_QUESTIONS = 20  # with gold answers: fewer cannot teach a planner, nor leave a validation slice
MIN_PLANNED = 0.5  # share of questions that must get a mined plan (F1 >= 0.5)


class TrainError(ValueError):
    """A stage of `reasoner train` cannot succeed on this data."""


class TrainCard(BaseModel):
    """The whole run: the data, what was learned about the graph, both planners' figures, time and memory."""

    kg: str
    sources: list[str]
    questions: int  # distinct questions with gold answers
    conventions: Conventions
    mining: dict  # per question group: share exact, mean F1, no plan
    rules: dict = {}  # the rules mined from the graph (rules.jsonl): how many, per head
    planner: dict  # the distilled planner's validation
    scorer: dict  # the edge scorer's validation
    validation_share: float
    stage_seconds: dict[str, float]
    total_minutes: float
    peak_rss_mb: float  # this process
    peak_rss_children_mb: float  # the mining worker processes
    command: str


class TrainConfig(BaseModel):
    distill: DistillConfig = DistillConfig()
    search: SearchConfig = SearchConfig()


def default_steps(pairs: int, batch_size: int) -> int:
    """Two passes over the training pairs, at least 100 steps and at most 500."""
    return max(100, min(500, 2 * pairs // batch_size))


def train(
    kg_path: str,
    question_paths: list[Path],
    out: Path,
    config: TrainConfig,
    *,
    command: str,
    stage: Callable[[str, int | None], contextlib.AbstractContextManager[Callable[[int], None]]],
    on_step: Callable[[int, float], None] | None = None,
    log: Callable[[str], None] = print,
    encoder: TextEncoder | None = None,
) -> TrainCard:
    """Run every stage; `stage(name, total)` is entered around each and yields a callback counting progress."""
    seconds: dict[str, float] = {}
    began = time.perf_counter()

    @contextlib.contextmanager
    def timed(name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        started = time.perf_counter()
        with stage(name, total) as advance:
            yield advance
        seconds[name] = round(time.perf_counter() - started, 1)

    kg = open_graph(kg_path)
    with timed("questions"):
        read = [q for path in question_paths for q in read_questions(path)]
        questions, merged = merge_repeated(read)
        answered = [q for q in questions if q.answers]
        share = config.distill.holdout_share
        kept = [q for q in answered if not is_held_out(q.id, share)]  # a benchmark's slice: nothing is learned from it
        log(f"{len(read):,} question lines: {len(questions):,} distinct questions ({merged:,} lines repeat a question "
            f"with another answer), {len(answered):,} with gold answers"
            + (f", {len(answered) - len(kept):,} of them set aside for a benchmark (--holdout-share {share:g})" if share else ""))
        answered = kept
        if len(answered) < MIN_QUESTIONS:
            raise TrainError(f"{len(answered)} question(s) with gold answers: at least {MIN_QUESTIONS} are needed to train "
                             "and validate a planner (lines 'question<TAB>answer|answer' or JSONL with \"answers\")")

    with timed("conventions", len(answered)) as advance:
        conventions = learn_conventions(kg, answered, advance)
        conventions.merged_lines = merged
        log(describe_conventions(conventions))

    with timed("mining", len(answered)) as advance:
        mined = mine_questions(kg, answered, revisit=conventions.revisit, progress=advance)
        planned = [m for m in mined if m.plan and m.f1 >= 0.5]
        if len(planned) < MIN_PLANNED * len(mined):
            notes = sorted({m.note or f"best plan F1 {m.f1:.2f}" for m in mined if m not in planned})
            example = next(m for m in mined if m not in planned)
            raise TrainError(f"only {len(planned):,} of {len(mined):,} questions got a relation plan (F1 >= 0.5) from their "
                             f"answers: at least {MIN_PLANNED:.0%} are needed. Why: {'; '.join(notes[:3])}. "
                             f"First: {example.question!r} (answers {example.answers[:3]}, topic {example.topic!r})")
        conventions.conjunctive = sum(AND in m.plan for m in planned)
        if not conventions.conjunctive:  # no conjunctions: the planner reads one masked entity only
            linker = EntityLinker(kg)
            for m in mined:
                m.topics, m.masked = m.topics[:1], linker.frame(m.question, second=False).masked
        summary = {name: s.model_dump(include={"questions", "exact", "mean_f1", "no_plan"}) for name, s in summarise(mined).items()}
        log(f"mined: {json.dumps(summary)}")

    out.mkdir(parents=True, exist_ok=True)
    sources = [str(p) for p in question_paths]
    distill_config = config.distill
    if distill_config.steps <= 0:
        distill_config = distill_config.model_copy(update={"steps": default_steps(len(planned), distill_config.batch_size)})
    with timed("planner", distill_config.steps) as advance:
        def step(n: int, loss: float) -> None:
            advance(1)
            if on_step:
                on_step(n, loss)

        planner: DistillCard = distill(kg, mined, out, distill_config, sources=sources, command=command, on_step=step, log=log)

    with timed("scorer") as advance:
        search_config = config.search.model_copy(update={"revisit": conventions.revisit,
                                                         "validation_share": distill_config.validation_share,
                                                         "holdout_share": distill_config.holdout_share})
        scorer: SearchCard = train_search_planner(kg, mined, out / SCORER_DIR, search_config, encoder=encoder or TextEncoder(),
                                                  sources=sources, command=command, log=log,
                                                  on_step=lambda n, total, loss: advance(1))
    with timed("rules") as advance:
        rules = mine_rules(kg, progress=lambda done, total: advance(1))
        rule_counts = {"rules": len(rules), "per_head": {h: len(rs) for h, rs in sorted(rules_by_head(rules).items())}}
        log(f"rules: {json.dumps(rule_counts)}")
    for folder in (out, out / SCORER_DIR):
        conventions.save(folder)
        write_rules(rules, folder / RULES_FILE)

    card = TrainCard(
        kg=str(kg_path), sources=sources, questions=len(answered), conventions=conventions, mining=summary, rules=rule_counts,
        planner=planner.validation, scorer=scorer.validation, validation_share=distill_config.validation_share,
        stage_seconds=seconds, total_minutes=round((time.perf_counter() - began) / 60, 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        peak_rss_children_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1), command=command,
    )
    (out / CARD).write_text(card.model_dump_json(indent=2) + "\n")
    (out / "README.md").write_text(card_text(card, (out / "README.md").read_text()))
    return card


def learn_conventions(kg: KnowledgeGraph, questions: list[Question], advance: Callable[[int], None]) -> Conventions:
    """What the questions take for granted about the graph: see `Conventions`."""
    linker = EntityLinker(kg)
    linked = topic_answers = marked = 0
    for q in questions:
        links, topics, _ = linker.frame(q.question)
        if topics:
            linked += 1
            topic_answers += topics[0] in (q.answers or [])
            marked += links[0].method == "marked"
        advance(1)
    return Conventions(revisit=Conventions.revisits(linked, topic_answers), questions=linked, topic_answers=topic_answers,
                       marked=marked, same_as=kg.same_as)


def describe_conventions(c: Conventions) -> str:
    lines = [
        f"topics: {c.marked:,} of {c.questions:,} linked questions mark theirs in brackets; the rest are found unmarked",
        f"paths {'may' if c.revisit else 'never'} come back to the topic: {c.topic_answers:,} question(s) have the topic among "
        f"their gold answers (needs {math.ceil(max(Conventions.MIN_TOPIC_ANSWERS, Conventions.MIN_TOPIC_SHARE * c.questions))})",
    ]
    if c.same_as:
        pairs = sorted({(k, v) for k, v in c.same_as.items() if not k.startswith("~")})
        lines.append("relations stored twice (planned as the other): " + ", ".join(f"{k} = {v}" for k, v in pairs))
    return "\n".join(lines)


def card_text(card: TrainCard, planner_readme: str) -> str:
    def rows(figures: dict) -> str:
        return "\n".join(f"| {name} | {v['n']} | {v['plan_exact']:.2%} |" for name, v in figures.items())

    stages = ", ".join(f"{name} {s / 60:.1f} min" if s >= 60 else f"{name} {s:.0f} s" for name, s in card.stage_seconds.items())
    return f"""# Trained planner for `{card.kg}`

Made by one command, in {card.total_minutes} min on CPU ({stages}); peak memory {card.peak_rss_mb:,.0f} MB
(mining workers {card.peak_rss_children_mb:,.0f} MB):

```sh
{card.command}
```

Trained on {card.questions:,} distinct questions with gold answers from {', '.join(card.sources)}
({card.conventions.merged_lines:,} lines repeated a question with another answer and were merged).
The relation plans were mined from the graph itself: {json.dumps(card.mining)}.

Conventions learned from the data (`conventions.json`):

{chr(10).join("- " + line for line in describe_conventions(card.conventions).splitlines())}
- conjunctive plans (a path from each of two entities, intersected): {card.conventions.conjunctive:,}

Rules mined from the graph (`rules.jsonl`, `reasoner kg rules`): {card.rules.get("rules", 0):,}, by head
{json.dumps(card.rules.get("per_head", {}))}. When the best reading of a question grounds to nothing, they infer the
missing step (status `inferred`).

Two planners, validated on the same {card.validation_share:.0%} of the questions, held out from both:
the distilled LLM planner (this folder, `--planner DIR`) and the edge scorer (`{SCORER_DIR}/`,
`--planner DIR/{SCORER_DIR}`: no model server), which `reasoner serve --planner DIR` runs beside it.

| LLM planner: group | n | exact plan (greedy) |
|---|---|---|
{rows(card.planner)}

| edge scorer: group | n | exact plan (top beam) |
|---|---|---|
{rows(card.scorer)}

## The distilled planner

{planner_readme.split(chr(10), 1)[1].strip()}
"""
