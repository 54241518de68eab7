"""Starting, reaching and stopping the model server, and the errors a user sees when that fails."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.llm.server import ModelServer, ServerError, check_reachable

REASONER = str(Path(sys.executable).parent / "reasoner")


def test_taken_port_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ServerError, match=f"port {port} is already in use"):
            ModelServer(port=port)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        ModelServer(str(tmp_path))


def test_unreachable_remote_url_fails_fast():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    started = time.monotonic()
    with pytest.raises(ServerError, match="no model server answers at"):
        check_reachable(f"http://127.0.0.1:{port}/v1")
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_server_that_dies_while_starting_reports_its_log(tmp_path):
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ServerError, match="exited with code") as caught:
        ModelServer(str(bad), log_path=tmp_path / "vllm.log", startup_timeout=300).start()
    assert "Log: " in str(caught.value)


@pytest.mark.slow
def test_cli_with_a_remote_url_starts_nothing(distilled_server):
    run = subprocess.run([REASONER, "plan", "who directed [Inception]", "--llm-url", distilled_server.base_url],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "topic: Inception" in run.stdout and "raw output" in run.stdout


def _vllm_children(parent: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"vllm.entrypoints.openai.api_server" in cmdline:
            found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


@pytest.mark.slow
def test_ctrl_c_stops_the_managed_server():
    cli = subprocess.Popen([REASONER, "plan", "who directed [Inception]"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        time.sleep(0.5)
        children = _vllm_children(cli.pid)
    assert children, "the CLI never started a model server"
    time.sleep(3)
    cli.send_signal(signal.SIGINT)
    cli.wait(timeout=180)  # the model server stops with it; on a loaded machine its engine takes a while
    time.sleep(1)
    assert not any(_alive(pid) for pid in children), "the model server outlived Ctrl-C"


def test_a_server_started_from_a_thread_that_ends_outlives_it():
    """The parent-death signal fires when the forking *thread* ends: servers are forked from one thread that lives
    as long as the process, so one started by a warm-up thread or a request's worker is not stopped with it."""
    import threading

    from agent.llm.server import _die_with_parent, _spawn

    started = []
    thread = threading.Thread(target=lambda: started.append(_spawn(["sleep", "30"], preexec_fn=_die_with_parent)))
    thread.start()
    thread.join()
    time.sleep(0.5)
    try:
        assert started[0].poll() is None, f"stopped with its thread (exit {started[0].poll()})"
    finally:
        started[0].kill()
        started[0].wait()
