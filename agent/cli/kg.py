"""`reasoner kg ...`: inspect a knowledge graph, run a relation path, link entities, mine plans and rules."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import TaskID, TextColumn
from rich.table import Table

from agent.cli.common import console, err, progress_bar
from kg.demo import DEMO_KB
from kg.paths import DEFAULT_MAX_FRONTIER, execute_plan, plan_text, render_path
from kg.questions import read_questions
from kg.rules import MAX_BODY, MIN_CONFIDENCE, MIN_HEAD_COVERAGE, MIN_SUPPORT, mine_rules, rules_by_head, write_rules
from kg.schema import Schema
from kg.store import KnowledgeGraph, TripleFormat

app = typer.Typer(help="Inspect and query a knowledge graph.", no_args_is_help=True)

KBArg = Annotated[str, typer.Argument(help="Triple file (head|relation|tail, TSV or JSONL), graph store folder or SPARQL endpoint URL. "
                                             "Default: the bundled demo graph.")]
SkipBad = Annotated[bool, typer.Option("--skip-bad-lines", help="Count and skip malformed lines instead of stopping.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def load(kb: str, skip_bad_lines: bool) -> KnowledgeGraph:
    from kg.rdf import open_graph

    started = time.perf_counter()
    kg = open_graph(kb, skip_bad_lines=skip_bad_lines)
    err.print(f"[dim]loaded {kg!r} from {kb} in {time.perf_counter() - started:.2f}s[/]", highlight=False)
    return kg


@app.command("load")
def load_command(
    kb: Annotated[Path, typer.Argument(help="Triple file: head|relation|tail, TSV or JSONL.")],
    store: Annotated[Path, typer.Option("--store", help="The store folder to create (Oxigraph on disk, and its name index).")],
    format: Annotated[Optional[str], typer.Option(help="pipe, tsv or jsonl (default: from the file).")] = None,
    skip_bad_lines: SkipBad = False,
) -> None:
    """Store a graph on disk for graphs larger than memory: then `--kg STORE` anywhere a graph is asked for, or serve
    the folder's `oxigraph/` with any SPARQL server (`oxigraph serve-read-only --location STORE/oxigraph`)."""
    from kg.rdf import load_store

    if format not in (None, "pipe", "tsv", "jsonl"):
        raise ValueError(f"--format must be pipe, tsv or jsonl, not {format!r}")
    started = time.perf_counter()
    with progress_bar("", TextColumn("{task.description}")) as bars:
        tasks: dict[str, TaskID] = {}

        said: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            label = {"lines": "lines read and stored", "names": "names indexed"}[stage]
            if stage not in tasks:
                tasks[stage] = bars.add_task(label, total=total)
            bars.update(tasks[stage], completed=done, total=total)
            tenth = 10 * done // total if total else 0
            if not err.is_terminal and tenth > said.get(stage, 0):  # a log gets a line every tenth
                said[stage] = tenth
                err.print(f"{label}: {done:,} of {total:,} ({time.perf_counter() - started:.0f}s)", highlight=False)

        fmt: TripleFormat | None = format  # type: ignore[assignment]
        report = load_store(kb, store, format=fmt, skip_bad_lines=skip_bad_lines, progress=progress)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    err.print(f"stored {report.triples:,} triples ({report.duplicates:,} duplicates, {report.bad_lines:,} bad lines skipped) "
              f"in {store} in {seconds:.0f}s ({report.triples / max(seconds, 1e-9):,.0f} triples/s); {size / 1e9:.2f} GB on disk",
              highlight=False)
    err.print(f"use it: reasoner serve --kg {store}", highlight=False)


@app.command()
def stats(kb: KBArg = str(DEMO_KB), skip_bad_lines: SkipBad = False, as_json: AsJson = False) -> None:
    """Size, load report and schema (relations with the kinds of entity at each end)."""
    kg = load(kb, skip_bad_lines)
    schema = Schema.derive(kg)
    if as_json:
        report = vars(kg.report) | {"entities": kg.entity_count, "relations": len(kg.relations)}
        print(json.dumps({"report": report, "schema": schema.model_dump()}, ensure_ascii=False, indent=2))
        return
    r = kg.report
    console.print(
        f"{kg.entity_count:,} entities, {len(kg.relations)} relations, {r.triples:,} triples "
        f"({r.duplicates:,} duplicates collapsed, {r.bad_lines:,} bad lines skipped, {r.blank_lines:,} blank lines)"
    )
    table = Table("relation", "head kind", "tail kind", "triples", title="schema")
    for rel in schema.relations:
        if not rel.name.startswith("~"):
            table.add_row(rel.name, rel.head_kind, rel.tail_kind, f"{rel.triples:,}")
    console.print(table)
    kinds = Table("kind", "entities", "examples", title="entity kinds")
    for kind in schema.kinds:
        kinds.add_row(kind.name, f"{kind.entities:,}", ", ".join(kind.examples))
    console.print(kinds)


