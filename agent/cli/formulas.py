"""`reasoner distill-regress`: train the regression tool's formula proposer on generated data sets."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import err, training_bar
from agent.distill import DistillConfig
from agent.formulas import train_formula_proposer, training_pairs


def distill_regress(
    out: Annotated[Path, typer.Option("--out", help="Folder for the adapter and its card.")],
    generated: Annotated[int, typer.Option(help="Generated data sets (pairs of points -> form).")] = 6000,
    steps: int = 300,
    batch_size: int = 8,
    learning_rate: float = 2e-3,
    lora_rank: int = 16,
    bfloat16: Annotated[bool, typer.Option(help="Autocast to bfloat16 (faster on CPUs with AVX512-BF16).")] = True,
    seed: int = 0,
    max_validation: int = 200,
) -> None:
    """Fine-tune the embedded model into the regression tool's proposer (points -> form with constants c)."""
    config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                           bfloat16=bfloat16, seed=seed, max_validation=max_validation)
    pairs, tally = training_pairs(generated, seed=seed, log=err.print)
    command = "reasoner " + shlex.join(sys.argv[1:])
    with training_bar(steps) as (on_step, log):
        card = train_formula_proposer(pairs, tally, out, config, command=command, on_step=on_step, log=log)
    err.print(f"wrote {out} in {card.train_seconds / 60:.1f} min of training; validation {card.validation}")
