"""Service figures: the chat API under load, then with its model server killed mid-run.

    python bench/api_load.py [--requests 200] [--concurrency 16] [--kill-after 60]

Starts the real `reasoner serve` (managed model server with the shipped distilled planner, the
bundled demo graph) on loopback and drives `POST /v1/chat/completions` with the official openai
client, cycling through the demo graph's questions (kg/demo/questions.txt, gold answers known).

1. Load: `--requests` chat requests at `--concurrency`; each must come back with the gold answers
   or as a clear 503; latency p50/p95, peak memory of the app and of the model server, and any
   ERROR or traceback in the service's log.
2. Outage: the same, but after `--kill-after` answers the model server's process group is killed
   (SIGKILL). Requests must be answered in degraded mode (the embedding planner stands in, and the
   answer says so) or fail fast with a clear error, the app must stay up, `/healthz` must say what is
   wrong, and after the service restarts its model server, requests must be answered by the LLM again.

Prints the figures and writes bench/results/api_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import openai  # noqa: E402

from agent.llm.server import free_port  # noqa: E402
from kg.demo import DEMO_QUESTIONS  # noqa: E402
from kg.questions import read_questions  # noqa: E402

REASONER = str(Path(sys.executable).parent / "reasoner")


class Service:
    """`reasoner serve` as a subprocess, with its log and its memory (and its model server's) sampled."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen([REASONER, "serve", "--port", str(self.port), "--traces", str(workdir / "traces.sqlite")],
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.peak = {"app_mb": 0.0, "model_server_mb": 0.0}
        self.sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def wait_healthy(self, timeout: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"reasoner serve exited:\n{self.log_path.read_text()[-3000:]}")
            if health(self.url)[0] == 200:
                return time.monotonic() - started
            time.sleep(0.5)
        raise RuntimeError(f"reasoner serve not healthy within {timeout}s")

    def model_server(self) -> psutil.Process | None:
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "vllm.entrypoints" in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                pass
        return None

    def _sample(self) -> None:
        while self.sampling:
            try:
                app = psutil.Process(self.process.pid).memory_info().rss
                server = self.model_server()
                tree = [server, *server.children(recursive=True)] if server else []
                served = sum(p.memory_info().rss for p in tree if p.is_running())
            except psutil.Error:
                time.sleep(0.2)
                continue
            self.peak["app_mb"] = max(self.peak["app_mb"], app / 2**20)
            self.peak["model_server_mb"] = max(self.peak["model_server_mb"], served / 2**20)
            time.sleep(0.2)

    def log_problems(self) -> list[str]:
        return [line for line in self.log_path.read_text(errors="replace").splitlines()
                if "ERROR" in line or "Traceback" in line]

    def stop(self) -> None:
        self.sampling = False
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError as e:
        return 0, {"error": str(e)}


def ask(client: openai.OpenAI, question: str, gold: set[str]) -> dict:
    """One chat request: outcome (correct | wrong | 503 | error), latency, and the error message."""
    started = time.perf_counter()
    try:
        reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": question}])
        answers = set(reply.model_extra["reasoner"]["answers"])
        outcome, message = ("correct" if answers == gold else "wrong"), ""
        degraded = reply.model_extra["reasoner"].get("degraded", False)
    except openai.APIStatusError as e:
        outcome, message = ("503" if e.status_code == 503 else f"http {e.status_code}"), str(e.body.get("message") if isinstance(e.body, dict) else e)
        degraded = False
    except openai.APIError as e:
        outcome, message, degraded = "error", str(e), False
    return {"outcome": outcome, "seconds": time.perf_counter() - started, "message": message, "question": question,
            "at": time.monotonic(), "degraded": degraded}


def load(url: str, questions: list, n: int, concurrency: int, on_result=None) -> list[dict]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=180)
    done = []

    def one(i: int) -> dict:
        q = questions[i % len(questions)]
        result = ask(client, q.question, set(q.answers))
        done.append(result)
        if on_result:
            on_result(len(done))
        return result

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(n)))


