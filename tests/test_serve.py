"""`reasoner serve` as a user runs it: one chat message of each tool, answered by the model servers the command
itself starts; a model server that dies comes back for its tool's next request, and /healthz names each one.

This module runs first (see conftest.py): the command starts two model servers, and the session's own two are not
up yet to share the memory."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import psutil
import pytest
from calls import call, wait_healthy

from agent.llm.server import free_port

pytestmark = pytest.mark.slow

REASONER = str(Path(sys.executable).parent / "reasoner")
LOGIC = ("The cat is blue. If something is blue then it is kind. Based on the above information, is the following "
         "statement true, false, or unknown? The cat is kind.")


def health(url: str) -> tuple[int, dict]:
    return call(f"{url}/healthz", timeout=30)


def servers(url: str) -> dict[str, dict]:
    return {s["tool"]: s for s in health(url)[1]["model_servers"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`reasoner serve` on a free port with a fresh trace file, stopped with Ctrl-C at the end."""
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    with (folder / "serve.log").open("w") as log:
        process = subprocess.Popen([REASONER, "serve", "--port", str(port), "--traces", str(folder / "traces.sqlite")],
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process, folder / "serve.log", 600)
    yield url
    ports = [s["url"].split(":")[2].split("/")[0] for s in servers(url).values() if s["url"]]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, (folder / "serve.log").read_text()[-3000:]
    assert not [p for p in ports if _listener(int(p))], "a model server outlived the service"


def ask(url: str, message: str) -> tuple[str, dict]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", timeout=300, max_retries=0)
    reply = client.chat.completions.create(model="reasoner", messages=[{"role": "user", "content": message}])
    return reply.choices[0].message.content, reply.model_extra["reasoner"]


def wait_up(url: str, tool: str) -> dict:
    """`tool`'s server once it is up; it must be starting until then (never "not started": it is warmed at start-up)."""
    deadline = time.monotonic() + 600  # the model server's own start-up limit
    while (state := servers(url)[tool])["state"] != "up":
        assert state["state"] == "starting" and time.monotonic() < deadline, state
        time.sleep(2)
    return state


def test_one_message_of_each_tool_is_answered_through_chat(served):
    # The translator is warmed at start-up in a thread of its own that then ends: its server must outlive it.
    wait_up(served, "logic")
    time.sleep(5)  # past the moment the warm-up thread's end used to stop it
    assert servers(served)["logic"]["state"] == "up"
    text, answer = ask(served, "who directed [Inception]")
    assert (answer["tool"], answer["status"], answer["answers"]) == ("kg", "answered", ["Christopher Nolan"])
    text, answer = ask(served, LOGIC)
    assert (answer["tool"], answer["status"], answer["answers"]) == ("logic", "answered", ["True"]), text
    # One server carries the logic, induce and regress adapters; the KG planner is merged into a server of its own.
    urls = {t: s["url"] for t, s in servers(served).items()}
    assert urls["logic"] == urls["induce"] == urls["regress"] != urls["kg"], urls
    assert servers(served)["induce"]["shared_with"] == ["logic", "regress"]
    text, answer = ask(served, "f(1)=2, f(2)=4, f(3)=6. What is f(4)?")
    assert (answer["tool"], answer["status"], answer["answers"]) == ("induce", "answered", ["8"]), text
    text, answer = ask(served, "x y\n1 2.1\n2 3.9\n3 6.2\n4 7.8\n5 10.1\nFind a formula for y.")
    assert (answer["tool"], answer["status"]) == ("regress", "answered") and text.startswith(answer["answers"][0])
    status, body = health(served)
    assert status == 200 and body["status"] == "ok"
    assert {s["tool"]: (s["name"], s["state"]) for s in body["model_servers"]} == {
        "kg": ("kg", "up"), "logic": ("logic", "up"), "induce": ("induce", "up"), "regress": ("regress", "up")}
    with urllib.request.urlopen(f"{served}/metrics", timeout=30) as response:
        metrics = response.read().decode()
    assert f'reasoner_model_server_up{{model="regress",server="{urls["regress"]}",tool="regress"}} 1.0' in metrics, metrics


def test_a_model_server_that_dies_comes_back_for_its_next_request(served):
    logic = wait_up(served, "logic")
    leader = _listener(int(logic["url"].split(":")[2].split("/")[0]))
    assert leader, logic
    os.killpg(os.getpgid(leader), signal.SIGKILL)  # the server and its engine processes, as a crash would
    deadline = time.monotonic() + 30
    while (status := health(served))[0] == 200:
        assert time.monotonic() < deadline, "/healthz never noticed the translator's server died"
        time.sleep(0.5)
    state = {s["tool"]: s for s in status[1]["model_servers"]}["logic"]
    assert status[1]["status"] == "degraded" and state["state"] in ("down", "restarting"), status
    text, answer = ask(served, LOGIC)  # waits for the server to come back, rather than failing
    assert (answer["tool"], answer["status"], answer["answers"]) == ("logic", "answered", ["True"]), text
    status, body = health(served)
    assert status == 200 and {s["tool"]: s["state"] for s in body["model_servers"]}["logic"] == "up"


def _listener(port: int) -> int | None:
    """The process listening on a loopback port, if any."""
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    return None
