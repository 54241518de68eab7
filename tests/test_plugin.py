"""A tool from outside the project (tests/plugin: Roman numerals), installed with pip from its own folder and
registered through the `reasoner.tools` entry point, with no file of the project edited: it is routed, run,
traced, batched, listed by the API and shown in the trace viewer."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from calls import call, wait_healthy
from playwright.sync_api import expect

from agent.llm.server import free_port
from agent.traces import TraceStore

REASONER = str(Path(sys.executable).parent / "reasoner")
PLUGIN = Path(__file__).parent / "plugin"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The environment of a process that sees the plugin: installed by pip into a folder on its PYTHONPATH."""
    site = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("plugin")
    subprocess.run(["cp", "-r", f"{PLUGIN}/.", str(build)], check=True)  # pip builds in place: keep tests/ clean
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(site), str(build)], check=True, capture_output=True)
    return os.environ | {"PYTHONPATH": str(site)}


def reasoner(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([REASONER, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_an_installed_tool_is_routed_run_and_traced(env, tmp_path):
    traces = tmp_path / "t.sqlite"
    asked = reasoner(env, "ask", "What is MCMXCIV in Roman numerals?", "--planner", "embedding", "--json",
                     "--traces", str(traces))
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert (answer["tool"], answer["status"], answer["answers"]) == ("roman", "answered", ["1994"])
    assert answer["route"]["reason"] == "the message asks about a Roman numeral"
    assert answer["grounding"] == {"kind": "roman", "numeral": "MCMXCIV", "value": 1994, "written_back": "MCMXCIV",
                                   "answers": ["1994"]}
    run = TraceStore(traces).run(answer["trace_id"])
    assert (run.tool, run.status, run.answers) == ("roman", "answered", ["1994"])
    assert [s.node for s in run.steps] == ["route", "frame", "plan", "ground", "check", "answer"]
    # Without the plugin the same message is no tool's.
    alone = reasoner(os.environ | {"PYTHONPATH": ""}, "ask", "What is MCMXCIV in Roman numerals?", "--planner", "embedding",
                     "--json", "--traces", str(traces))
    assert json.loads(alone.stdout)["tool"] != "roman"


def test_an_installed_tool_runs_a_batch_file(env, tmp_path):
    tasks, out = tmp_path / "tasks.jsonl", tmp_path / "out.jsonl"
    tasks.write_text("\n".join(json.dumps(t) for t in [
        {"id": "a", "question": "XIV in Roman numerals", "answers": ["14"]},
        {"id": "b", "question": "read it", "input": {"numeral": "IIII"}, "answers": ["4"]},  # not how 4 is written
        {"id": "c", "question": "the Roman numeral MMXXVI", "answers": ["2026"]}]) + "\n")
    run = reasoner(env, "run", "roman", "--tasks", str(tasks), "--out", str(out), "--traces", str(tmp_path / "t.sqlite"))
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.splitlines()[-1])
    assert (summary["n"], summary["accuracy"], summary["status"]) == (3, 0.6667, {"answered": 2, "undecided": 1})
    lines = {line["id"]: line for line in map(json.loads, out.read_text().splitlines())}
    assert lines["b"]["status"] == "undecided" and "4 is written IV" in lines["b"]["message"]


def test_an_installed_tool_is_served_and_shown_in_the_viewer(env, model_server, page, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # the session's model server carries every adapter: this service starts none
        process = subprocess.Popen([REASONER, "serve", "--port", str(port), "--planner", "embedding", "--llm-url",
                                    model_server.base_url, "--traces", str(tmp_path / "t.sqlite")],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, process, log, 120)
        tools = call(f"{url}/api/tools")[1]
        assert "roman" in [t["name"] for t in tools["tools"]] and "roman" in tools["served"]
        page.goto(url + "/")
        page.fill("#question", "MCMXCIV in Roman numerals")
        page.click("#ask button")
        expect(page.locator("#run-status")).to_have_text("answered", timeout=60_000)
        expect(page.locator("#answer")).to_contain_text("1994")
        card = page.locator("#evidence[data-kind=roman]")  # the plugin's own card (reasoner_roman/card.js)
        expect(card.locator("#roman th")).to_have_text(list("MCMXCIV"))
        expect(card).to_contain_text("1000 - 100 + 1000 - 10 + 100 - 1 + 5 = 1994, written back as MCMXCIV")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
