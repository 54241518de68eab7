"""Batch on Ray: MetaQA's held-out questions through `reasoner batch --ray local`, against one process.

    python bench/ray.py [--limit N]

The real CLI answers the held-out slice of MetaQA dev (`kg.questions.is_held_out`) with the embedding planner
(no model server): once without Ray (`--workers 1`, one process), then on a local Ray cluster with 1 and with
2 agents, then with 2 agents while one agent's process is killed once answers have begun to arrive. Reported:
whether every run's answers equal the one-process run's (id by id), questions/s inside each run and wall time
with start-up, the 2-agent/1-agent throughput ratio, the answers the killed run lost (goal: none), and a
projection of the time to answer one million questions on N machines from the measured rate per agent.
Writes bench/results/ray.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
from pathlib import Path

import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from watch import run_watched  # noqa: E402

from kg.questions import is_held_out, read_questions  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"


def answers(out: Path) -> dict[str, list[str]]:
    return {line["id"]: line["answers"] for line in map(json.loads, out.read_text().splitlines())}


def batch(questions: Path, out: Path, *extra: str, kill_after: int | None = None) -> dict:
    killed: list[int] = []

    def look(pid: int, seconds: float) -> None:
        if kill_after is None or killed or not out.is_file() or out.read_text().count("\n") < kill_after:
            return
        agents = [p for p in psutil.process_iter(["cmdline"]) if "MapWorker" in " ".join(p.info["cmdline"] or [])]
        if agents:
            os.kill(agents[0].pid, signal.SIGKILL)
            killed.append(agents[0].pid)

    arguments = ["batch", "--kg", str(METAQA / "kb.txt"), "--questions", str(questions), "--out", str(out),
                 "--planner", "embedding", "--traces", str(out.with_suffix(".sqlite")), *extra]
    summary, seconds = run_watched(arguments, look, every=0.5)
    return {k: summary[k] for k in ("n", "hits_at_1", "micro_f1", "questions_per_s", "seconds")} | {
        "wall_seconds_including_start": round(seconds, 1), **({"killed_agents": len(killed)} if kill_after else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N held-out questions")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ray.json")
    args = parser.parse_args()
    held_out = [q for hops in (1, 2, 3) for q in read_questions(METAQA / f"qa_{hops}hop_dev.txt") if is_held_out(q.id)]
    held_out = held_out[: args.limit]
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "questions": len(held_out)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        questions = work / "held_out.jsonl"
        questions.write_text("".join(json.dumps({"id": q.id, "question": q.question, "answers": q.answers, "hops": q.hops}) + "\n"
                                     for q in held_out))
        runs = {"one_process": ["--workers", "1"], "ray_1_agent": ["--ray", "local", "--workers", "1"],
                "ray_2_agents": ["--ray", "local", "--workers", "2"]}
        reference = None
        for name, extra in runs.items():
            out = work / f"{name}.jsonl"
            figures[name] = batch(questions, out, *extra)
            got = answers(out)
            reference = reference or got
            figures[name]["answers_equal_one_process"] = got == reference
            print(name, json.dumps(figures[name]), flush=True)
        out = work / "killed.jsonl"
        figures["ray_2_agents_one_killed"] = batch(questions, out, "--ray", "local", "--workers", "2", kill_after=len(held_out) // 10)
        got = answers(out)
        figures["ray_2_agents_one_killed"] |= {"answers_lost": len(set(reference) - set(got)),
                                               "answers_equal_one_process": got == reference}
        print("killed", json.dumps(figures["ray_2_agents_one_killed"]), flush=True)
    one, two = figures["ray_1_agent"]["questions_per_s"], figures["ray_2_agents"]["questions_per_s"]
    figures["throughput_ratio_2_to_1_agents"] = round(two / one, 2)
    per_agent = two / 2
    figures["projection_1M_questions"] = {
        "rate_per_agent_q_per_s": round(per_agent, 1),
        "assumes": "one agent per core, machines like this one (2 cores), the rate per agent measured here held "
                   "(the embedding planner computes on its own core; the graph fits each machine's memory)",
        **{f"{n}_machines_hours": round(1e6 / (per_agent * 2 * n) / 3600, 2) for n in (1, 4, 16, 64)}}
    print(json.dumps(figures, indent=1))
    args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
