"""A graph larger than memory: a synthetic MetaQA-shaped graph (`bench/synthetic_kg.py`, 100M triples by default)
stored with `reasoner kg load`, then queried from the store folder (embedded Oxigraph) and through a SPARQL server
(Oxigraph's, over the same folder).

    python bench/store.py --work /work/bigkg [--triples 100000000] [--stage load|latency|batch]...

- load: `reasoner kg load` as a user runs it: seconds, triples/s, disk size, peak memory (the command and everything
  under it, sampled every second);
- latency: 1-, 2- and 3-hop plans (MetaQA's kinds of question) from random topics, `kg.paths.execute_plan` on each
  backend (in turn first, as the first reads the disk cold): p50 and p95 milliseconds, answers and witness paths
  equal across backends;
- batch: MetaQA-style questions over the synthetic graph through `reasoner batch --kg STORE` and `--kg URL` with the
  shipped MetaQA planner (its relations are the graph's): questions/s.

Each stage adds its figures to bench/results/store.json (the stages run in the order given; default: all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import synthetic_kg  # noqa: E402
from watch import REASONER, run_watched  # noqa: E402

from kg.paths import execute_plan  # noqa: E402
from kg.rdf import names_cache, open_endpoint, open_store, sparql_server  # noqa: E402


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def load(kb: Path, store: Path) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen([REASONER, "kg", "load", str(kb), "--store", str(store)], stdout=subprocess.DEVNULL,
                               stderr=open(store.with_suffix(".log"), "w"))
    watched, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        peak = max(peak, tree_rss(watched))
        time.sleep(1)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"reasoner kg load failed: {store.with_suffix('.log').read_text()[-2000:]}")
    graph = open_store(store)
    disk = {part.name: sum(f.stat().st_size for f in part.rglob("*") if f.is_file()) if part.is_dir() else part.stat().st_size
            for part in store.iterdir()}
    return {"triples": graph.report.triples, "entities": graph.entity_count, "lines": graph.report.lines,
            "seconds": round(seconds, 1), "triples_per_s": round(graph.report.triples / seconds),
            "disk_gb": round(sum(disk.values()) / 1e9, 2), "disk_gb_by_part": {k: round(v / 1e9, 2) for k, v in disk.items()},
            "disk_bytes_per_triple": round(sum(disk.values()) / graph.report.triples, 1), "peak_rss_gb": round(peak / 1e9, 2)}


def share_names(store: Path) -> None:
    """Link the store's name index where the endpoint over it looks for its names: read over HTTP from Oxigraph's
    server they stream at about a thousand a second here (each name a dictionary read on disk)."""
    path = names_cache(open_store(store).meta)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(store / "names.sqlite", path)


def latency(store: Path, triples: int, per_plan: int, url: str) -> dict:
    embedded, endpoint = open_store(store), open_endpoint(url)
    figures: dict = {}
    rng = random.Random(0)
    movies = int(triples / synthetic_kg.EDGES_PER_MOVIE)
    people = synthetic_kg.pools(movies)["Person"]
    for hops, kinds in synthetic_kg.QUESTIONS.items():
        times: dict[str, list[float]] = {"store": [], "sparql_server": []}
        answers, equal, cut = [], 0, 0
        for plan, _ in kinds:
            for _ in range(per_plan):
                topic = synthetic_kg.name("Person", rng.randrange(people)) if plan[0].startswith("~") \
                    else synthetic_kg.name("Movie", rng.randrange(movies))
                results = {}
                backends = [("store", embedded), ("sparql_server", endpoint)]
                for name, graph in backends if len(answers) % 2 else backends[::-1]:  # the first reads the disk cold
                    began = time.perf_counter()
                    results[name] = execute_plan(graph, [topic], plan, max_witnesses=1)
                    times[name].append(time.perf_counter() - began)
                equal += results["store"] == results["sparql_server"]
                answers.append(len(results["store"].answers))
                cut += results["store"].truncated_at_hop is not None
        n = len(answers)
        figures[f"{hops}_hop"] = {"plans": n, "answers_median": int(np.median(answers)), "answers_max": max(answers),
                                  "frontier_cut": cut, "equal_across_backends": equal,
                                  **{f"{name}_ms": {"p50": round(1000 * float(np.percentile(t, 50)), 1),
                                                    "p95": round(1000 * float(np.percentile(t, 95)), 1)} for name, t in times.items()}}
        print(f"{hops}-hop: {figures[f'{hops}_hop']}", flush=True)
    return figures


def batch(store: Path, triples: int, per_hop: int, url: str, work: Path) -> dict:
    questions = work / "questions.jsonl"
    questions.write_text("".join(json.dumps({"id": f"q{i}", "question": q, "hops": hops}) + "\n"
                                 for i, (hops, _, _, q) in enumerate(synthetic_kg.questions(triples, per_hop))))
    figures: dict = {}
    outputs = {}
    for name, kg in (("store", str(store)), ("sparql_server", url)):
        out = work / f"answers-{name}.jsonl"
        out.unlink(missing_ok=True)
        summary, seconds = run_watched(["batch", "--kg", kg, "--questions", str(questions), "--out", str(out),
                                        "--traces", str(work / "traces.sqlite")], lambda pid, s: None, every=1.0)
        figures[name] = {k: summary[k] for k in ("n", "questions_per_s", "seconds")} | {"wall_seconds_including_start": round(seconds, 1)}
        outputs[name] = {line["id"]: (line.get("status"), line["answers"]) for line in map(json.loads, out.read_text().splitlines())}
        print(f"batch {name}: {figures[name]}", flush=True)
    figures["answers_equal_across_backends"] = outputs["store"] == outputs["sparql_server"]
    figures["statuses"] = dict(sorted(Counter(s for s, _ in outputs["store"].values()).items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="folder for the graph file, its store and the answers")
    parser.add_argument("--triples", type=int, default=100_000_000)
    parser.add_argument("--stage", action="append", choices=["load", "latency", "batch"])
    parser.add_argument("--per-plan", type=int, default=100, help="latency: topics per kind of plan")
    parser.add_argument("--per-hop", type=int, default=200, help="batch: questions per number of hops")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "store.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    kb, store = args.work / f"kg{args.triples}.txt", args.work / f"store{args.triples}"
    figures = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if figures.get("triples_asked") != args.triples:
        figures = {}
    figures |= {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
                "triples_asked": args.triples}
    for stage in args.stage or ["load", "latency", "batch"]:
        if stage == "load":
            if not kb.is_file():
                synthetic_kg.generate(args.triples, kb)
            movies = int(args.triples / synthetic_kg.EDGES_PER_MOVIE)
            figures["graph"] = {"movies": movies, "pools": synthetic_kg.pools(movies), "relations": synthetic_kg.RELATIONS}
            figures["load"] = load(kb, store)
            print(f"load: {figures['load']}", flush=True)
        else:
            with sparql_server(store, wait=600) as url:
                share_names(store)
                if stage == "latency":
                    figures["latency"] = latency(store, args.triples, args.per_plan, url)
                else:
                    figures["batch"] = batch(store, args.triples, args.per_hop, url, args.work)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
