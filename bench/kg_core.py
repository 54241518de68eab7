"""Step-1 figures on MetaQA: graph loading, plan mining over all dev questions, path execution.

    python bench/kg_core.py [--metaqa ../shared/data/metaqa] [--workers N]

Prints the figures and writes them to bench/results/kg_core.json; the mined plans go to
bench/out/metaqa_dev_plans.jsonl (not in git).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
LOAD_PROBE = """
import resource, sys, time
started = time.perf_counter()
from kg.store import KnowledgeGraph
kg = KnowledgeGraph.load(sys.argv[1])
indexed = time.perf_counter()
kg.graph
done = time.perf_counter()
print(indexed - started, done - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure_load(kb: Path) -> dict:
    """Load in a fresh interpreter so that time includes imports and peak RSS is the load's own."""
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(kb)], capture_output=True, text=True, check=True)
        runs.append([float(x) for x in out.stdout.split()])
    best = min(runs, key=lambda r: r[1])
    return {
        "indices_s": round(best[0], 3),
        "indices_and_networkx_s": round(best[1], 3),
        "peak_rss_mb": round(max(r[2] for r in runs), 1),
        "runs": 3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metaqa", type=Path, default=HERE.parent.parent / "shared" / "data" / "metaqa")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from kg.mining import mine_questions, summarise
    from kg.paths import execute_plan
    from kg.questions import read_questions
    from kg.store import KnowledgeGraph

    kb = args.metaqa / "kb.txt"
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    figures["load"] = measure_load(kb)
    print("load:", json.dumps(figures["load"]), flush=True)

    kg = KnowledgeGraph.load(kb)
    questions = [q for hops in (1, 2, 3) for q in read_questions(args.metaqa / f"qa_{hops}hop_dev.txt")]
    started = time.perf_counter()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done % 5000 < n or done == len(questions):
            print(f"  mined {done:,}/{len(questions):,} in {time.perf_counter() - started:.0f}s", flush=True)

    mined = mine_questions(kg, questions, workers=args.workers, progress=progress)
    mining_s = time.perf_counter() - started
    summary = summarise(mined)
    figures["mining"] = {
        "questions": len(mined),
        "workers": args.workers,
        "seconds": round(mining_s, 1),
        "per_hop": {name: s.model_dump() for name, s in summary.items()},
    }
    for name, s in summary.items():
        print(f"mining {name}: {s.questions:,} questions, exact {s.exact:.2%}, mean F1 {s.mean_f1:.4f}, "
              f"no plan {s.no_plan}, plan lengths {s.plan_lengths}")
    print(f"mining took {mining_s:.1f}s with {args.workers} workers", flush=True)
    out = HERE / "out" / "metaqa_dev_plans.jsonl"
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(m.model_dump_json() + "\n" for m in mined), encoding="utf-8")

    timings: dict[str, list[float]] = {"all": []}
    disagreements = 0
    for m in mined:
        if not m.plan:
            continue
        t0 = time.perf_counter()
        result = execute_plan(kg, [m.topic], m.plan)
        elapsed = (time.perf_counter() - t0) * 1000
        timings["all"].append(elapsed)
        timings.setdefault(f"{m.hops}-hop", []).append(elapsed)
        disagreements += len(result.answers) != m.predicted
    figures["path_execution_ms"] = {
        name: {
            "n": len(ms),
            "median": round(statistics.median(ms), 3),
            "p99": round(statistics.quantiles(ms, n=100)[98], 3),
            "max": round(max(ms), 3),
        }
        for name, ms in sorted(timings.items())
    }
    figures["path_execution_ms"]["answer_count_mismatches_vs_mining"] = disagreements
    for name, t in figures["path_execution_ms"].items():
        print(f"path execution {name}: {t}")
    figures["peak_rss_mb_bench_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    results = HERE / "results" / "kg_core.json"
    results.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
