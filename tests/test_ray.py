"""`reasoner batch --ray` and `reasoner run TOOL --ray`: the questions answered by a pool of agents on a local Ray
cluster (started by the command, as a user without a cluster gets it), with the same lines as one process, and
no answer lost when a worker is killed mid-job."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from kg.demo import DEMO_KB

REASONER = str(Path(sys.executable).parent / "reasoner")
QUESTIONS = Path(DEMO_KB).parent / "questions.txt"

pytestmark = pytest.mark.slow


def batch(out: Path, *extra: str) -> dict:
    run = subprocess.run([REASONER, "batch", "--questions", str(QUESTIONS), "--out", str(out), "--planner", "embedding",
                          "--traces", str(out.with_suffix(".sqlite")), *extra], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def answers(out: Path) -> dict[str, tuple]:
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == len({line["id"] for line in lines}), "an id answered twice"
    return {line["id"]: (line["status"], tuple(line["answers"]), line.get("plan")) for line in lines}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> dict[str, tuple]:
    out = tmp_path_factory.mktemp("one") / "answers.jsonl"
    batch(out, "--workers", "1")
    return answers(out)


def test_a_ray_pool_answers_as_one_process_does(one_process, tmp_path):
    out = tmp_path / "answers.jsonl"
    summary = batch(out, "--ray", "local", "--workers", "2")
    assert summary["n"] == len(one_process) == 34
    assert answers(out) == one_process


def test_a_worker_killed_mid_job_costs_no_answer(one_process, tmp_path):
    out = tmp_path / "answers.jsonl"
    killed = []

    def kill_a_worker() -> None:  # once some answers are written, one agent's process is killed
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not killed:
            workers = [p for p in psutil.process_iter(["cmdline"]) if "MapWorker" in " ".join(p.info["cmdline"] or [])]
            if workers and out.is_file() and out.read_text().count("\n") >= 2:
                os.kill(workers[0].pid, signal.SIGKILL)
                killed.append(workers[0].pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    summary = batch(out, "--ray", "local", "--workers", "2")
    killer.join()
    assert killed, "no Ray worker was seen to kill"
    assert summary["n"] == 34 and answers(out) == one_process


def test_run_tool_on_ray_resumes_like_one_process(tmp_path):
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([{"name": f"t{k}", "train": [{"inputs": [str(k), "ab"], "output": f"{k}ab"},
                                                              {"inputs": [str(k + 1), "cd"], "output": f"{k + 1}cd"}],
                                  "test": [{"inputs": [str(k + 2), "ef"], "output": f"{k + 2}ef"}]} for k in range(6)]))
    out = tmp_path / "answers.jsonl"
    common = [REASONER, "run", "induce", "--tasks", str(tasks), "--out", str(out), "--no-llm", "--traces", str(tmp_path / "t.sqlite")]
    first = subprocess.run([*common, "--limit", "2"], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    rest = subprocess.run([*common, "--resume", "--ray", "local"], capture_output=True, text=True, timeout=900)
    assert rest.returncode == 0, rest.stderr[-3000:]
    summary = json.loads(rest.stdout.splitlines()[-1])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["answered_now"] == 4 and summary["n"] == 6 and len(lines) == 6
    assert all(line["status"] == "answered" for line in lines)


def test_several_model_servers_are_shared_out_over_the_agents(distilled_server, tmp_path):
    port = distilled_server.base_url.split(":")[-1].split("/")[0]
    urls = f"http://127.0.0.1:{port}/v1,http://localhost:{port}/v1"  # two names of one server: two replicas to the agents
    refused = subprocess.run([REASONER, "batch", "--questions", str(QUESTIONS), "--out", str(tmp_path / "x.jsonl"), "--llm-url", urls],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--ray" in refused.stderr
    here, there = tmp_path / "here.jsonl", tmp_path / "there.jsonl"
    batch(here, "--planner", "auto", "--llm-url", distilled_server.base_url)
    summary = batch(there, "--planner", "auto", "--llm-url", urls, "--ray", "local", "--workers", "2")
    assert summary["n"] == 34 and answers(there) == answers(here)
