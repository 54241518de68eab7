"""`reasoner distill TOOL` for a tool that trains an adapter of the embedded model on its own pairs
(`ToolSpec.training`: the logic translator, the program proposer, the formula proposer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.cli.common import command_line, err, training_bar
from agent.training import AdapterCard, DistillConfig, native_bfloat16, train_adapter
from tools.base import Pair
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
        bfloat16: Annotated[Optional[bool], typer.Option(help="Autocast to bfloat16 (default: where the CPU computes it natively, AVX512-BF16 or AMX; elsewhere it is far slower).")] = None,
        seed: int = 0,
        max_validation: int = defaults.max_validation,
        rounds: Annotated[int, typer.Option(min=1, help="Expert iteration: after each training but the last, the adapter's own samples "
                                                        "and the tool's search make more pairs, and it is trained again on all of them.")] = 1,
        first: Annotated[Optional[Path], typer.Option(help="With --rounds: an adapter trained on the same pairs, to start from "
                                                           "instead of training round 1.")] = None,
        last_steps: Annotated[Optional[int], typer.Option(min=1, help="With --rounds: steps for the last round, which has the most pairs "
                                                                      "(default: --steps). The earlier rounds are read back when trained before.")] = None,
    ) -> None:
        if rounds > 1 and defaults.experience is None:
            raise typer.BadParameter(f"the {tool.name} tool has no expert iteration", param_hint="--rounds")
        config = DistillConfig(steps=steps, batch_size=batch_size, learning_rate=learning_rate, lora_rank=lora_rank,
                               bfloat16=native_bfloat16() if bfloat16 is None else bfloat16, seed=seed, max_validation=max_validation)
        make = lambda: defaults.pairs(data, generated, seed, log=err.print)  # noqa: E731
        # with --rounds, kept beside the experience: making them runs the tool's search, many minutes
        pairs, about = (_kept(out / "pairs-first", make, {"data": str(data.resolve()), "generated": generated, "seed": seed})
                        if rounds > 1 else make())
        command = command_line()
        learned: list = []
        for round_ in range(1, rounds + 1):
            folder = out if round_ == rounds else out / f"round-{round_}"
            if round_ == 1 and first is not None and rounds > 1:
                folder = first
            elif round_ < rounds and _trained_before(folder / defaults.card_file, config, about):
                err.print(f"round {round_}: reading {folder} (trained before on the same pairs and settings)")
            else:
                settings = _settings(config, round_, rounds, last_steps)
                with training_bar(settings.steps) as (on_step, log):
                    card = train_adapter(tool, pairs + learned, about, folder, settings, command=command, on_step=on_step, log=log)
                err.print(f"wrote {folder} in {card.train_seconds / 60:.1f} min of training; validation {card.validation}")
            if round_ < rounds:
                found, what = _kept(out / f"experience-{round_}", lambda: defaults.experience(folder, data, seed + round_, log=err.print))
                learned += found
                about = {**about, "experience": [*about.get("experience", []), {"from": str(folder), **what}]}

    distill.__doc__ = f"Fine-tune the embedded model into {tool.what} of the {tool.name} tool, on its training pairs."
    return distill


def _settings(config: DistillConfig, round_: int, rounds: int, last_steps: int | None) -> DistillConfig:
    """A round's settings: the run's, but the last round trains `last_steps` steps when given. The earlier rounds'
    settings stay as they were, so a run started again with --last-steps reads them back."""
    return config.model_copy(update={"steps": last_steps}) if round_ == rounds and last_steps else config


def _trained_before(card: Path, config: DistillConfig, about: dict) -> bool:
    """Whether a run started before left this round's adapter: its card names the same settings and pairs. Where
    each round's experience came from is not compared, so a run's folder can be moved or copied and go on."""
    if not card.is_file():
        return False
    old = AdapterCard.model_validate_json(card.read_text())
    return old.config == config and _pairs(old.data) == _pairs(json.loads(json.dumps(about)))


def _pairs(data: dict) -> dict:
    """What a card says of its pairs, but the split and the folders the experience came from."""
    kept = {k: v for k, v in data.items() if k not in ("train", "validation")}
    return kept | {"experience": [{k: v for k, v in round_.items() if k != "from"} for round_ in data.get("experience", [])]}


def _kept(stem: Path, make: Callable[[], tuple[list[Pair], dict]], made_with: dict | None = None) -> tuple[list[Pair], dict]:
    """Pairs kept as STEM.jsonl and what they are as STEM.json: read back when a run is started again (and, given
    `made_with`, was made with the same inputs), else made and kept."""
    pairs, about = stem.with_suffix(".jsonl"), stem.with_suffix(".json")
    if pairs.is_file() and about.is_file():
        what = json.loads(about.read_text())
        if what.pop("made_with", None) == made_with:
            err.print(f"reading {pairs} (made before)")
            return [Pair.model_validate_json(line) for line in pairs.read_text().splitlines() if line.strip()], what
    found, what = make()
    stem.parent.mkdir(parents=True, exist_ok=True)
    pairs.write_text("".join(p.model_dump_json() + "\n" for p in found))
    about.write_text(json.dumps(what | ({"made_with": made_with} if made_with else {}), indent=1) + "\n")
    return found, what
