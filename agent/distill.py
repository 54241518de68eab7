"""Distill the planner: fine-tune the small model on (masked question -> plan) pairs mined from the KG.

Reads like a training script, top to bottom: data, model, loop, evaluation, save. The pairs are
rendered by `tools.kg.llm_planner.CompactFormat`, the same code that renders prompts at inference, so
what the model learns is exactly what it is later asked. LoRA adapters keep the artefact small.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.training import BASE_MODEL, DistillConfig, card_tail, finetune, generate, peak_rss_mb
from kg.mining import MinedPlan
from kg.paths import AND
from kg.questions import is_held_out
from kg.schema import Schema
from kg.search import plan_group
from kg.store import KnowledgeGraph
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import CompactFormat


class DistillCard(BaseModel):
    """What a trained planner is and how it was made; written beside the adapter."""

    format: str = "compact"
    codes: dict[str, str]  # relation step -> code the model emits
    relations: list[str]  # the graph's relations the planner was trained for
    base_model: str
    config: DistillConfig
    data: dict  # question files, counts per split
    train_seconds: float
    peak_rss_mb: float  # of the training process
    final_loss: float
    validation: dict  # exact plan accuracy per hop
    command: str


def training_pairs(mined: list[MinedPlan], fmt: CompactFormat) -> list[tuple[str, str, str, str]]:
    """(prompt, target, group, id) for every question with a mined plan that scores at least F1 0.5; the group
    (`1-hop`, `conjunctive`, ...) is what validation figures are given by."""
    return [
        (fmt.prompt(m.masked_question), fmt.render(m.plan), plan_group(m), m.id)
        for m in mined
        if m.plan and m.f1 >= 0.5
    ]


def distill(
    kg: KnowledgeGraph,
    mined: list[MinedPlan],
    out: Path,
    config: DistillConfig,
    *,
    sources: list[str],
    command: str,
    on_step: Callable[[int, float], None] | None = None,
    log: Callable[[str], None] = print,
) -> DistillCard:
    fmt = CompactFormat.for_schema(Schema.derive(kg), conjunctive=any(AND in m.plan for m in mined if m.f1 >= 0.5))

    # ---- data -------------------------------------------------------------------------------
    pairs = training_pairs(mined, fmt)
    kept = [p for p in pairs if not is_held_out(p[3], config.holdout_share)]
    validation = [p for p in kept if is_held_out("validation:" + p[3], config.validation_share)]
    train = [p for p in kept if not is_held_out("validation:" + p[3], config.validation_share)]
    if not train:
        raise ValueError("no training pairs: the questions need gold answers that some relation path reaches")
    data = {
        "sources": sources, "questions": len(mined), "with_plan": len(pairs),
        "set_aside_held_out": len(pairs) - len(kept), "train": len(train), "validation": len(validation),
    }
    log(f"pairs: {json.dumps(data)}")

    model, tokenizer, loss_value, train_seconds = finetune([(prompt, target) for prompt, target, _, _ in train], config,
                                                          on_step=on_step)

    # ---- evaluation on the run's own validation split -----------------------------------------
    scored = random.Random(config.seed).sample(validation, min(len(validation), config.max_validation))
    predictions = generate(model, tokenizer, [p[0] for p in scored], batch_size=64, max_new_tokens=5)
    figures: dict[str, dict] = {}
    for name in (*sorted({p[2] for p in scored}), "all"):
        chosen = [(p, pred) for p, pred in zip(scored, predictions) if name in ("all", p[2])]
        if chosen:
            figures[name] = {
                "n": len(chosen),
                "plan_exact": round(sum(pred == p[1].strip() for p, pred in chosen) / len(chosen), 4),  # the target is " code code"
            }
    log(f"validation: {json.dumps(figures)}")

    # ---- save ------------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    card = DistillCard(
        codes=fmt.codes, relations=sorted(kg.relations), base_model=BASE_MODEL,
        config=config, data=data, train_seconds=round(train_seconds, 1),
        peak_rss_mb=peak_rss_mb(), final_loss=round(loss_value, 4),
        validation=figures, command=command,
    )
    (out / "planner.json").write_text(card.model_dump_json(indent=2) + "\n")
    # What each question cue asks for, from the training questions only: the agent's answer-kind check.
    training_ids = {p[3] for p in train}
    trained_on = [m for m in mined if m.id in training_ids]
    AnswerKinds.learn(trained_on, Schema.derive(kg)).save(out)
    QuestionForms.learn(m.masked_question for m in trained_on).save(out)
    (out / "README.md").write_text(_card_text(card))
    return card



def _card_text(card: DistillCard) -> str:
    codes = ", ".join(f"`{step}` → `{code}`" for step, code in card.codes.items())
    return f"""# Distilled relation planner

A LoRA adapter (rank {card.config.lora_rank}, all linear layers) on {card.base_model}, trained to map a question
with its topic entity masked as `[ENT]` to a relation plan in compact codes ({codes}).

- Data: {card.data['train']:,} training pairs, {card.data['validation']:,} validation pairs (held out by this run),
  {card.data['set_aside_held_out']:,} questions set aside as the benchmark's held-out slice and never used;
  plans mined from the KG itself from: {', '.join(card.data['sources'])}.
{card_tail(card, '', 'hops', 'exact plan', 'plan_exact')}
"""
