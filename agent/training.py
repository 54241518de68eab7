"""Fine-tuning, one way for every adapter: LoRA on the embedded model over (prompt, target) pairs with the loss on the
target only (`finetune`), greedy generation for the validation figures (`generate`), and the card written beside
the adapter (`card_tail`). A tool's adapter (`train_adapter`) takes its pairs and card text from the tool's
package (`ToolSpec.training`, tools/<name>/pairs.py); the KG planner's (agent/distill.py) from its mined plans.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.llm.weights import embedded_model_dir
from kg.questions import is_held_out
from tools.base import Pair
from tools.registry import ToolSpec

BASE_MODEL = "embedded:SmolLM2-135M-Instruct"
CHECKPOINT_EVERY = 25  # steps between a training's checkpoints
CHECKPOINT = "training-checkpoint.pt"  # in the adapter's folder while it trains


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


class AdapterCard(BaseModel):
    """What a tool's trained adapter is and how it was made; written beside it."""

    base_model: str
    config: DistillConfig
    data: dict  # pairs per source, what was left out and why, the split
    train_seconds: float
    peak_rss_mb: float
    final_loss: float
    validation: dict  # exact outputs on the run's own validation pairs, per source
    command: str


def train_adapter(tool: ToolSpec, pairs: list[Pair], data: dict, out: Path, config: DistillConfig, *, command: str,
                  on_step: Callable[[int, float], None] | None = None, log: Callable[[str], None] = print) -> AdapterCard:
    """Fine-tune `tool`'s adapter on the pairs (a share held out by group for this run's validation figures: the
    first line of each greedy output against the target), and write the adapter, its card file and README."""
    training = tool.training
    validation = list({(p.prompt, p.target): p for p in pairs if is_held_out("validation:" + p.group, config.validation_share)}.values())
    train = [p for p in pairs if not is_held_out("validation:" + p.group, config.validation_share)]
    data = {**data, "train": len(train), "validation": len(validation)}
    log(f"pairs: {json.dumps(data)}")
    model, tokenizer, loss, seconds = finetune([(p.prompt, p.target) for p in train], config, on_step=on_step,
                                               checkpoint=out / CHECKPOINT, log=log)
    scored = random.Random(config.seed).sample(validation, min(len(validation), config.max_validation))
    predictions = generate(model, tokenizer, [p.prompt for p in scored], batch_size=16, max_new_tokens=training.max_new_tokens)
    figures = {}
    for source in sorted({p.source for p in scored}):
        chosen = [(p, o) for p, o in zip(scored, predictions) if p.source == source]
        figures[source] = {"n": len(chosen), "exact": round(sum(o == p.target for p, o in chosen) / len(chosen), 4)}
    log(f"validation: {json.dumps(figures)}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    card = AdapterCard(base_model=BASE_MODEL, config=config, data=data, train_seconds=round(seconds, 1),
                       peak_rss_mb=peak_rss_mb(), final_loss=round(loss, 4), validation=figures, command=command)
    (out / training.card_file).write_text(card.model_dump_json(indent=2) + "\n")
    (out / "README.md").write_text(card_text(tool, card))
    return card


def card_text(tool: ToolSpec, card: AdapterCard) -> str:
    """A tool adapter's README: the tool's own account of it, then the training run and its validation."""
    training = tool.training
    return f"{training.card_intro(card)}{_experience(card.data.get('experience', []))}{card_tail(card, f', exact match of {training.compared}', training.column, 'exact', 'exact')}\n"


def _experience(rounds: list[dict]) -> str:
    """The card's account of expert iteration (`reasoner distill TOOL --rounds N`), when the adapter had any."""
    return "".join(f"- Expert iteration, round {k}: the adapter at {r['from']} sampled {r['samples']} for each of {r['tasks']:,} "
                   f"training tasks; outcomes {json.dumps(r['outcomes'])}; pairs added {json.dumps(r['pairs'])}.\n"
                   for k, r in enumerate(rounds, 1))


