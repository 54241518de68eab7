"""`reasoner distill-induce`: train the induction tool's program proposer on generated tasks and the shared tasks' training part."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import err, training_bar
from agent.distill import DistillConfig
from agent.proposer import train_proposer, training_pairs

DATA = Path("../shared/data")


def distill_induce(
    out: Annotated[Path, typer.Option("--out", help="Folder for the adapter and its card.")],
    data: Annotated[Path, typer.Option(help="The shared data folder (1d-arc/, arc/training/, sygus-strings/).")] = DATA,
    generated: Annotated[int, typer.Option(help="Generated tasks of each kind (grid, values).")] = 3000,
    steps: int = 300,
    batch_size: int = 8,
    learning_rate: float = 2e-3,
    lora_rank: int = 16,
    bfloat16: Annotated[bool, typer.Option(help="Autocast to bfloat16 (faster on CPUs with AVX512-BF16).")] = True,
    seed: int = 0,
    max_validation: int = 200,
) -> None:
    """Fine-tune the embedded model into the induction tool's proposer (examples -> program)."""
    for sub in ("1d-arc", "arc/training", "sygus-strings/pbe_slia_2019.json"):
        if not (data / sub).exists():
            raise FileNotFoundError(f"{data / sub} does not exist")
    config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                           bfloat16=bfloat16, seed=seed, max_validation=max_validation)
    pairs, tally = training_pairs(data, generated=generated, seed=seed, log=err.print)
    command = "reasoner " + shlex.join(sys.argv[1:])
    with training_bar(steps) as (on_step, log):
        card = train_proposer(pairs, tally, out, config, command=command, on_step=on_step, log=log)
    err.print(f"wrote {out} in {card.train_seconds / 60:.1f} min of training; validation {card.validation}")
