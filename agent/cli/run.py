"""`reasoner run NAME` for a tool that brings no command of its own (an installed plugin): its batch files in
(by default a JSON line per task: question, id?, input?, answers?), a line per task out, a summary line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.assemble import build_tool, open_backend
from agent.batch import check_output, run_tool
from agent.cli.common import LlmModelOpt, TracesOpt, UrlOpt, counting, traces_path
from agent.graph import Agent
from agent.traces import TraceStore
from tools.registry import ToolSpec


def run_command(spec: ToolSpec) -> Callable[..., None]:
    def run(
        tasks: Annotated[Path, typer.Option("--tasks", help="The tasks: a JSON line each (question, id?, input?, answers?).")],
        out: Annotated[Path, typer.Option("--out", help="Where to write one JSON line per task.")],
        limit: Annotated[Optional[int], typer.Option(help="Only the first N tasks.")] = None,
        resume: Annotated[bool, typer.Option(help="Skip the tasks already in --out and append the rest.")] = False,
        concurrency: Annotated[int, typer.Option(help="Tasks in flight at once.")] = 4,
        llm_url: UrlOpt = None,
        llm_model: LlmModelOpt = None,
        traces: TracesOpt = None,
    ) -> None:
        items = spec.files.read(tasks)[:limit]
        check_output(out, resume)  # before any model server starts
        store = TraceStore(traces_path(traces))
        with open_backend(llm_url, llm_model) as backend:
            agent = Agent({spec.name: build_tool(backend, spec.name)})
            with counting(spec.name, len(items), f"{spec.files.unit}/s") as done:
                summary = run_tool(agent, store, spec.name, items, out, concurrency=concurrency, resume=resume, on_done=done)
        print(json.dumps(summary), flush=True)

    run.__doc__ = f"Run the {spec.name} tool ({spec.answers}) over a file of tasks; one JSON summary line at the end."
    return run
