"""`reasoner distill-logic`: train the logic tool's translator from the shared logic benchmarks' training parts."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import err, training_bar
from agent.distill import DistillConfig
from agent.translator import CAPS, REPEATS, mixture, train_translator, training_pairs

DATA = Path("../shared/data")


def distill_logic(
    out: Annotated[Path, typer.Option("--out", help="Folder for the adapter and its card.")],
    proofwriter: Annotated[Path, typer.Option(help="ProofWriter training problems (JSON list).")] = DATA / "proofwriter" / "train.json",
    deduction: Annotated[Path, typer.Option(help="Logical-deduction puzzles (JSON list).")] = DATA / "logical_deduction" / "train.json",
    folio: Annotated[Path, typer.Option(help="FOLIO training stories with premise FOL (JSONL).")] = DATA / "folio" / "folio-train.jsonl",
    steps: int = 400,
    batch_size: int = 16,
    learning_rate: float = 2e-3,
    lora_rank: int = 16,
    bfloat16: Annotated[bool, typer.Option(help="Autocast to bfloat16 (faster on CPUs with AVX512-BF16).")] = True,
    seed: int = 0,
    max_validation: int = 300,
) -> None:
    """Fine-tune the embedded model into the logic tool's translator (sentence -> formula or ASP line)."""
    for path in (proofwriter, deduction, folio):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
    config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                           bfloat16=bfloat16, seed=seed, max_validation=max_validation)
    pairs, data = training_pairs(proofwriter, deduction, folio, log=err.print)
    chosen = mixture(pairs, seed)
    data |= {"caps": CAPS, "repeats": REPEATS}
    command = "reasoner " + shlex.join(sys.argv[1:])
    with training_bar(steps, every=50) as (on_step, log):
        card = train_translator(chosen, data, out, config, command=command, on_step=on_step, log=log)
    err.print(f"wrote {out} in {card.train_seconds / 60:.1f} min of training; validation {card.validation}")
