"""The induction tool on the held-out parts of the shared tasks: solved rates of the LLM alone, the enumerator alone, and both.

    python bench/induce.py [--sets 1d-arc,sygus,arc] [--modes enumerator,llm,both] [--limit N] [--proposer DIR]

Held out (never trained on, never used to choose the primitives; see tools/induce/pairs.py `held_out`):
30% of 1D-ARC and of ARC-AGI training tasks, 50% of SyGuS string problems (variants of one problem
together), each by name hash. SyGuS problems become value tasks with a quarter of each example
list (at least one) held out as the test; they are written to bench/out/sygus-heldout.json, a file
`reasoner induce --tasks` reads. A task is solved when every test output is exact. Each set and mode
runs through the same code as `reasoner induce` (one proposer server for the whole run) and writes
its lines to bench/out/induce-<set>-<mode>.jsonl. The sandbox's cost per call is measured on a
trivial program. Writes bench/results/induce.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.assemble import build_tool, open_backend  # noqa: E402
from agent.batch import run_tool  # noqa: E402
from agent.graph import Agent  # noqa: E402
from tools import sandbox  # noqa: E402
from tools.induce.files import items  # noqa: E402
from tools.induce.pairs import held_out, sygus_tasks  # noqa: E402
from tools.induce.task import load  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
OUT = HERE / "out"


def held_out_sets() -> dict:
    OUT.mkdir(exist_ok=True)
    sygus = [t for t in sygus_tasks(DATA / "sygus-strings" / "pbe_slia_2019.json") if held_out("sygus", t.name)]
    (OUT / "sygus-heldout.json").write_text(json.dumps([
        {"name": t.name, "train": [{"inputs": e.inputs, "output": e.output} for e in t.train],
         "test": [{"inputs": e.inputs, "output": e.output} for e in t.test]} for t in sygus]))
    return {"1d-arc": [t for t in load(DATA / "1d-arc") if held_out("1d-arc", t.name)],
            "sygus": sygus,
            "arc": [t for t in load(DATA / "arc" / "training") if held_out("arc", t.name)]}


def sandbox_overhead(calls: int = 30) -> dict:
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        sandbox.run(["def f(x): return x"], [[1]])
        seconds.append(time.perf_counter() - started)
    return {"calls": calls, "median_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(sorted(seconds)[int(0.95 * calls) - 1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="1d-arc,sygus,arc")
    parser.add_argument("--modes", default="enumerator,llm,both")
    parser.add_argument("--limit", type=int, help="tasks per set (default: all)")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--proposer", type=Path, help="a distilled proposer folder (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "induce.json")
    parser.add_argument("--update", action="store_true", help="keep the other figures already in --out")
    args = parser.parse_args()
    sets = held_out_sets()
    report = {"machine": f"{platform.machine()}, 2 cores, no GPU", "samples": args.samples, "concurrency": args.concurrency, "sets": {}}
    if args.update and args.out.is_file():
        report = json.loads(args.out.read_text())
    report["sandbox"] = sandbox_overhead()
    print(f"sandbox: {json.dumps(report['sandbox'])}", flush=True)
    modes = {"enumerator": {"use_llm": False}, "llm": {"use_enumerator": False}, "both": {}}
    with open_backend() as backend:
        tool = build_tool(backend, "induce", adapter=args.proposer, samples=args.samples)
        if tool.llm is not None and set(args.modes.split(",")) != {"enumerator"}:
            tool.llm.client()  # start the proposer's server before any clock runs
        for name in args.sets.split(","):
            tasks = sets[name][: args.limit]
            for mode in args.modes.split(","):
                if mode != "enumerator" and tool.llm is None:
                    print(f"{name} {mode}: skipped, no LLM proposer", flush=True)
                    continue
                tool.use_llm = tool.llm is not None and modes[mode].get("use_llm", True)
                tool.use_enumerator = modes[mode].get("use_enumerator", True)
                out = OUT / f"induce-{name}-{mode}.jsonl"
                out.unlink(missing_ok=True)
                summary = run_tool(Agent({"induce": tool}), None, "induce", items(tasks), out, concurrency=args.concurrency)
                report["sets"].setdefault(name, {})[mode] = summary
                print(f"{name} {mode}: {json.dumps(summary)}", flush=True)
                args.out.parent.mkdir(exist_ok=True)
                args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
