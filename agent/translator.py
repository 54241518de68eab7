"""Distill the logic translator: fine-tune the small model to turn one sentence into a formula or an ASP line.

The pairs come from three sources, each split once by a hash of its problem id (the held-out part is
what bench/logic.py reports on, and is never trained on):

- ProofWriter train: every sentence turned into a formula by the rules of tools/logic/templates.py;
  a problem is kept only when E, given those formulas, reproduces its gold label. Its question's
  statement is a conclusion pair, prompted with the premises' names.
- BIG-bench logical deduction: the object listing and every statement and option as an ASP line
  (templates again), kept only when clingo finds exactly the gold option.
- FOLIO train: the gold premise FOL, in its canonical spelling. Each premise is also a conclusion pair,
  prompted with the names of the story's other premises (FOLIO gives no conclusion FOL).

Rules make training data here; at inference the model translates and the prover decides.
"""

from __future__ import annotations

import json
import random
import resource
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.distill import DistillConfig, finetune
from kg.questions import is_held_out
from tools.logic.asp import entailed, ordering_program
from tools.logic.fol import FormulaError, parse, show
from tools.logic.prover import decide
from tools.logic.templates import (
    Untranslatable,
    asked,
    context,
    option_text,
    ordering,
    ordering_sentences,
    sentences,
    statement,
)
from tools.logic.translate import asp_prompt, fol_prompt, vocabulary

HELD_OUT_SHARE = 0.2  # of logical-deduction puzzles and FOLIO stories, reported on and never trained on
PROOFWRITER_LABELS = {"A": "True", "B": "False", "C": "Unknown"}


class Pair(BaseModel):
    prompt: str
    target: str
    source: str  # proofwriter, folio, deduction
    kind: str  # premise, conclusion, asp
    group: str  # the problem it comes from


class TranslatorCard(BaseModel):
    base_model: str
    config: DistillConfig
    data: dict  # pairs per source and kind, and what was left out and why
    train_seconds: float
    peak_rss_mb: float
    final_loss: float
    validation: dict  # exact translations on the run's own validation pairs, per source
    command: str


def held_out(source: str, key: str) -> bool:
    """Problems of `source` set aside for the benchmark: logical-deduction puzzles by id, FOLIO stories by
    story id. (ProofWriter's held-out part is its own dev file.)"""
    return is_held_out(f"{source}:{key}", HELD_OUT_SHARE)


def proofwriter_pairs(items: list[dict], seconds: float = 5.0, tally: Counter | None = None) -> list[Pair]:
    tally = Counter() if tally is None else tally
    pairs = []
    for item in items:
        try:
            premises, conclusion = context(item["context"]), statement(item["question"])
        except Untranslatable:
            tally["proofwriter untranslatable"] += 1
            continue
        formulas = [parse(p) for p in premises]
        if decide(formulas, parse(conclusion), seconds).label != PROOFWRITER_LABELS[item["answer"]]:
            tally["proofwriter prover disagrees"] += 1  # gold by forward chaining only: a contrapositive is "Unknown"
            continue
        texts = sentences(item["context"])
        pairs += [Pair(prompt=fol_prompt(s), target=show(f), source="proofwriter", kind="premise", group=item["id"])
                  for s, f in zip(texts, formulas)]
        pairs.append(Pair(prompt=fol_prompt(asked(item["question"]), vocabulary(formulas)), target=show(parse(conclusion)),
                          source="proofwriter", kind="conclusion", group=item["id"]))
    return pairs


def deduction_pairs(items: list[dict], tally: Counter | None = None) -> list[Pair]:
    tally = Counter() if tally is None else tally
    pairs = []
    for item in items:
        try:
            lines, conditions = ordering(item["context"], item["options"])
        except Untranslatable:
            tally["deduction untranslatable"] += 1
            continue
        program = ordering_program(lines[0], lines[1:])
        if [letter for letter, c in conditions.items() if entailed(program, c)] != [item["answer"]]:
            tally["deduction solver disagrees"] += 1
            continue
        texts = ordering_sentences(item["context"]) + [option_text(o)[1] for o in item["options"]]
        pairs += [Pair(prompt=asp_prompt(s), target=t, source="deduction", kind="asp", group=item["id"])
                  for s, t in zip(texts, [*lines, *conditions.values()])]
    return pairs


def folio_pairs(rows: list[dict], tally: Counter | None = None) -> list[Pair]:
    tally = Counter() if tally is None else tally
    pairs: dict[tuple[str, str], Pair] = {}
    for row in rows:
        kept = []
        for sentence, formula in zip(row["premises"], row["premises-FOL"]):
            try:
                kept.append((sentence, show(parse(formula))))
            except FormulaError:
                tally["folio premise outside the syntax"] += 1
        group = str(row["story_id"])
        for i, (sentence, formula) in enumerate(kept):
            pairs[(fol_prompt(sentence), formula)] = Pair(prompt=fol_prompt(sentence), target=formula, source="folio",
                                                          kind="premise", group=group)
            others = vocabulary([parse(f) for j, (_, f) in enumerate(kept) if j != i])
            prompt = fol_prompt(sentence, others)
            pairs[(prompt, formula)] = Pair(prompt=prompt, target=formula, source="folio", kind="conclusion", group=group)
    return list(pairs.values())


