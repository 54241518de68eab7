"""`reasoner induce`: explain a folder or file of example tasks (ARC grids, value tasks) by programs run in the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.cli.common import LlmModelOpt, RayOpt, TracesOpt, UrlOpt
from agent.cli.run import LimitOpt, OutOpt, ResumeOpt, run_items


def induce(
    tasks: Annotated[Path, typer.Option("--tasks", help="An ARC task file, a folder of them (searched recursively), or a JSON list of value tasks.")],
    out: OutOpt,
    limit: LimitOpt = None,
    resume: ResumeOpt = False,
    samples: Annotated[int, typer.Option(help="Programs the LLM proposes per round.")] = 4,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Let the LLM propose programs (when a proposer is shipped or --llm-url is given).")] = True,
    enumerator: Annotated[bool, typer.Option("--enumerator/--no-enumerator", help="Let the enumerator propose compositions of the grid primitives.")] = True,
    concurrency: Annotated[int, typer.Option(help="Tasks in flight at once.")] = 2,
    proposer: Annotated[Optional[Path], typer.Option(help="A distilled proposer folder (default: the shipped one, if any).")] = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    traces: TracesOpt = None,
    ray: RayOpt = None,
) -> None:
    """Propose programs for each task, run them on its examples in the sandbox, apply the one that fits to the test
    inputs; one JSON summary line at the end."""
    from tools import sandbox
    from tools.induce.files import read

    problem = sandbox.available()
    if problem:
        raise FileNotFoundError(problem)
    run_items("induce", read(tasks)[:limit], out, resume=resume, concurrency=concurrency, llm_url=llm_url, llm_model=llm_model,
              traces=traces, ray=ray, adapter=proposer, check=_some_proposer, samples=samples, use_llm=llm, use_enumerator=enumerator)


def _some_proposer(tool) -> None:
    if not (tool.use_llm or tool.use_enumerator):
        raise ValueError("no proposer left: --no-llm and --no-enumerator together (or no LLM proposer is available)")
