"""`reasoner distill TOOL` for a tool that trains an adapter of the embedded model on its own pairs
(`ToolSpec.training`: the logic translator, the program proposer, the formula proposer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import command_line, err, training_bar
from agent.training import DistillConfig, train_adapter
from tools.registry import ToolSpec

DATA = Path("../shared/data")


def distill_command(tool: ToolSpec) -> Callable[..., None]:
    defaults = tool.training

    def distill(
        out: Annotated[Path, typer.Option("--out", help="Folder for the adapter and its card.")],
        data: Annotated[Path, typer.Option(help="The shared data folder, for the tools that train on its training parts.")] = DATA,
        generated: Annotated[int, typer.Option(help="Generated pairs (tasks, data sets), for the tools that generate them.")] = defaults.generated,
        steps: int = defaults.steps,
        batch_size: int = defaults.batch_size,
        learning_rate: float = 2e-3,
        lora_rank: int = 16,
        bfloat16: Annotated[bool, typer.Option(help="Autocast to bfloat16 (faster on CPUs with AVX512-BF16).")] = True,
        seed: int = 0,
        max_validation: int = defaults.max_validation,
    ) -> None:
        config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                               bfloat16=bfloat16, seed=seed, max_validation=max_validation)
        pairs, about = defaults.pairs(data, generated, seed, log=err.print)
        command = command_line()
        with training_bar(steps) as (on_step, log):
            card = train_adapter(tool, pairs, about, out, config, command=command, on_step=on_step, log=log)
        err.print(f"wrote {out} in {card.train_seconds / 60:.1f} min of training; validation {card.validation}")

    distill.__doc__ = f"Fine-tune the embedded model into {tool.what} of the {tool.name} tool, on its training pairs."
    return distill