@app.command()
def path(
    kb: KBArg = str(DEMO_KB),
    entity: Annotated[list[str], typer.Option("--entity", "-e", help="Topic entity (repeat for several).")] = ...,
    relations: Annotated[str, typer.Option("--relations", "-r", help="Relation sequence, e.g. directed_by,~directed_by.")] = ...,
    witnesses: Annotated[int, typer.Option(help="Witness paths to show per answer.")] = 1,
    max_frontier: Annotated[int, typer.Option(help="Cut a hop's frontier at this many entities (reported).")] = DEFAULT_MAX_FRONTIER,
    skip_bad_lines: SkipBad = False,
    as_json: AsJson = False,
) -> None:
    """Follow a relation sequence from topic entities: answers and the paths that support them."""
    kg = load(kb, skip_bad_lines)
    plan = [step.strip() for step in relations.split(",") if step.strip()]
    result = execute_plan(kg, entity, plan, max_frontier=max_frontier, max_witnesses=witnesses)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    console.print(f"[bold]{len(result.answers)} answer(s)[/] for {plan_text(plan)} from {', '.join(entity)}", highlight=False)
    if result.truncated_at_hop:
        console.print(f"[yellow]frontier cut at {max_frontier:,} entities at hop {result.truncated_at_hop}: answers may be missing[/]")
    for answer in result.answers:
        console.print(f"[green]{answer}[/]", highlight=False)
        for witness in result.witnesses[answer]:
            console.print(f"    {render_path(witness)}", highlight=False, style="dim")


@app.command()
def link(
    question: Annotated[str, typer.Argument(help="A question in words.")],
    kb: Annotated[str, typer.Option("--kb", help="Triple file, store folder or SPARQL URL (default: the demo graph).")] = str(DEMO_KB),
    limit: int = 5,
) -> None:
    """The entities of the graph a question mentions, best first."""
    from kg.linking import EntityLinker

    linker = EntityLinker(load(kb, False))
    candidates = linker.link(question, limit=limit)
    if not candidates:
        console.print("no entity of the graph found in the question")
    for c in candidates:
        console.print(f"{c.score:.2f}  {c.method:<10}  {c.entity}  [dim](matched {c.span!r})[/]", highlight=False)


@app.command()
def mine(
    kb: Annotated[str, typer.Argument(help="Triple file, store folder or SPARQL URL.")],
    questions: Annotated[list[Path], typer.Argument(help="Question files: question<TAB>answer|answer, or JSONL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the mined plans (JSONL).")],
    max_hops: Annotated[int, typer.Option(help="Longest relation path to try.")] = 3,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: one per core).")] = None,
    skip_bad_lines: SkipBad = False,
) -> None:
    """Mine the relation path behind each question from its gold answers; write them as JSONL."""
    from kg.mining import mine_questions, summarise

    kg = load(kb, skip_bad_lines)
    items = [q for path in questions for q in read_questions(path)]
    started = time.perf_counter()
    with progress_bar("mining") as progress:
        task = progress.add_task("mine", total=len(items))
        mined = mine_questions(kg, items, max_hops=max_hops, workers=workers, progress=lambda n: progress.advance(task, n))
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as f:
        for m in mined:
            f.write(m.model_dump_json() + "\n")
    partial.replace(out)
    seconds = time.perf_counter() - started
    err.print(f"wrote {len(mined):,} plans to {out} in {seconds:.1f}s", highlight=False)
    table = Table("questions", "exact", "mean F1", "no plan", "plan lengths", "most frequent plan", title="mined plans")
    for name, s in summarise(mined, top=1).items():
        top = f"{s.top_plans[0][0]} ({s.top_plans[0][1]})" if s.top_plans else "-"
        lengths = ", ".join(f"{k}:{v}" for k, v in s.plan_lengths.items())
        table.add_row(f"{name} {s.questions:,}", f"{s.exact:.2%}", f"{s.mean_f1:.3f}", str(s.no_plan), lengths, top)
    console.print(table)


@app.command()
def rules(
    kb: Annotated[str, typer.Argument(help="Triple file, store folder or SPARQL URL.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the rules (JSONL, most confident first).")],
    max_body: Annotated[int, typer.Option(help="Most steps in a rule's body (1 to 3).")] = MAX_BODY,
    min_support: Annotated[int, typer.Option(help="Least head facts a rule must derive.")] = MIN_SUPPORT,
    min_head_coverage: Annotated[float, typer.Option(help="Least share of the head's facts a rule must derive.")] = MIN_HEAD_COVERAGE,
    min_confidence: Annotated[float, typer.Option(help="Least PCA confidence.")] = MIN_CONFIDENCE,
    skip_bad_lines: SkipBad = False,
) -> None:
    """Mine Horn rules from the graph (closed path rules, as AMIE mines them), with support, head coverage and PCA
    confidence: what the KG tool infers a missing edge by (status `inferred`)."""
    kg = load(kb, skip_bad_lines)
    started = time.perf_counter()
    with progress_bar("mining rules") as progress:
        task = progress.add_task("bodies", total=None)
        mined = mine_rules(kg, max_body=max_body, min_support=min_support, min_head_coverage=min_head_coverage,
                           min_confidence=min_confidence, progress=lambda done, total: progress.update(task, completed=done, total=total))
    partial = out.with_name(out.name + ".partial")
    write_rules(mined, partial)
    partial.replace(out)
    err.print(f"wrote {len(mined):,} rules to {out} in {time.perf_counter() - started:.1f}s", highlight=False)
    table = Table("head", "rules", "best PCA confidence", "its head coverage", "its support", title="rules by head")
    for head, found in sorted(rules_by_head(mined).items()):
        best = found[0]
        table.add_row(head, str(len(found)), f"{best.pca_confidence:.3f}", f"{best.head_coverage:.3f}", f"{best.support:,}")
    console.print(table)
    for rule in mined[:10]:
        console.print(f"{rule.pca_confidence:.3f}  {rule.text()}", highlight=False, soft_wrap=True)
