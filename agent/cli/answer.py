"""`reasoner ask` (any task, routed to a tool) and `reasoner batch` (KG questions): traces recorded."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from agent.cli.common import (
    ExamplesOpt,
    KgOpt,
    LlmModelOpt,
    ModelOpt,
    PlannerOpt,
    RayOpt,
    TracesOpt,
    UrlOpt,
    console,
    counting,
    err,
    traces_path,
)
from kg.demo import DEMO_KB
from tools.base import Task
from tools.registry import check_input, evidence_lines, spec


def ask(
    question: Annotated[str, typer.Argument(help="The message: a question (the topic entity may be marked [like this]), "
                                                 "premises and a question, examples, or a table.")],
    tool: Annotated[Optional[str], typer.Option(help="The tool that must answer (kg, logic, induce, regress); "
                                                     "routed from the message when absent.")] = None,
    input: Annotated[Optional[str], typer.Option("--input", help="The tool's typed input as JSON, or @FILE with it "
                                                                 "(e.g. '{\"premises\": [...], \"conclusion\": ...}').")] = None,
    kg_path: KgOpt = str(DEMO_KB),
    planner: PlannerOpt = "auto",
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    examples: ExamplesOpt = None,
    traces: TracesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured answer as JSON.")] = False,
) -> None:
    """Answer one message: routed to a tool, then the answers and the evidence that supports them."""
    from agent.assemble import open_agent
    from agent.runner import answer_question
    from agent.traces import TraceStore

    if tool is not None:
        spec(tool)  # a ValueError naming the tools, unless it is one
    typed = typed_input(input, tool)
    store = TraceStore(traces_path(traces))
    with open_agent(kg_path, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples) as agent:
        answer = answer_question(agent, store, Task(question=question, tool=tool, input=typed))
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    if answer.route:
        err.print(f"[dim]routed to {answer.tool}: {escape(answer.route.reason)}[/]", highlight=False)
    if answer.status != "answered":
        console.print(f"[yellow]{escape(answer.message)}[/]", highlight=False)  # inferred, or why not
        for c in answer.link_candidates:
            console.print(f"  considered: {escape(c.entity)} ({c.method}, {c.score:.2f})", highlight=False)
    else:
        more = f" (+{len(answer.answers) - 20} more)" if len(answer.answers) > 20 else ""
        console.print(f"[bold]{escape(', '.join(answer.answers[:20]))}[/]{more}", highlight=False)
        for line in evidence_lines(answer):
            console.print("  " + line, highlight=False, markup=False, style="dim")
    for attempt in answer.attempts:
        if attempt.failed:
            console.print(f"[dim]rejected {escape(attempt.candidate)}: failed {', '.join(attempt.failed)}[/]", highlight=False)
    err.print(f"trace {answer.trace_id} in {store.path}; {answer.seconds['total']:.2f}s", highlight=False)


def typed_input(text: str | None, tool: str | None) -> dict | None:
    """The --input option: JSON (inline or @FILE), checked against the tool's input when a tool is named."""
    if text is None:
        return None
    source = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        value = json.loads(source)
    except json.JSONDecodeError as e:
        raise ValueError(f"--input: not JSON ({e})") from None
    if not isinstance(value, dict):
        raise ValueError("--input: expected a JSON object")
    check_input(value, tool)
    return value


def batch(
    questions: Annotated[Path, typer.Option("--questions", "--tasks", help="question<TAB>answer|answer lines, or JSONL {id, question, answers?}.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write one JSON answer per line.")],
    kg_path: KgOpt = str(DEMO_KB),
    planner: PlannerOpt = "auto",
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = None,
    examples: ExamplesOpt = None,
    traces: TracesOpt = None,
    limit: Annotated[Optional[int], typer.Option(help="Answer only the first N questions.")] = None,
    concurrency: Annotated[Optional[int], typer.Option(help="Questions in flight at once in each worker process "
                                                            "(default: 32 for an LLM planner, 1 for the embedding planner).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Processes answering questions (default: one per core for the "
                                                        "embedding planner, which computes; one for an LLM planner, which waits).")] = None,
    resume: Annotated[bool, typer.Option(help="Skip the ids already in --out and append the rest.")] = False,
    ray: RayOpt = None,
) -> None:
    """Answer a file of questions; print one JSON line of metrics at the end when gold answers are given."""
    from agent.assemble import open_agent
    from agent.batch import check_output, run_tool, write_lines
    from agent.ray_batch import on_ray, replicas
    from agent.traces import TraceStore

    items = spec("kg").files.read(questions)[:limit]
    check_output(out, resume)  # before any model server starts
    urls = replicas(llm_url, ray)
    recipe = partial(open_agent, kg_path, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples)
    with counting("answering", len(items), "q/s", digits=1) as done:
        if ray is not None:  # an agent per Ray worker (--workers of them, default: one per CPU of the cluster)
            answer = on_ray(ray, recipe, "kg", traces_path(traces), workers=workers,
                            concurrency=concurrency or (1 if planner == "embedding" else 32), urls=urls)
            summary = write_lines("kg", items, out, answer, resume=resume, on_done=done)
        else:
            with recipe() as agent:
                computes = agent.planner_name == "embedding"  # CPU-bound: a process per core, no thread switching
                workers = workers or ((os.cpu_count() or 1) if computes else 1)
                concurrency = concurrency or (1 if computes else 32)
                summary = run_tool(agent, TraceStore(traces_path(traces)), "kg", items, out, concurrency=concurrency,
                                   workers=workers, resume=resume, on_done=done)
    print(json.dumps(summary), flush=True)
