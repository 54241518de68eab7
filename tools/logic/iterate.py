"""Expert iteration for the logic translator (STaR's loop on FOLIO's training stories): the translator translates
each problem (a story and a conclusion) `samples` times, the prover decides every translation, and the
translations whose proof gives the problem's gold label become the next round's pairs.

Only a proof counts: a translation that proves True or False as FOLIO says is a reading the prover confirms, while
"Unknown" is also what a translation that missed a link between its names gives. A kept translation is taken
after the tool made its names one vocabulary (what the prover was given), and becomes pairs as FOLIO's gold
formulas do (tools/logic/pairs.py): each premise alone and shown the other premises' names, and the conclusion
shown the premises' names, which is where the translator most often loses the link.

The problems: FOLIO train without the benchmark's held-out stories and without the stories of `bench/logic.py`'s
`folio-train` set (every fourth problem), which stays for choosing settings: a story's problems share their
premises, so a problem of the same story would teach the settings set's premises. `reasoner distill logic
--rounds N` trains, gathers experience with what it trained, and trains again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tools.base import Pair
from tools.experience import gather
from tools.logic.fol import FormulaError, parse, show
from tools.logic.pairs import folio_pairs, folio_settings, held_out, unique
from tools.logic.problem import choose
from tools.logic.symbols import rename
from tools.logic.tool import Ensemble, LogicTool
from tools.logic.translate import fol_prompt, vocabulary

PROVED = ("True", "False")


def problems(folio: Path, count: int) -> list[dict]:
    """At most `count` FOLIO training problems whose stories neither the benchmark nor its `folio-train` set use."""
    rows = [json.loads(line) for line in folio.read_text().splitlines() if line.strip()]
    settings = {r["story_id"] for r in folio_settings(rows)}
    return [r for r in rows if not held_out("folio", str(r["story_id"])) and r["story_id"] not in settings][:count]


def lessons(tool: LogicTool, row: dict, samples: int) -> tuple[list[Pair], Counter]:
    """What one problem teaches: its translations whose proof agrees with its label, as pairs."""
    label = row["label"]
    if label not in PROVED:
        return [], Counter({"unknown label": 1})
    frame = choose(row["premises"], row["conclusion"], [])
    drawn, _ = tool.draw(frame, samples, tool.temperature, restrict=False)
    result = tool.execute(frame, Ensemble(mode=frame.mode, samples=drawn, temperature=tool.temperature))
    kept: dict[tuple[str, ...], None] = {}  # distinct translations, in order
    for sample, outcome in zip(result.samples, result.outcomes):
        if outcome.verdict != label:
            continue
        try:
            formulas = [show(rename(parse(line), outcome.renamed)) for line in [*sample.premises, sample.conclusion or ""]]
        except FormulaError:
            continue
        kept[tuple(formulas)] = None
    if not kept:
        verdicts = {o.verdict for o in result.outcomes}
        return [], Counter({"proved the other label" if verdicts & set(PROVED) else "no proof": 1})
    group = str(row["story_id"])
    pairs = []
    for formulas in kept:
        *premises, conclusion = formulas
        pairs += [p.model_copy(update={"source": "iterate"})
                  for p in folio_pairs([{"story_id": group, "premises": frame.premises, "premises-FOL": premises}])]
        prompt = fol_prompt(frame.conclusion or "", vocabulary([parse(f) for f in premises]))
        pairs.append(Pair(prompt=prompt, target=conclusion, source="iterate", kind="conclusion", group=group))
    return pairs, Counter({"proved": 1, "translations kept": len(kept)})


def experience(adapter: Path, data: Path, seed: int, *, count: int = 200, samples: int = 5, concurrency: int = 4,
               log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """One round's experience with the translator at `adapter` on `count` FOLIO training problems (`seed` is
    unused: the problems are fixed and the model's samples are drawn at its temperature)."""
    from agent.assemble import build_tool, open_backend

    chosen = problems(data / "folio" / "folio-train.jsonl", count)
    log(f"experience: {samples} translations of each of {len(chosen)} FOLIO training problems with {adapter}")
    with open_backend() as backend:
        tool = build_tool(backend, "logic", adapter=adapter)
        pairs, what = gather(chosen, lambda row: lessons(tool, row, samples), concurrency=concurrency, unit="problems", log=log)
    kept = unique(pairs)
    return kept, {**what, "pairs": dict(Counter(f"{p.source} {p.kind}" for p in kept)), "samples": samples}
