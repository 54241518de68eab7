"""`reasoner logic`: decide a file of logic problems (ProofWriter / logical deduction JSON, FOLIO JSONL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.cli.common import LlmModelOpt, RayOpt, TracesOpt, UrlOpt
from agent.cli.run import LimitOpt, OutOpt, ResumeOpt, run_items


def logic(
    problems: Annotated[Path, typer.Option("--problems", "--tasks", help="A JSON list (id, context, question, options, answer) or FOLIO JSONL (premises, conclusion, label).")],
    out: OutOpt,
    limit: LimitOpt = None,
    resume: ResumeOpt = False,
    gold_fol: Annotated[bool, typer.Option("--gold-fol", help="Use the file's premises-FOL (and conclusion-FOL, if given) instead of translating: the prover alone.")] = False,
    samples: Annotated[int, typer.Option(help="Translations that vote per problem (a majority drawn first, the rest only if they do not all prove the same).")] = 5,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the translations.")] = 0.5,
    seconds: Annotated[float, typer.Option(help="Time limit of each prover or solver call.")] = 3.0,
    symbols_first: Annotated[bool, typer.Option("--symbols-first/--no-symbols-first", help="Draft the premises, read the story's symbols off the drafts, and translate every premise again shown them.")] = True,
    proofs_first: Annotated[bool, typer.Option("--proofs-first/--no-proofs-first", help="A proved True or False outvotes Unknown, which wins only when no translation proves either way.")] = True,
    unify: Annotated[bool, typer.Option("--unify/--no-unify", help="Make each translation one vocabulary before proving (names respelled as the text gives them, predicates of the same stems merged).")] = True,
    concurrency: Annotated[int, typer.Option(help="Problems in flight at once.")] = 4,
    translator: Annotated[Optional[Path], typer.Option(help="A distilled translator folder (default: the shipped one).")] = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    traces: TracesOpt = None,
    ray: RayOpt = None,
) -> None:
    """Translate each problem into logic, decide it with the prover or clingo, and score it; one JSON summary line at the end."""
    from tools.logic.files import read

    run_items("logic", read(problems, gold_fol=gold_fol)[:limit], out, resume=resume, concurrency=concurrency,
              llm_url=llm_url, llm_model=llm_model, traces=traces, ray=ray, adapter=translator, samples=samples,
              temperature=temperature, seconds=seconds, unify=unify, symbols_first=symbols_first, proofs_first=proofs_first)
