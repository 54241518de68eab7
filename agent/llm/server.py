"""The one way to get a model server: start vLLM as a managed subprocess, or reach a running one.

The managed server listens on a free loopback port, logs to a file, is waited for with a clear
timeout, and is stopped on exit (context manager, atexit, and the parent-death signal, so even a
killed parent does not leave it running).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from agent.llm.weights import resolve_model
from agent.settings import settings

log = logging.getLogger(__name__)

SERVED_NAME = "planner"
DEFAULT_STARTUP_TIMEOUT = 600.0


class ServerError(RuntimeError):
    """The model server could not be started or reached; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class ModelServer:
    """A vLLM OpenAI-compatible server for one model, owned by this process."""

    def __init__(
        self,
        model: str | None = None,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        extra_args: list[str] | None = None,
        served_name: str = SERVED_NAME,
    ) -> None:
        self.model = resolve_model(model)
        self.served_name = served_name
        if port is not None and port_in_use(port):
            raise ServerError(f"port {port} is already in use: choose another with --port, or omit it to pick a free one")
        self.port = port or free_port()
        self.log_path = log_path or settings().cache / "logs" / f"vllm-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self.stopped = False
        self.problem: str | None = None  # set while a watched server is down and being restarted

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        # The `vllm` console script fails on package metadata here; the module entry point works.
        args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model,
                "--served-model-name", self.served_name, "--host", "127.0.0.1", "--port", str(self.port),
                "--max-model-len", str(settings().max_model_len), "--disable-uvicorn-access-log"]
        if not _has_cuda():
            # float32: bfloat16 gives garbage text on this CPU build; eager mode starts in ~40 s instead of ~4 min.
            args += ["--dtype", "float32", "--enforce-eager"]
        return args + self.extra_args

    def start(self) -> ModelServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "VLLM_DO_NOT_TRACK": "1"}
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings().kv_cache_gb))
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        atexit.register(self.stop)
        try:
            self._wait_healthy(started)
        except BaseException:
            self._kill()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def watch(self, interval: float = 2.0) -> None:
        """Restart the server on the same port whenever it dies, until `stop`; each death is logged."""

        def restart_when_dead() -> None:
            while not self.stopped:
                time.sleep(interval)
                process = self.process
                if self.stopped or (process is not None and process.poll() is None):
                    continue
                code = process.poll() if process else None
                log.warning("the model server exited (code %s); restarting it on port %d (log: %s)", code, self.port, self.log_path)
                self.problem = (f"the model server exited (code {code}) at {time.strftime('%H:%M:%S')} and is restarting "
                                f"(about 30 s; log: {self.log_path})")
                try:
                    self._kill()  # what is left of the old one (its engine processes hold memory)
                    self.start()
                    self.problem = None
                    log.warning("the model server is back after %.0fs", self.startup_seconds)
                except ServerError as e:
                    self.problem = f"restarting the model server failed, retrying: {e}"
                    log.error("%s", self.problem)

        threading.Thread(target=restart_when_dead, name="model-server-watch", daemon=True).start()

    def _wait_healthy(self, started: float) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerError(f"the model server exited with code {code} while starting{self._diagnosis()}")
            if time.monotonic() - started > self.startup_timeout:
                raise ServerError(
                    f"the model server did not become healthy within {self.startup_timeout:.0f}s{self._diagnosis()}"
                )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.5)

    def _diagnosis(self) -> str:
        tail = self.log_tail()
        hint = ""
        lowered = tail.lower()
        if "out of memory" in lowered or "cannot allocate memory" in lowered or "kv cache" in lowered and "memory" in lowered:
            hint = " It ran out of memory: lower VLLM_CPU_KVCACHE_SPACE (GB) or free memory."
        elif "address already in use" in lowered:
            hint = f" Port {self.port} is taken."
        elif "no such file" in lowered or "not found" in lowered or "does not appear to have" in lowered:
            hint = f" Check the model: {self.model}."
        return f".{hint} Log: {self.log_path}\n--- last lines ---\n{tail}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self.stopped = True
        self._kill()

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is not None:  # the leader is gone; its engine processes may not be
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_reachable(base_url: str, timeout: float = 10.0) -> None:
    """Raise ServerError unless an OpenAI-compatible server answers at `base_url`."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as response:
            if response.status == 200:
                return
            raise ServerError(f"the model server at {base_url} answered {response.status} to GET /models")
    except urllib.error.HTTPError as e:
        raise ServerError(f"the model server at {base_url} answered {e.code} to GET /models") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ServerError(f"no model server answers at {base_url} ({reason}); is it running and is the URL right?") from None


@contextlib.contextmanager
def model_server(llm_url: str | None = None, model: str | None = None, *, watch: bool = False,
                 **kwargs) -> Iterator[tuple[str, ModelServer | None]]:
    """The base URL of a model server and the server if managed: `llm_url` if given (checked), else a
    managed one for the context's lifetime, restarted whenever it dies if `watch`."""
    if llm_url:
        check_reachable(llm_url)
        yield llm_url, None
        return
    with ModelServer(model, **kwargs) as server:
        if watch:
            server.watch()
        yield server.base_url, server


def _has_cuda() -> bool:
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia").exists()


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it when the parent dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
