"""`reasoner induce`: explain a folder or file of example tasks (ARC grids, value tasks) by programs run in the sandbox."""

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
from tools import sandbox
from tools.induce.files import read


def induce(
    tasks: Annotated[Path, typer.Option("--tasks", help="An ARC task file, a folder of them (searched recursively), or a JSON list of value tasks.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write one JSON line per task.")],
    limit: Annotated[Optional[int], typer.Option(help="Only the first N tasks.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip the tasks already in --out and append the rest.")] = False,
    samples: Annotated[int, typer.Option(help="Programs the LLM proposes per round.")] = 4,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Let the LLM propose programs (when a proposer is shipped or --llm-url is given).")] = True,
    enumerator: Annotated[bool, typer.Option("--enumerator/--no-enumerator", help="Let the enumerator propose compositions of the grid primitives.")] = True,
    concurrency: Annotated[int, typer.Option(help="Tasks in flight at once.")] = 2,
    proposer: Annotated[Optional[Path], typer.Option(help="A distilled proposer folder (default: the shipped one, if any).")] = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    traces: TracesOpt = None,
) -> None:
    """Propose programs for each task, run them on its examples in the sandbox, apply the one that fits to the test
    inputs; one JSON summary line at the end."""
    items = read(tasks)[:limit]
    check_output(out, resume)  # before any model server starts
    problem = sandbox.available()
    if problem:
        raise FileNotFoundError(problem)
    store = TraceStore(traces_path(traces))
    with open_backend(llm_url, llm_model) as backend:
        tool = build_tool(backend, "induce", adapter=proposer, samples=samples, use_llm=llm, use_enumerator=enumerator)
        if not (tool.use_llm or tool.use_enumerator):
            raise ValueError("no proposer left: --no-llm and --no-enumerator together (or no LLM proposer is available)")
        agent = Agent({"induce": tool})
        with counting("inducing", len(items), "tasks/s") as done:
            summary = run_tool(agent, store, "induce", items, out, concurrency=concurrency, resume=resume, on_done=done)
    print(json.dumps(summary), flush=True)