def summary(results: list[dict], wall: float) -> dict:
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    answered = [r["seconds"] for r in results if r["outcome"] in ("correct", "wrong")]
    failed = [r["seconds"] for r in results if r["outcome"] not in ("correct", "wrong")]
    pct = lambda xs, q: round(float(np.percentile(xs, q)), 3) if xs else None  # noqa: E731
    return {"requests": len(results), "outcomes": outcomes, "wall_s": round(wall, 2),
            "requests_per_s": round(len(results) / wall, 2),
            "answered_latency_s": {"p50": pct(answered, 50), "p95": pct(answered, 95), "max": pct(answered, 100)},
            "failed_latency_s": {"p50": pct(failed, 50), "p95": pct(failed, 95), "max": pct(failed, 100)},
            "wrong": sorted({r["question"] for r in results if r["outcome"] == "wrong"}),
            "error_messages": sorted({r["message"] for r in results if r["message"]})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--kill-after", type=int, default=60, help="answers before the model server is killed")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "api_load.json")
    args = parser.parse_args()
    questions = read_questions(DEMO_QUESTIONS)

    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Path(tmp))
        try:
            startup = service.wait_healthy()
            print(f"reasoner serve healthy after {startup:.1f}s at {service.url}")
            load(service.url, questions, 32, args.concurrency)  # warm-up, not counted

            started = time.perf_counter()
            results = load(service.url, questions, args.requests, args.concurrency)
            steady = summary(results, time.perf_counter() - started) | {"peak_memory_mb": dict(service.peak),
                                                                        "log_problems": service.log_problems()}
            print(f"load: {steady['outcomes']}, p50 {steady['answered_latency_s']['p50']}s, p95 "
                  f"{steady['answered_latency_s']['p95']}s, {steady['requests_per_s']} req/s, peak memory {steady['peak_memory_mb']}")

            outage = run_outage(service, questions, args)
            print(f"outage: {json.dumps(outage, indent=1)}")
        finally:
            service.stop()

    result = {"machine": f"{platform.node()} {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
              "python": platform.python_version(), "concurrency": args.concurrency, "startup_s": round(startup, 1),
              "load": steady, "outage": outage}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


def run_outage(service: Service, questions: list, args) -> dict:
    """Kill the model server after `kill_after` answers; watch /healthz; check failures and recovery."""
    watch: list[tuple[float, int, dict]] = []
    killed: dict = {}
    stop = threading.Event()

    def poll_health() -> None:
        while not stop.is_set():
            status, body = health(service.url)
            watch.append((time.monotonic(), status, body))
            time.sleep(0.5)

    def kill_once(done: int) -> None:
        if done >= args.kill_after and not killed:
            killed["at"] = time.monotonic()
            server = service.model_server()
            killed["pid"] = server.pid if server else None
            if server:
                os.killpg(os.getpgid(server.pid), signal.SIGKILL)

    problems_before = len(service.log_problems())
    threading.Thread(target=poll_health, daemon=True).start()
    started = time.perf_counter()
    results = load(service.url, questions, args.requests, args.concurrency, on_result=kill_once)
    during = summary(results, time.perf_counter() - started)
    after_kill = [r for r in results if r["at"] > killed.get("at", float("inf")) + 0.5]
    app_alive = service.process.poll() is None

    # Recovery: the service restarts its model server; wait for /healthz, then ask again.
    deadline = time.monotonic() + 240
    while health(service.url)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    recovered_at = time.monotonic()
    stop.set()
    again = load(service.url, questions, 64, args.concurrency)
    degraded = [body for _, status, body in watch if status == 503]
    return {
        "killed_after_answers": args.kill_after, "model_server_pid_killed": killed.get("pid"),
        "requests": during, "app_stayed_up": app_alive,
        "failed_after_kill": sum(r["outcome"] not in ("correct", "wrong") for r in after_kill),
        "answered_after_kill": sum(r["outcome"] in ("correct", "wrong") for r in after_kill),
        "degraded_after_kill": sum(r["degraded"] for r in after_kill),
        "degraded_after_recovery": sum(r["degraded"] for r in again),
        "healthz_while_down": list(dict.fromkeys(body["model_server"] for body in degraded)),  # each distinct reason, in order
        "seconds_to_recover": round(recovered_at - killed["at"], 1) if killed else None,
        "after_recovery": summary(again, 1.0) | {"wall_s": None, "requests_per_s": None},
        "log_problems_during_outage": service.log_problems()[problems_before:],
    }


if __name__ == "__main__":
    main()
