"""The sandbox's cost: one trivial program on one input (the cost of a call), and a batch of programs on several
inputs (the cost per program), as the induce tool runs them (its value prelude loaded). Then what it computes:
every program the enumerator proposes (depths 1 and 2) for the held-out 1D-ARC tasks, run on their examples,
and a digest of all the outputs, so two versions of the sandbox can be shown to give the same results.

    python bench/sandbox.py [--name NAME] [--calls 30] [--programs 200] [--no-outputs]

Writes bench/results/sandbox.json, keeping earlier runs under other names (e.g. the code before a change,
run from a checkout of it with --name before).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools import sandbox  # noqa: E402
from tools.induce.prompt import VALUE_PRELUDE  # noqa: E402

RESULTS = HERE / "results" / "sandbox.json"


def timed(function, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


def summary(seconds: list[float], per: int = 1) -> dict:
    ordered = sorted(seconds)
    return {"median_ms": round(statistics.median(ordered) * 1000 / per, 2),
            "p95_ms": round(ordered[max(0, int(0.95 * len(ordered)) - 1)] * 1000 / per, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="current")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--no-outputs", action="store_true", help="skip the digest of the enumerator's programs' outputs")
    args = parser.parse_args()

    one = timed(lambda: sandbox.run(["def f(x): return x"], [[1]]), args.calls)
    programs = [f"def f(s):\n    return s[:{i % 7}] + str(len(s) * {i})\n" for i in range(args.programs)]
    inputs = [["alpha"], ["beta gamma"], ["delta-epsilon"], [""], ["zeta eta theta"]]
    check = sandbox.run(programs[:3], inputs, prelude=VALUE_PRELUDE)
    assert [r.value for r in check.runs[2].results] == ["al10", "be20", "de26", "0", "ze28"], check
    batch = timed(lambda: sandbox.run(programs, inputs, prelude=VALUE_PRELUDE), 5)
    figures = {"call_one_program": summary(one), "batch_seconds": round(statistics.median(batch), 3),
               "per_program": summary(batch, args.programs), "programs": args.programs, "inputs": len(inputs),
               "machine": f"{platform.machine()}, {platform.python_version()}"}
    if not args.no_outputs:
        figures["outputs"] = outputs()
        print(f"{args.name}: {json.dumps(figures['outputs'])}")
    print(f"{args.name}: one program, one input: {figures['call_one_program']['median_ms']} ms per call "
          f"(p95 {figures['call_one_program']['p95_ms']}); {args.programs} programs x {len(inputs)} inputs: "
          f"{figures['batch_seconds']} s, {figures['per_program']['median_ms']} ms per program")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results[args.name] = figures
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def outputs() -> dict:
    """Every enumerator program for the held-out 1D-ARC tasks on their training inputs: counts and a digest."""
    from tools.induce import enumerator
    from tools.induce.pairs import held_out
    from tools.induce.prompt import GRID_PRELUDE
    from tools.induce.task import load

    tasks = [t for t in load(HERE.parent.parent / "shared" / "data" / "1d-arc") if held_out("1d-arc", t.name)]
    digest, programs, errors, killed = hashlib.sha256(), 0, 0, 0
    started = time.perf_counter()
    for task in tasks:
        for depth in (1, 2):
            codes = enumerator.expressions(task, depth=depth)
            batch = sandbox.run([f"def f(x):\n    return {c}\n" for c in codes], [ex.inputs for ex in task.train],
                                prelude=GRID_PRELUDE)
            for code, run in zip(codes, batch.runs):
                programs += 1
                killed += run.killed is not None
                errors += sum(r.error is not None for r in run.results)
                values = [r.value if r.error is None else "error" for r in run.results]
                digest.update(json.dumps([code, values]).encode())
    return {"tasks": len(tasks), "programs": programs, "errors": errors, "killed": killed,
            "seconds": round(time.perf_counter() - started, 1), "digest": digest.hexdigest()[:16]}


if __name__ == "__main__":
    main()
