"""One vLLM server for several fine-tuned jobs? The shipped KG planner served two ways on this CPU:
merged into the base weights (what the service runs), and as a LoRA adapter on the embedded base
model (how every tool's adapter could share one server), with the same prompts and constraint.

    python bench/lora.py [--requests 400] [--concurrency 64]

Prints and writes bench/results/lora.json: start-up, requests/s, agreement of the two servers'
plans, and the server's resident memory (process tree) for each way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.llm.client import LLMClient  # noqa: E402
from agent.llm.server import SERVED_NAME, ModelServer  # noqa: E402
from agent.llm.weights import merged_model_dir  # noqa: E402
from kg.demo import DEMO_KB, DEMO_QUESTIONS  # noqa: E402
from kg.questions import masked, read_questions  # noqa: E402
from kg.schema import Schema  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.base import Constraint  # noqa: E402
from tools.kg.llm_planner import PLANNERS, distilled_format, plan_alternatives, reading_steps  # noqa: E402

ADAPTER = PLANNERS / "metaqa"


def rss_mb(server: ModelServer) -> float:
    root = psutil.Process(server.process.pid)
    return round(sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20)


def measure(server: ModelServer, model: str, prompts: list[tuple[str, str]], concurrency: int) -> dict:
    client = LLMClient(server.base_url, model, max_retries=0, timeout=600)

    def one(item: tuple[str, str]) -> str:
        prompt, regex = item
        return client.sample(prompt=prompt, max_tokens=4, constraint=Constraint(kind="regex", value=regex)).raw[0]

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, prompts[:32]))  # warm-up
        started = time.perf_counter()
        outputs = list(pool.map(one, prompts))
    return {"requests_per_s": round(len(prompts) / (time.perf_counter() - started), 2), "outputs": outputs,
            "startup_s": round(server.startup_seconds, 1), "server_rss_mb": rss_mb(server)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "lora.json")
    args = parser.parse_args()
    kg = KnowledgeGraph.load(DEMO_KB)
    schema, fmt = Schema.derive(kg), distilled_format(ADAPTER)
    questions = [q for q in read_questions(DEMO_QUESTIONS) if q.marked_entity]
    prompts = [(fmt.prompt(masked(q.question)), fmt.regex(plan_alternatives(schema, reading_steps(kg, schema, q.marked_entity))))
               for q in questions]
    prompts = (prompts * (args.requests // len(prompts) + 1))[: args.requests]

    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "adapter": str(ADAPTER),
                     "requests": len(prompts), "concurrency": args.concurrency}
    with ModelServer(str(merged_model_dir(ADAPTER))) as server:
        figures["merged"] = measure(server, SERVED_NAME, prompts, args.concurrency)
    lora = ["--enable-lora", "--max-lora-rank", "16", "--lora-modules", f"kg-planner={ADAPTER}"]
    with ModelServer(None, extra_args=lora) as server:
        figures["lora"] = measure(server, "kg-planner", prompts, args.concurrency)
    same = sum(a == b for a, b in zip(figures["merged"].pop("outputs"), figures["lora"].pop("outputs")))
    figures["same_plan_share"] = round(same / len(prompts), 4)
    figures["lora_slowdown"] = round(figures["merged"]["requests_per_s"] / figures["lora"]["requests_per_s"], 2)
    print(json.dumps(figures, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
