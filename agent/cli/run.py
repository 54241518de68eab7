"""`reasoner run NAME`: a tool's batch files in, a line per task out, a summary line. The tools with options of
their own (logic, induce, regress) have commands that end in `run_items`; any other tool (an installed plugin) gets
`run_command`, which reads its files (by default a JSON line per task: question, id?, input?, answers?)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from agent.cli.common import LlmModelOpt, RayOpt, TracesOpt, UrlOpt, counting, traces_path
from tools import registry
from tools.base import BatchItem, Tool
from tools.registry import ToolSpec

if TYPE_CHECKING:
    from agent.graph import Agent

OutOpt = Annotated[Path, typer.Option("--out", help="Where to write one JSON line per task.")]
LimitOpt = Annotated[Optional[int], typer.Option(help="Only the first N tasks.")]
ResumeOpt = Annotated[bool, typer.Option(help="Skip the tasks already in --out and append the rest.")]


def run_items(name: str, items: list[BatchItem], out: Path, *, resume: bool, concurrency: int, llm_url: str | None,
              llm_model: str | None, traces: Path | None, ray: str | None = None, adapter: Path | None = None,
              check: Callable[[Tool], None] | None = None, **options: Any) -> None:
    """Answer `items` with the tool `name` (built with `options`, then `check`ed), here or on the Ray cluster at
    `ray`, a line each appended to `out`; print the summary line."""
    from agent.batch import check_output, run_tool, write_lines
    from agent.ray_batch import on_ray, replicas
    from agent.traces import TraceStore

    check_output(out, resume)  # before any model server starts
    urls = replicas(llm_url, ray)
    recipe = partial(tool_agent, name, llm_url=llm_url, llm_model=llm_model, adapter=adapter, check=check, **options)
    with counting(name, len(items), f"{registry.spec(name).files.unit}/s") as done:
        if ray is not None:
            answer = on_ray(ray, recipe, name, traces_path(traces), workers=None, concurrency=concurrency, urls=urls)
            summary = write_lines(name, items, out, answer, resume=resume, on_done=done)
        else:
            with recipe() as agent:
                summary = run_tool(agent, TraceStore(traces_path(traces)), name, items, out, concurrency=concurrency,
                                   resume=resume, on_done=done)
    print(json.dumps(summary), flush=True)


@contextlib.contextmanager
def tool_agent(name: str, llm_url: str | None, llm_model: str | None, *, adapter: Path | None = None,
               check: Callable[[Tool], None] | None = None, **options: Any) -> Iterator[Agent]:
    """An agent of the one tool `name`, built with `options` and `check`ed, on the model servers it needs."""
    from agent.assemble import build_tool, open_backend
    from agent.graph import Agent

    with open_backend(llm_url, llm_model) as backend:
        tool = build_tool(backend, name, adapter=adapter, **options)
        if check is not None:
            check(tool)
        yield Agent({name: tool})


def run_command(spec: ToolSpec) -> Callable[..., None]:
    def run(
        tasks: Annotated[Path, typer.Option("--tasks", help="The tasks: a JSON line each (question, id?, input?, answers?).")],
        out: OutOpt,
        limit: LimitOpt = None,
        resume: ResumeOpt = False,
        concurrency: Annotated[int, typer.Option(help="Tasks in flight at once (in each Ray worker, with --ray).")] = 4,
        llm_url: UrlOpt = None,
        llm_model: LlmModelOpt = None,
        traces: TracesOpt = None,
        ray: RayOpt = None,
    ) -> None:
        run_items(spec.name, spec.files.read(tasks)[:limit], out, resume=resume, concurrency=concurrency,
                  llm_url=llm_url, llm_model=llm_model, traces=traces, ray=ray)

    run.__doc__ = f"Run the {spec.name} tool ({spec.answers}) over a file of tasks; one JSON summary line at the end."
    return run
