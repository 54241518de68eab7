"""`reasoner regress`: find the formula behind a CSV file of numbers, or behind each file of a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from agent.cli.common import LlmModelOpt, RayOpt, TracesOpt, UrlOpt, console, traces_path
from agent.cli.run import run_items, tool_agent


def regress(
    data: Annotated[Optional[Path], typer.Option("--data", help="One CSV file: a header row of column names, then rows of numbers.")] = None,
    tasks: Annotated[Optional[Path], typer.Option("--tasks", help="A folder of CSV files, one data set each.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="With --tasks: where to write one JSON line per file.")] = None,
    target: Annotated[Optional[str], typer.Option(help="The column to explain (default: the last).")] = None,
    resume: Annotated[bool, typer.Option(help="With --tasks: skip the files already in --out and append the rest.")] = False,
    samples: Annotated[int, typer.Option(help="Forms the LLM proposes per round.")] = 8,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Let the LLM propose forms (when a proposer is shipped or --llm-url is given).")] = True,
    generator: Annotated[bool, typer.Option("--generator/--no-generator", help="Let the generator propose forms (enumerated terms, combined linearly).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="With --data: print the whole answer as JSON.")] = False,
    concurrency: Annotated[int, typer.Option(help="With --tasks: files in flight at once.")] = 1,
    proposer: Annotated[Optional[Path], typer.Option(help="A distilled formula proposer folder (default: the shipped one).")] = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    traces: TracesOpt = None,
    ray: RayOpt = None,
) -> None:
    """Propose forms, fit their constants, check the best on held-out rows; print the formula (--data) or write a
    line per file and a summary line (--tasks)."""
    from agent.runner import answer_question
    from agent.traces import TraceStore
    from tools.regress.data import read_csv
    from tools.regress.files import as_task, read

    if (data is None) == (tasks is None):
        raise ValueError("give one of --data FILE.csv or --tasks FOLDER")
    if tasks is not None and out is None:
        raise ValueError("--tasks needs --out (the JSON lines file to write)")
    options = dict(adapter=proposer, samples=samples, use_llm=llm, use_generator=generator)
    if tasks is not None:
        run_items("regress", read(tasks, target), out, resume=resume, concurrency=concurrency, llm_url=llm_url,
                  llm_model=llm_model, traces=traces, ray=ray, check=_some_proposer, **options)
        return
    table = read_csv(data, target)  # a bad file fails here, before any model starts
    store = TraceStore(traces_path(traces))
    with tool_agent("regress", llm_url, llm_model, check=_some_proposer, **options) as agent:
        answer = answer_question(agent, store, as_task(table, data.name), question_id=data.stem)
    answer.message += "".join(f" Note: {note}." for note in table.notes())  # what reading the file changed
    if as_json:
        print(answer.model_dump_json(indent=2))
    else:
        console.print(answer.message, highlight=False)
        console.print(f"[dim]{len(answer.attempts)} round(s), {answer.seconds['total']:.1f} s; trace {answer.trace_id}[/]")
    if answer.status != "answered":
        raise typer.Exit(1)


def _some_proposer(tool) -> None:
    if not (tool.use_llm or tool.use_generator):
        raise ValueError("no proposer left: --no-llm and --no-generator together (or no LLM proposer is available)")