def native_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 (AVX512-BF16 or AMX): where it does not, autocast to bfloat16 makes a
    matrix product hundreds of times slower than float32 (measured: 304 s against 1.1 s on an AVX2-only EPYC)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def finetune(pairs: list[tuple[str, str]], config: DistillConfig, *, on_step: Callable[[int, float], None] | None = None,
             checkpoint: Path | None = None, every: int = CHECKPOINT_EVERY, log: Callable[[str], None] = print):
    """LoRA-tune the embedded model on (prompt, target) pairs, loss on the target only: (model, tokenizer,
    final loss, seconds). The one training loop of every adapter. With `checkpoint`, the run's state is saved
    there every `every` steps, and a run started again on the same pairs and settings goes on from it (the
    same steps, in the same order); it is removed when the training ends."""
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
    batches: list[list[int]] = []
    loss_value, first, earlier = math.nan, 0, 0.0
    fingerprint = _fingerprint(pairs, config) if checkpoint is not None else ""
    if checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        if state["fingerprint"] == fingerprint:
            trained = dict(model.named_parameters())
            with torch.no_grad():
                for name, value in state["lora"].items():
                    trained[name].copy_(value)
            optimizer.load_state_dict(state["optimizer"])
            random.setstate(state["random"])
            batches, loss_value, first, earlier = state["batches"], state["loss"], state["step"], state["seconds"]
            log(f"going on from step {first} of {config.steps} ({checkpoint})")
        else:
            log(f"{checkpoint} is of other pairs or settings: training from the start")
    started = time.perf_counter() - earlier
    for step in range(first, config.steps):
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
        if checkpoint is not None and (step + 1) % every == 0 and step + 1 < config.steps:
            _save(checkpoint, {"fingerprint": fingerprint, "step": step + 1, "optimizer": optimizer.state_dict(),
                               "lora": {n: p.detach() for n, p in model.named_parameters() if p.requires_grad},
                               "random": random.getstate(), "batches": batches, "loss": loss_value,
                               "seconds": time.perf_counter() - started})
        if on_step:
            on_step(step + 1, loss_value)
    model.eval()
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return model, tokenizer, loss_value, time.perf_counter() - started


def _fingerprint(pairs: list[tuple[str, str]], config: DistillConfig) -> str:
    """What a checkpoint must have been trained on to be gone on from: the pairs and the settings."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    for prompt, target in pairs:
        digest.update(f"{len(prompt)}:{prompt}{len(target)}:{target}".encode())
    return digest.hexdigest()


def _save(checkpoint: Path, state: dict) -> None:
    """Written beside, then moved over: a run stopped while saving leaves the checkpoint before."""
    import torch

    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    partial = checkpoint.with_name(checkpoint.name + ".partial")
    torch.save(state, partial)
    partial.replace(checkpoint)


def generate(model, tokenizer, prompts: list[str], batch_size: int = 32, max_new_tokens: int = 96) -> list[str]:
    """Greedy, unconstrained completions (the model's own preference), each cut at its first line: for validation."""
    import torch

    tokenizer.padding_side = "left"
    outputs: list[str] = []
    with torch.no_grad():
        for i in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True)
            generated = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            outputs += [tokenizer.decode(row, skip_special_tokens=True).strip().split("\n")[0].strip()
                        for row in generated[:, batch["input_ids"].shape[1]:]]
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


def card_tail(card, what: str, column: str, metric: str, key: str) -> str:
    """What every adapter's card ends with: the training run, the validation table (a row per `column` value,
    `key` of each as `metric`; `what` says what was compared) and the command that retrains it."""
    rows = "\n".join(f"| {name} | {v['n']} | {v[key]:.2%} |" for name, v in card.validation.items())
    return f"""- Training: {card.config.steps} steps of {card.config.batch_size} pairs, AdamW lr {card.config.learning_rate}, seed {card.config.seed};
  {card.train_seconds / 60:.1f} min on CPU, peak memory {card.peak_rss_mb:,.0f} MB; final loss {card.final_loss}.

Validation (greedy, unconstrained{what}):

| {column} | n | {metric} |
|---|---|---|
{rows}

Retrain (seeded, reproducible):

```sh
{card.command}
```"""