def training_pairs(proofwriter: Path, deduction: Path, folio: Path, log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """Every pair from the three sources' training parts, unique, and what was left out."""
    tally: Counter[str] = Counter()
    pw_items = json.loads(proofwriter.read_text())
    ld_items = [i for i in json.loads(deduction.read_text()) if not held_out("deduction", i["id"])]
    folio_rows = [json.loads(line) for line in folio.read_text().splitlines() if line.strip()]
    folio_rows = [r for r in folio_rows if not held_out("folio", str(r["story_id"]))]
    log(f"translating {len(pw_items)} ProofWriter problems by rules and checking each with the prover")
    pairs = proofwriter_pairs(pw_items, tally=tally) + deduction_pairs(ld_items, tally=tally) + folio_pairs(folio_rows, tally=tally)
    unique = list({(p.prompt, p.target): p for p in pairs}.values())
    data = {"sources": [str(proofwriter), str(deduction), str(folio)],
            "problems": {"proofwriter": len(pw_items), "deduction": len(ld_items), "folio_rows": len(folio_rows)},
            "pairs": dict(Counter(f"{p.source} {p.kind}" for p in unique)), "left_out": dict(tally)}
    return unique, data


# Pairs trained on per source and kind: at most CAPS (ProofWriter's templated sentences need few examples),
# each REPEATS times (the ordering puzzles' lines are few and each one matters).
CAPS = {"proofwriter premise": 2000, "proofwriter conclusion": 800}
REPEATS = {"deduction asp": 2}


def mixture(pairs: list[Pair], seed: int, caps: dict[str, int] = CAPS, repeats: dict[str, int] = REPEATS) -> list[Pair]:
    """At most `caps["<source> <kind>"]` pairs of each, drawn at random, repeated `repeats[...]` times; the rest all, once."""
    rng = random.Random(seed)
    chosen = []
    for key in sorted({f"{p.source} {p.kind}" for p in pairs}):
        mine = [p for p in pairs if f"{p.source} {p.kind}" == key]
        chosen += rng.sample(mine, min(caps.get(key, len(mine)), len(mine))) * repeats.get(key, 1)
    return chosen


def train_translator(pairs: list[Pair], data: dict, out: Path, config: DistillConfig, *, command: str,
                     on_step: Callable[[int, float], None] | None = None, log: Callable[[str], None] = print) -> TranslatorCard:
    validation = list({(p.prompt, p.target): p for p in pairs if is_held_out("validation:" + p.group, config.validation_share)}.values())
    train = [p for p in pairs if not is_held_out("validation:" + p.group, config.validation_share)]
    data = {**data, "train": len(train), "validation": len(validation)}
    log(f"pairs: {json.dumps(data)}")
    model, tokenizer, loss, seconds = finetune([(p.prompt, p.target) for p in train], config, on_step=on_step)
    scored = random.Random(config.seed).sample(validation, min(len(validation), config.max_validation))
    predictions = generate(model, tokenizer, [p.prompt for p in scored])
    figures = {}
    for source in sorted({p.source for p in scored}):
        chosen = [(p, out_) for p, out_ in zip(scored, predictions) if p.source == source]
        figures[source] = {"n": len(chosen), "exact": round(sum(o == p.target for p, o in chosen) / len(chosen), 4)}
    log(f"validation: {json.dumps(figures)}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    card = TranslatorCard(base_model="embedded:SmolLM2-135M-Instruct", config=config, data=data,
                          train_seconds=round(seconds, 1), peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                          final_loss=round(loss, 4), validation=figures, command=command)
    (out / "translator.json").write_text(card.model_dump_json(indent=2) + "\n")
    (out / "README.md").write_text(_card_text(card))
    return card


def generate(model, tokenizer, prompts: list[str], batch_size: int = 32, max_new_tokens: int = 96) -> list[str]:
    """Greedy, unconstrained translations (the model's own preference), for validation."""
    import torch

    tokenizer.padding_side = "left"
    outputs: list[str] = []
    with torch.no_grad():
        for i in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True)
            generated = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            outputs += [tokenizer.decode(row, skip_special_tokens=True).strip() for row in generated[:, batch["input_ids"].shape[1]:]]
    return outputs


def _card_text(card: TranslatorCard) -> str:
    rows = "\n".join(f"| {source} | {v['n']} | {v['exact']:.2%} |" for source, v in card.validation.items())
    pairs = ", ".join(f"{k}: {v:,}" for k, v in card.data["pairs"].items())
    return f"""# Distilled logic translator

A LoRA adapter (rank {card.config.lora_rank}) on {card.base_model}, trained to translate one sentence into a
first-order formula (`Sentence: …\\nFOL:\\n` → a formula in tools/logic/fol.py's canonical spelling; a conclusion's
prompt also lists the premises' names) or into one line of an answer-set program for an ordering puzzle
(`Sentence: …\\nASP:\\n` → `obj(…)` or a condition on positions). Decoding is grammar-constrained at inference.

- Data: {pairs} unique pairs ({card.data['train']:,} trained on, {card.data['validation']:,} validation pairs held out by this
  run, by problem). Left out: {json.dumps(card.data['left_out'])}. Logical-deduction puzzles and FOLIO stories of the
  benchmark's held-out part (20% by id hash) and ProofWriter dev were never used.
- Training: {card.config.steps} steps of {card.config.batch_size} pairs, AdamW lr {card.config.learning_rate}, seed {card.config.seed};
  {card.train_seconds / 60:.1f} min on CPU, peak memory {card.peak_rss_mb:,.0f} MB; final loss {card.final_loss}.

Validation (greedy, unconstrained, exact match of the translation):

| source | n | exact |
|---|---|---|
{rows}

Retrain (seeded, reproducible):

```sh
{card.command}
```
"""
