"""`reasoner logic`: decide a file of logic problems (ProofWriter / logical deduction JSON, FOLIO JSONL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.assemble import build_tool, open_backend
from agent.batch import check_output, run_tool
from agent.cli.common import LlmModelOpt, TracesOpt, UrlOpt, counting, traces_path
from agent.graph import Agent
from agent.traces import TraceStore
from tools.logic.files import read_problems


def logic(
    problems: Annotated[Path, typer.Option("--problems", "--tasks", help="A JSON list (id, context, question, options, answer) or FOLIO JSONL (premises, conclusion, label).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write one JSON line per problem.")],
    limit: Annotated[Optional[int], typer.Option(help="Decide only the first N problems.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip the ids already in --out and append the rest.")] = False,
    gold_fol: Annotated[bool, typer.Option("--gold-fol", help="Use the file's premises-FOL (and conclusion-FOL, if given) instead of translating: the prover alone.")] = False,
    samples: Annotated[int, typer.Option(help="Translations that vote per problem (a majority drawn first, the rest only if they disagree).")] = 3,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the translations.")] = 0.5,
    seconds: Annotated[float, typer.Option(help="Time limit of each prover or solver call.")] = 3.0,
    concurrency: Annotated[int, typer.Option(help="Problems in flight at once.")] = 4,
    translator: Annotated[Optional[Path], typer.Option(help="A distilled translator folder (default: the shipped one).")] = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    traces: TracesOpt = None,
) -> None:
    """Translate each problem into logic, decide it with the prover or clingo, and score it; one JSON summary line at the end."""
    items = read_problems(problems, gold_fol=gold_fol)[:limit]
    check_output(out, resume)  # before any model server starts
    store = TraceStore(traces_path(traces))
    with open_backend(llm_url, llm_model) as backend:
        tool = build_tool(backend, "logic", adapter=translator, samples=samples, temperature=temperature, seconds=seconds)
        agent = Agent({"logic": tool})
        with counting("deciding", len(items), "problems/s") as done:
            summary = run_tool(agent, store, "logic", items, out, concurrency=concurrency, resume=resume, on_done=done)
    print(json.dumps(summary), flush=True)
