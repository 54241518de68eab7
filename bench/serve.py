"""`reasoner serve` with every tool warm, for each way of laying out its model servers: memory, start-up,
and each tool's latency and throughput through the chat API.

    python bench/serve.py [--layouts kg,all,none] [--requests 16]

A layout names the tools given a model server of their own with their adapter merged in (`--merged`): "all"
is a server per tool (the layout before one server carried the adapters), "none" one server for everything,
"kg" the KG planner alone merged. For each layout the script starts `reasoner serve` as a user does and
measures:

- start-up: seconds until /healthz answers, and until every model server the first message of each tool started
  is up (a tool whose message the search answers asks no model, and its server is listed as `not_started`);
- memory with the four tools warm: resident (RSS) and proportional (PSS, shared pages split) MB summed over
  the service and every process under it (model servers, workers, the sandbox), and the machine's used memory;
- per tool, through `POST /v1/chat/completions`: the median latency of single messages, and messages per
  second with several in flight (distinct messages; KG questions from the demo set);
- the KG planner's model alone: plan requests per second with 64 in flight straight to its model server, with
  the planner's prompt and constraint (the figure the KG planner's 15 q/s floor is about).

Prints each layout's figures and writes bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from api_load import health  # noqa: E402

from agent.llm.client import LLMClient  # noqa: E402
from agent.llm.server import free_port  # noqa: E402
from kg.demo import DEMO_KB, DEMO_QUESTIONS  # noqa: E402
from kg.questions import masked, read_questions  # noqa: E402
from kg.schema import Schema  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.base import Constraint  # noqa: E402
from tools.kg.llm_planner import PLANNERS, distilled_format, plan_alternatives, reading_steps  # noqa: E402

REASONER = str(Path(sys.executable).parent / "reasoner")
LAYOUTS = {"all": "kg,logic,induce,regress", "kg": "kg", "none": ""}
TOOLS = ("kg", "logic", "induce", "regress")
NAMES = ["Anne", "Bob", "the cat", "the dog", "Erin", "the mouse", "Gary", "the lion"]
TRAITS = ["blue", "kind", "red", "young", "big", "round", "green", "cold"]


def messages(tool: str, n: int, seed: int = 0) -> list[str]:
    """`n` distinct chat messages the router sends to `tool`."""
    rng = random.Random(seed)
    if tool == "kg":
        questions = [q.question for q in read_questions(DEMO_QUESTIONS) if q.marked_entity]
        return (questions * (n // len(questions) + 1))[:n]
    out = []
    for i in range(n):
        if tool == "logic":
            who, (a, b, c) = rng.choice(NAMES), rng.sample(TRAITS, 3)
            out.append(f"{who.capitalize()} is {a}. If something is {a} then it is {b}. If something is {b} then it is "
                       f"{c}. Based on the above information, is the following statement true, false, or unknown? "
                       f"{who.capitalize()} is {c}.")
        elif tool == "induce":
            k, c = rng.randint(2, 9), rng.randint(0, 9)
            pairs = ", ".join(f"f({x})={k * x + c}" for x in (1, 2, 3, 4))
            out.append(f"{pairs}. What is f({5 + i})?")
        else:
            a, b = rng.randint(2, 9), rng.randint(1, 9)
            rows = "\n".join(f"{x} {a * x * x + b + rng.uniform(-0.05, 0.05):.2f}" for x in range(1, 9))
            out.append(f"x y\n{rows}\nFind a formula for y.")
    return out


def chat(url: str, message: str) -> tuple[float, str, str]:
    """Seconds, the tool that answered and its status."""
    body = json.dumps({"model": "reasoner", "messages": [{"role": "user", "content": message}]}).encode()
    request = urllib.request.Request(f"{url}/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read())["reasoner"]
    return time.perf_counter() - started, answer["tool"], answer["status"]


def memory(root: psutil.Process) -> dict:
    rss = pss = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rss, pss = rss + info.rss, pss + info.pss
    return {"rss_mb": round(rss / 2**20), "pss_mb": round(pss / 2**20),
            "machine_used_mb": round((psutil.virtual_memory().total - psutil.virtual_memory().available) / 2**20)}


def planner_rate(base_url: str, model: str, requests: int = 400, concurrency: int = 64) -> float:
    """Plan requests per second straight to the KG planner's model server (as bench/lora.py measures)."""
    kg = KnowledgeGraph.load(DEMO_KB)
    schema, fmt = Schema.derive(kg), distilled_format(PLANNERS / "metaqa")
    questions = [q for q in read_questions(DEMO_QUESTIONS) if q.marked_entity]
    prompts = [(fmt.prompt(masked(q.question)), fmt.regex(plan_alternatives(schema, reading_steps(kg, schema, q.marked_entity))))
               for q in questions]
    prompts = (prompts * (requests // len(prompts) + 1))[:requests]
    client = LLMClient(base_url, model, max_retries=0, timeout=600)

    def one(item: tuple[str, str]) -> None:
        client.sample(prompt=item[0], max_tokens=4, constraint=Constraint(kind="regex", value=item[1]))

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, prompts[:32]))  # warm-up
        started = time.perf_counter()
        list(pool.map(one, prompts))
    return round(requests / (time.perf_counter() - started), 2)


