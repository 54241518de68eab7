"""Agent figures: `reasoner batch` over the held-out slice of MetaQA dev, end to end.

    python bench/agent.py [--limit N] [--concurrency 64] [--memory-run 10000]

Starts one model server with the shipped distilled planner, measures its raw ceiling (plain
completions of the same prompt length), then runs the real `reasoner batch` CLI against it over
every held-out question (`kg.questions.is_held_out`): accuracy per hop, questions/s, where the time
goes, and the agent process's memory sampled through the run. `--memory-run N` repeats the slice
to N questions for the flat-memory check. Writes bench/results/agent.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from openai import OpenAI  # noqa: E402
from watch import run_watched  # noqa: E402

from agent.llm.server import ModelServer  # noqa: E402
from agent.llm.weights import merged_model_dir  # noqa: E402
from kg.questions import is_held_out, masked, read_questions  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.kg.llm_planner import distilled_format, find_distilled  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"


def raw_ceiling(base_url: str, prompts: list[str], concurrency: int) -> float:
    """Requests/s for plain 3-token completions of these prompts: what the server alone can do."""
    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0)

    def one(prompt: str) -> None:
        client.completions.create(model="kg", prompt=prompt, max_tokens=3, temperature=0)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, prompts[:32]))  # warm-up
        started = time.perf_counter()
        list(pool.map(one, prompts))
    return len(prompts) / (time.perf_counter() - started)


def run_batch(questions: Path, base_url: str, concurrency: int, workdir: Path) -> dict:
    """Run the CLI, sampling its memory; return its summary line plus the memory trace."""
    out = workdir / f"answers-{questions.stem}.jsonl"
    arguments = ["batch", "--kg", str(METAQA / "kb.txt"), "--questions", str(questions), "--out", str(out),
                 "--llm-url", base_url, "--concurrency", str(concurrency), "--traces", str(workdir / "traces.sqlite")]
    samples, peak = [], 0.0

    def look(pid: int, seconds: float) -> None:
        nonlocal peak
        status = _status(pid)
        if status:
            peak = max(peak, status.get("VmHWM", 0.0))
            samples.append((round(seconds), status.get("VmRSS", 0.0)))

    summary, seconds = run_watched(arguments, look, every=2)
    summary["wall_seconds_including_start"] = round(seconds, 1)
    summary["agent_peak_rss_mb"] = round(peak, 1)
    summary["agent_rss_mb_over_time"] = samples[:: max(1, len(samples) // 20)]
    summary["trace_db_mb"] = round((workdir / "traces.sqlite").stat().st_size / 2**20, 1)
    return summary


def _status(pid: int) -> dict[str, float] | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return {k: int(v.split()[0]) / 1024 for k, v in (line.split(":", 1) for line in lines) if k in ("VmRSS", "VmHWM")}


def write_questions(path: Path, questions, repeat_to: int | None = None) -> None:
    rows = list(questions)
    if repeat_to:
        rows = [(f"{q.id}#{i // len(rows)}", q) for i, q in zip(range(repeat_to), rows * (repeat_to // len(rows) + 1))]
    else:
        rows = [(q.id, q) for q in rows]
    with path.open("w", encoding="utf-8") as f:
        for qid, q in rows:
            f.write(json.dumps({"id": qid, "question": q.question, "answers": q.answers, "hops": q.hops}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--memory-run", type=int, default=0, help="also run a batch of this many questions for memory")
    parser.add_argument("--name", default="agent")
    args = parser.parse_args()

    kg = KnowledgeGraph.load(METAQA / "kb.txt")
    planner_dir = find_distilled(kg)
    if planner_dir is None:
        raise SystemExit("no shipped distilled planner matches MetaQA's relations")
    held_out = [q for hops in (1, 2, 3) for q in read_questions(METAQA / f"qa_{hops}hop_dev.txt") if is_held_out(q.id)]
    held_out = held_out[: args.limit] if args.limit else held_out
    fmt = distilled_format(planner_dir)

    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "planner": str(planner_dir),
                     "questions": len(held_out), "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp, ModelServer(str(merged_model_dir(planner_dir)), served_name="kg") as server:
        workdir = Path(tmp)
        figures["server_startup_s"] = round(server.startup_seconds, 1)
        prompts = [fmt.prompt(masked(q.question)) for q in held_out[:2000]]
        figures["server_raw_requests_per_s"] = round(raw_ceiling(server.base_url, prompts, args.concurrency), 2)
        print(f"server raw ceiling: {figures['server_raw_requests_per_s']} requests/s", flush=True)

        slice_file = workdir / "held_out.jsonl"
        write_questions(slice_file, held_out)
        figures["batch"] = run_batch(slice_file, server.base_url, args.concurrency, workdir)
        print("batch:", json.dumps(figures["batch"]), flush=True)
        if args.memory_run:
            memory_file = workdir / "memory.jsonl"
            write_questions(memory_file, held_out, repeat_to=args.memory_run)
            run = run_batch(memory_file, server.base_url, args.concurrency, workdir)
            figures["memory_run"] = {k: run[k] for k in ("n", "questions_per_s", "agent_peak_rss_mb", "agent_rss_mb_over_time", "trace_db_mb")}
            print("memory run:", json.dumps(figures["memory_run"]), flush=True)
    out = HERE / "results" / f"{args.name}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
