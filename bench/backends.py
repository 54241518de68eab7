"""MetaQA's held-out questions on each graph backend: the triple file in memory, a store folder (embedded
Oxigraph, built by `reasoner kg load`) and Oxigraph's SPARQL server over that folder.

    python bench/backends.py [--llm-every 5]

`reasoner batch` answers the held-out slice of MetaQA dev (`kg.questions.is_held_out`) with the edge scorer
(every question) and with the distilled LLM planner (every `--llm-every`-th question, a model server started by
each run), once per backend. Reported per planner and backend: Hits@1, micro-F1, questions/s and its ratio to
memory, and whether every answer line (status, answers, evidence) equals the in-memory run's, id by id.
Writes bench/results/backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from watch import REASONER, run_watched  # noqa: E402

from kg.questions import is_held_out, read_questions  # noqa: E402
from kg.rdf import sparql_server  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"


def lines(out: Path) -> dict[str, tuple]:
    return {r["id"]: (r["status"], r["answers"], r["evidence"]) for r in map(json.loads, out.read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm-every", type=int, default=5, help="the LLM planner answers every N-th held-out question")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "backends.json")
    parser.add_argument("--backends", default="memory,store,sparql_server", help="which of them to run (memory first)")
    args = parser.parse_args()
    held_out = [q for hops in (1, 2, 3) for q in read_questions(METAQA / f"qa_{hops}hop_dev.txt") if is_held_out(q.id)]
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "questions": len(held_out)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = work / "store"
        started = time.perf_counter()
        subprocess.run([REASONER, "kg", "load", str(METAQA / "kb.txt"), "--store", str(store)], check=True, capture_output=True)
        figures["kg_load_seconds"] = round(time.perf_counter() - started, 1)
        sets = {"embedding": held_out, "llm": held_out[:: args.llm_every]}
        with sparql_server(store) as url:
            backends = {"memory": str(METAQA / "kb.txt"), "store": str(store), "sparql_server": url}
            backends = {name: kg for name, kg in backends.items() if name in args.backends.split(",")}
            for planner, questions in sets.items():
                path = work / f"{planner}.jsonl"
                path.write_text("".join(json.dumps({"id": q.id, "question": q.question, "answers": q.answers, "hops": q.hops}) + "\n"
                                        for q in questions))
                runs: dict = {"questions": len(questions)}
                for backend, kg in backends.items():
                    out = work / f"{planner}-{backend}.jsonl"
                    summary, seconds = run_watched(["batch", "--kg", kg, "--questions", str(path), "--out", str(out), "--planner",
                                                    "embedding" if planner == "embedding" else "auto", "--traces", str(work / "t.sqlite")],
                                                   lambda pid, s: None, every=1.0)
                    runs[backend] = {k: summary[k] for k in ("n", "hits_at_1", "micro_f1", "questions_per_s", "status")} | {
                        "wall_seconds_including_start": round(seconds, 1)}
                    if backend != "memory":
                        runs[backend]["lines_equal_memory"] = lines(out) == lines(work / f"{planner}-memory.jsonl")
                        runs[backend]["throughput_ratio_to_memory"] = round(
                            runs[backend]["questions_per_s"] / runs["memory"]["questions_per_s"], 3)
                    print(f"{planner} on {backend}: {runs[backend]}", flush=True)
                figures[planner] = runs
                args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