def measure(layout: str, requests: int, folder: Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / f"serve-{layout}.log"
    env = os.environ | {"REASONER_CACHE": os.environ.get("REASONER_CACHE", str(Path.home() / ".cache" / "reasoner"))}
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen([REASONER, "serve", "--port", str(port), "--merged", LAYOUTS[layout],
                                    "--traces", str(folder / f"traces-{layout}.sqlite")], stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    figures: dict = {"merged": LAYOUTS[layout] or "(none)"}
    try:
        while health(url)[0] != 200:
            if process.poll() is not None:
                raise SystemExit(f"reasoner serve exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        figures["healthy_s"] = round(time.monotonic() - started, 1)
        first = {}
        for tool in TOOLS:
            seconds, routed, status = chat(url, messages(tool, 1, seed=99)[0])
            assert routed == tool, (tool, routed, status)
            first[tool] = round(seconds, 2)
        # A tool whose message the search answered (induce, regress: it goes first) asked no model: its server
        # stays "not started" until a message needs it.
        while any(s["state"] not in ("up", "not started") for s in health(url)[1]["model_servers"]):
            time.sleep(0.5)
        figures["all_up_s"] = round(time.monotonic() - started, 1)
        figures["first_message_s"] = first
        servers = health(url)[1]["model_servers"]
        figures["servers"] = len({s["url"] for s in servers if s["state"] == "up"})
        figures["not_started"] = sorted(s["tool"] for s in servers if s["state"] == "not started")
        figures["memory_warm"] = memory(psutil.Process(process.pid))
        print(layout, json.dumps(figures), flush=True)
        figures["tools"] = {}
        for tool in TOOLS:
            texts = messages(tool, requests if tool != "kg" else 200, seed=1)
            latency = [chat(url, text)[0] for text in texts[:5]]
            in_flight = 32 if tool == "kg" else 4
            with ThreadPoolExecutor(in_flight) as pool:
                begun = time.perf_counter()
                done = list(pool.map(lambda text: chat(url, text), texts))
                rate = len(texts) / (time.perf_counter() - begun)
            figures["tools"][tool] = {"median_latency_s": round(statistics.median(latency), 3), "in_flight": in_flight,
                                      "messages": len(texts), "messages_per_s": round(rate, 2),
                                      "answered": sum(status == "answered" for _, _, status in done)}
            print(layout, tool, json.dumps(figures["tools"][tool]), flush=True)
        kg = next(s for s in servers if s["tool"] == "kg")
        figures["kg_planner_requests_per_s"] = planner_rate(kg["url"], kg["name"])
        figures["memory_after_load"] = memory(psutil.Process(process.pid))
        print(layout, "kg planner", figures["kg_planner_requests_per_s"], "req/s", flush=True)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", default="all,kg,none", help="comma-separated: all, kg, none")
    parser.add_argument("--requests", type=int, default=16, help="messages per tool for its throughput (KG: 200)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    args = parser.parse_args()
    report = json.loads(args.out.read_text()) if args.out.is_file() else {}
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GB, no GPU"
    report.setdefault("layouts", {})
    with tempfile.TemporaryDirectory() as folder:
        for layout in args.layouts.split(","):
            report["layouts"][layout] = measure(layout, args.requests, Path(folder))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
