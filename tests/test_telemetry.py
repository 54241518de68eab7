"""Runs exported as OpenTelemetry spans, received by a real collector: Arize Phoenix (`make test` installs it in
.venv-phoenix), started once for this module. Each test sends to a project of its own and reads the spans back
through Phoenix's REST API."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agent.llm.server import free_port

ROOT = Path(__file__).resolve().parent.parent
PHOENIX = ROOT / ".venv-phoenix" / "bin" / "phoenix"
REASONER = str(Path(sys.executable).parent / "reasoner")
STEPS = {"route", "frame", "plan", "ground", "check", "answer"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    assert PHOENIX.is_file(), f"{PHOENIX} is missing: `make test` installs Arize Phoenix there"
    port, grpc = free_port(), free_port()
    work = tmp_path_factory.mktemp("phoenix")
    env = os.environ | {"PHOENIX_WORKING_DIR": str(work), "PHOENIX_PORT": str(port), "PHOENIX_GRPC_PORT": str(grpc),
                        "PHOENIX_HOST": "127.0.0.1"}
    log = (work / "phoenix.log").open("w")
    process = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            if httpx.get(f"{url}/v1/projects", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, (work / "phoenix.log").read_text()[-3000:]
        time.sleep(1)
    yield url
    process.terminate()
    process.wait(timeout=30)


def sent_to(phoenix: str, project: str) -> dict:
    """The environment of a command that exports its runs to `project` in Phoenix."""
    return os.environ | {"OTEL_EXPORTER_OTLP_ENDPOINT": phoenix, "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}"}


def spans(phoenix: str, project: str, at_least: int) -> list[dict]:
    """The project's spans, once at least `at_least` have arrived (an exporter sends in batches)."""
    found: list[dict] = []
    for _ in range(60):
        response = httpx.get(f"{phoenix}/v1/projects/{project}/spans", params={"limit": 1000}, timeout=10)
        found = response.json()["data"] if response.status_code == 200 else []
        if len(found) >= at_least:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{len(found)} spans arrived in {project}, not {at_least}")


def trees(found: list[dict]) -> dict[str, dict]:
    """Each run's root span, with `children` (by name) nested under every span."""
    by_id = {s["context"]["span_id"]: s | {"children": {}} for s in found}
    roots = {}
    for span in by_id.values():
        parent = by_id.get(span.get("parent_id"))
        if parent is None:
            roots[span["attributes"]["reasoner.trace_id"]] = span
        else:
            assert span["context"]["trace_id"] == parent["context"]["trace_id"]
            parent["children"].setdefault(span["name"], []).append(span)
    return roots


def test_a_run_is_a_trace_of_its_steps_and_tool_call(phoenix, tmp_path):
    run = subprocess.run([REASONER, "ask", "who directed [Inception]", "--planner", "embedding", "--json",
                          "--traces", str(tmp_path / "t.sqlite")], env=sent_to(phoenix, "ask"), capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    roots = trees(spans(phoenix, "ask", 8))
    assert len(roots) == 1
    root = next(iter(roots.values()))
    assert root["name"] == "invoke_agent reasoner" and root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert root["attributes"]["reasoner.status"] == "answered" and root["attributes"]["reasoner.tool"] == "kg"
    assert set(root["children"]) == STEPS
    (ground,) = root["children"]["ground"]
    (call,) = ground["children"]["execute_tool kg"]
    assert call["attributes"]["gen_ai.tool.name"] == "kg"
    assert ground["start_time"] <= call["start_time"] and call["end_time"] <= ground["end_time"]
    assert all(root["start_time"] <= s["start_time"] and s["end_time"] <= root["end_time"]
               for steps in root["children"].values() for s in steps)


def test_model_calls_carry_their_token_usage(phoenix, model_server, tmp_path):
    problem = json.dumps({"premises": ["Bob is big.", "If someone is big then they are strong."], "conclusion": "Bob is strong."})
    run = subprocess.run([REASONER, "ask", "decide it", "--tool", "logic", "--input", problem, "--planner", "embedding", "--llm-url", model_server.base_url,
                          "--traces", str(tmp_path / "t.sqlite")], env=sent_to(phoenix, "logic"),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    found = spans(phoenix, "logic", 8)
    (root,) = trees(found).values()
    calls = [s for plan in root["children"]["plan"] for name, spans_ in plan["children"].items() for s in spans_]
    assert calls, "a plan step of the logic tool calls the model"
    for call in calls:
        attributes = call["attributes"]
        assert call["name"] == f"{attributes['gen_ai.operation.name']} logic"
        assert attributes["gen_ai.request.model"] == "logic" and attributes["gen_ai.provider.name"] == "vllm"
        assert attributes["gen_ai.usage.input_tokens"] > 0 and attributes["gen_ai.usage.output_tokens"] > 0


def test_forked_batch_workers_export_every_run(phoenix, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("who directed [Inception]\tChristopher Nolan\nwhat films did [Christopher Nolan] direct\tInception\n"
                         "who wrote [Inception]\tChristopher Nolan\nwho starred in [Inception]\tLeonardo DiCaprio\n")
    run = subprocess.run([REASONER, "batch", "--questions", str(questions), "--out", str(tmp_path / "a.jsonl"),
                          "--planner", "embedding", "--workers", "2", "--traces", str(tmp_path / "t.sqlite")],
                         env=sent_to(phoenix, "batch"), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    roots = trees(spans(phoenix, "batch", 4 * 8))
    assert len(roots) == 4 and all(set(r["children"]) == STEPS for r in roots.values())


def test_ray_workers_export_every_run(phoenix, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("".join(f"who directed [{film}]\n" for film in ("Inception", "Memento", "The Prestige", "Interstellar")))
    command = subprocess.Popen([REASONER, "batch", "--questions", str(questions), "--out", str(tmp_path / "a.jsonl"),
                                "--planner", "embedding", "--ray", "local", "--workers", "2", "--traces", str(tmp_path / "t.sqlite")],
                               env=sent_to(phoenix, "ray"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, errors = command.communicate(timeout=900)
    assert command.returncode == 0, errors[-3000:]
    roots = trees(spans(phoenix, "ray", 4 * 8))
    assert len(roots) == 4 and all(set(r["children"]) == STEPS for r in roots.values())
    pids = {r["attributes"].get("process.pid") for r in roots.values()}
    assert None not in pids and command.pid not in pids, "the runs are answered, and exported, by the Ray workers"
