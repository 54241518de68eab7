"""Distill the planner: fine-tune the small model on (masked question -> plan) pairs mined from the KG.

Reads like a training script, top to bottom: data, model, loop, evaluation, save. The pairs are
rendered by `tools.kg.llm_planner.CompactFormat`, the same code that renders prompts at inference, so
what the model learns is exactly what it is later asked. LoRA adapters keep the artefact small.
"""

from __future__ import annotations

import json
import math
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.llm.weights import embedded_model_dir
from kg.mining import MinedPlan
from kg.paths import AND
from kg.questions import is_held_out
from kg.schema import Schema
from kg.search import plan_group
from kg.store import KnowledgeGraph
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import CompactFormat


class DistillConfig(BaseModel):
    steps: int = 500
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 30
    lora_rank: int = 16
    lora_layers: int | None = None  # adapt only the top N transformer layers: backward stops below them
    bfloat16: bool = False  # autocast matmuls to bfloat16 (fast on CPUs with AVX512-BF16)
    seed: int = 0
    holdout_share: float = 0.0  # questions set aside by `is_held_out` and never trained on
    validation_share: float = 0.05  # of the rest, held out by this run for its own figures
    max_validation: int = 1000
    threads: int | None = None


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
    predictions = generate_plans(model, tokenizer, [p[0] for p in scored])
    figures: dict[str, dict] = {}
    for name in (*sorted({p[2] for p in scored}), "all"):
        chosen = [(p, pred) for p, pred in zip(scored, predictions) if name in ("all", p[2])]
        if chosen:
            figures[name] = {
                "n": len(chosen),
                "plan_exact": round(sum(pred == p[1] for p, pred in chosen) / len(chosen), 4),
            }
    log(f"validation: {json.dumps(figures)}")

    # ---- save ------------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    card = DistillCard(
        codes=fmt.codes, relations=sorted(kg.relations), base_model="embedded:SmolLM2-135M-Instruct",
        config=config, data=data, train_seconds=round(train_seconds, 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), final_loss=round(loss_value, 4),
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



def finetune(pairs: list[tuple[str, str]], config: DistillConfig, *, on_step: Callable[[int, float], None] | None = None):
    """LoRA-tune the embedded model on (prompt, target) pairs, loss on the target only: (model, tokenizer,
    final loss, seconds). The one training loop of every distilled job (planner, translator)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a command's output

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    base = embedded_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    layers = model.config.num_hidden_layers
    top = list(range(layers - config.lora_layers, layers)) if config.lora_layers else None
    model = get_peft_model(model, LoraConfig(r=config.lora_rank, lora_alpha=2 * config.lora_rank, lora_dropout=0.0,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                                             layers_to_transform=top, task_type="CAUSAL_LM"))
    encoded = [_encode(tokenizer, prompt, target) for prompt, target in pairs]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate, weight_decay=0.0)
    model.train()
    started = time.perf_counter()
    batches: list[list[int]] = []
    loss_value = math.nan
    for step in range(config.steps):
        lr = config.learning_rate * _schedule(step, config.warmup_steps, config.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if not batches:
            batches = _batches([len(ids) for ids, _ in encoded], config.batch_size)
        batch = [encoded[i] for i in batches.pop()]
        input_ids, labels, attention = _collate(batch, tokenizer.pad_token_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bfloat16):
            loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        if on_step:
            on_step(step + 1, loss_value)
    model.eval()
    return model, tokenizer, loss_value, time.perf_counter() - started

def generate_plans(model, tokenizer, prompts: list[str], batch_size: int = 64) -> list[str]:
    """Greedy, unconstrained completions (the model's own preference), for validation."""
    import torch

    tokenizer.padding_side = "left"
    outputs: list[str] = []
    with torch.no_grad():
        for i in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True)
            generated = model.generate(**batch, max_new_tokens=5, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            for row in generated[:, batch["input_ids"].shape[1] :]:
                outputs.append(tokenizer.decode(row, skip_special_tokens=True).split("\n")[0])
    return outputs


def _batches(lengths: list[int], size: int) -> list[list[int]]:
    """One epoch of batches in random order, each of examples of similar length (little padding to compute)."""
    order = random.sample(range(len(lengths)), len(lengths))
    batches = []
    for start in range(0, len(order), size * 16):
        pool = sorted(order[start : start + size * 16], key=lambda i: lengths[i])
        batches += [pool[i : i + size] for i in range(0, len(pool), size)]
    random.shuffle(batches)
    return batches


def _encode(tokenizer, prompt: str, target: str) -> tuple[list[int], int]:
    prompt_ids = tokenizer(prompt)["input_ids"]
    target_ids = tokenizer(target)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids + target_ids, len(prompt_ids)


def _collate(batch: list[tuple[list[int], int]], pad_id: int):
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, prompt_len) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, prompt_len : len(ids)] = torch.tensor(ids[prompt_len:])  # loss on the plan only
        attention[row, : len(ids)] = 1
    return input_ids, labels, attention


def _schedule(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def _card_text(card: DistillCard) -> str:
    rows = "\n".join(f"| {name} | {v['n']} | {v['plan_exact']:.2%} |" for name, v in card.validation.items())
    codes = ", ".join(f"`{step}` → `{code}`" for step, code in card.codes.items())
    return f"""# Distilled relation planner

A LoRA adapter (rank {card.config.lora_rank}, all linear layers) on {card.base_model}, trained to map a question
with its topic entity masked as `[ENT]` to a relation plan in compact codes ({codes}).

- Data: {card.data['train']:,} training pairs, {card.data['validation']:,} validation pairs (held out by this run),
  {card.data['set_aside_held_out']:,} questions set aside as the benchmark's held-out slice and never used;
  plans mined from the KG itself from: {', '.join(card.data['sources'])}.
- Training: {card.config.steps} steps of {card.config.batch_size} pairs, AdamW lr {card.config.learning_rate}, seed {card.config.seed};
  {card.train_seconds / 60:.1f} min on CPU, peak memory {card.peak_rss_mb:,.0f} MB; final loss {card.final_loss}.

Validation (greedy, unconstrained):

| hops | n | exact plan |
|---|---|---|
{rows}

Retrain (seeded, reproducible):

```sh
{card.command}
```
"""
