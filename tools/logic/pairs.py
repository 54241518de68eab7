"""The logic translator's training pairs: one sentence in, its formula or ASP line out.

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
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kg.questions import is_held_out
from tools.base import Pair
from tools.logic.asp import entailed, ordering_program
from tools.logic.fol import FormulaError, parse, show
from tools.logic.prover import decide
from tools.logic.stories import leakage, story_pairs
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


def held_out(source: str, key: str) -> bool:
    """Problems of `source` set aside for the benchmark: logical-deduction puzzles by id, FOLIO stories by
    story id. (ProofWriter's held-out part is its own dev file.)"""
    return is_held_out(f"{source}:{key}", HELD_OUT_SHARE)


def folio_settings(rows: list[dict]) -> list[dict]:
    """`bench/logic.py`'s `folio-train` set, for choosing settings: every fourth FOLIO problem not held out."""
    return [r for r in rows if not held_out("folio", str(r["story_id"]))][::4]


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
    found = unique(pairs)
    data = {"sources": [str(proofwriter), str(deduction), str(folio)],
            "problems": {"proofwriter": len(pw_items), "deduction": len(ld_items), "folio_rows": len(folio_rows)},
            "pairs": dict(Counter(f"{p.source} {p.kind}" for p in found)), "left_out": dict(tally)}
    return found, data


# Pairs trained on per source and kind: at most CAPS (ProofWriter's templated sentences need few examples),
# each REPEATS times (the ordering puzzles' lines are few and each one matters).
CAPS = {"proofwriter premise": 2000, "proofwriter conclusion": 800, "generated premise": 3000, "generated conclusion": 1000}
REPEATS = {"deduction asp": 2}


def unique(pairs: list[Pair]) -> list[Pair]:
    """Each (prompt, target) once: sentences a source repeats (a story's examples share its premises) teach once."""
    return list({(p.prompt, p.target): p for p in pairs}.values())


def mixture(pairs: list[Pair], seed: int, caps: dict[str, int] = CAPS, repeats: dict[str, int] = REPEATS) -> list[Pair]:
    """At most `caps["<source> <kind>"]` pairs of each, drawn at random, repeated `repeats[...]` times; the rest all, once."""
    rng = random.Random(seed)
    chosen = []
    for key in sorted({f"{p.source} {p.kind}" for p in pairs}):
        mine = [p for p in pairs if f"{p.source} {p.kind}" == key]
        chosen += rng.sample(mine, min(caps.get(key, len(mine)), len(mine))) * repeats.get(key, 1)
    return chosen


def card_intro(card) -> str:
    """The card's title, and its account of the adapter and its data (agent/training.py adds the run and validation)."""
    pairs = ", ".join(f"{k}: {v:,}" for k, v in card.data["pairs"].items())
    return f"""# Distilled logic translator

A LoRA adapter (rank {card.config.lora_rank}) on {card.base_model}, trained to translate one sentence into a
first-order formula (`Sentence: …\\nFOL:\\n` → a formula in tools/logic/fol.py's canonical spelling; a conclusion's
prompt also lists the premises' names) or into one line of an answer-set program for an ordering puzzle
(`Sentence: …\\nASP:\\n` → `obj(…)` or a condition on positions). Decoding is grammar-constrained at inference.

- Data: {pairs} unique pairs ({card.data['train']:,} trained on, {card.data['validation']:,} validation pairs held out by this
  run, by problem). Left out: {json.dumps(card.data['left_out'])}. Logical-deduction puzzles and FOLIO stories of the
  benchmark's held-out part (20% by id hash) and ProofWriter dev were never used.
"""


def pairs(data: Path, generated: int, seed: int, log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """The mixture trained on: the training parts in the shared data folder, and `generated` stories written from
    random formulas (tools/logic/stories.py), checked for leakage against the held-out FOLIO stories."""
    files = (data / "proofwriter" / "train.json", data / "logical_deduction" / "train.json", data / "folio" / "folio-train.jsonl")
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
    found, data_ = training_pairs(*files, log=log)
    if generated:
        tally: Counter[str] = Counter()
        log(f"generating {generated} stories from random formulas and checking each with the prover")
        made = story_pairs(generated, seed, tally)
        rows = [json.loads(line) for line in files[2].read_text().splitlines() if line.strip()]
        held = [s for r in rows if held_out("folio", str(r["story_id"])) for s in [*r["premises"], r["conclusion"]]]
        data_["generated"] = {"stories": generated, "tally": dict(tally), "leakage_vs_held_out_folio": leakage(made, held)}
        data_["pairs"] |= dict(Counter(f"{p.source} {p.kind}" for p in made))
        found += made
    return mixture(found, seed), data_ | {"caps": CAPS, "repeats": REPEATS}
