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
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent.llm.weights import resolve_model
from agent.settings import settings

log = logging.getLogger(__name__)

SERVED_NAME = "base"  # the base model's name, when it serves as itself
MAX_LORA_RANK = 16  # the shipped adapters' rank; an adapter of a higher rank does not load
DEFAULT_STARTUP_TIMEOUT = 600.0


class ServerError(RuntimeError):
    """The model server could not be started or reached; the message says why and what to do."""


ServerState = Literal["not started", "starting", "up", "restarting", "down", "stopped"]


class ServerStatus(BaseModel):
    """One model server as /healthz reports it."""

    tool: str | None = None  # the tool that samples from it
    name: str  # the model name the tool asks for: its adapter's (the tool's name), or the model's
    shared_with: list[str] = []  # the other tools whose adapters the same server carries
    state: ServerState  # down or restarting: it was up and no longer answers
    url: str | None = None
    detail: str | None = None  # what is wrong, or where its log is


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
        aliases: Sequence[str] = (),
        lora: dict[str, Path] | None = None,
        watch: bool = False,
    ) -> None:
        self.model = resolve_model(model)
        self.served_name = served_name
        self.aliases = list(aliases)  # more names for the same model
        self.lora = lora or {}  # adapters served beside the model, by name
        if port is not None and port_in_use(port):
            raise ServerError(f"port {port} is already in use: choose another with --port, or omit it to pick a free one")
        self.port = port or free_port()
        self.log_path = log_path or settings().cache / "logs" / f"vllm-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self.stopped = False
        self.starting = False
        self.starts = 0  # how many times it came up
        self.problem: str | None = None  # why it is down, while it is
        self.watched = watch  # restarted in the background whenever it dies, once it has come up
        self._lock = threading.RLock()  # one start at a time, whoever asks (a request, the watcher)
        self._watcher: threading.Thread | None = None

    @property
    def label(self) -> str:
        """The names it serves, for messages."""
        return ", ".join([self.served_name, *self.aliases, *self.lora])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        # The `vllm` console script fails on package metadata here; the module entry point works.
        args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model,
                "--served-model-name", self.served_name, *self.aliases, "--host", "127.0.0.1", "--port", str(self.port),
                "--max-model-len", str(settings().max_model_len), "--disable-uvicorn-access-log"]
        if not _has_cuda():
            # float32: bfloat16 gives garbage text on this CPU build; eager mode starts in ~40 s instead of ~4 min.
            args += ["--dtype", "float32", "--enforce-eager"]
        if self.lora:
            args += ["--enable-lora", "--max-lora-rank", str(MAX_LORA_RANK), "--max-loras", str(len(self.lora)),
                     "--lora-modules", *(f"{name}={folder}" for name, folder in self.lora.items())]
        return args + self.extra_args

    def start(self) -> ModelServer:
        with self._lock:
            if self.stopped:
                raise ServerError(f"the model server for {self.label} was stopped (the service is shutting down)")
            self.starting = True
            try:
                self._start()
            except BaseException as e:
                self.problem = f"it did not start: {e}".split("\n")[0]
                raise
            finally:
                self.starting = False
            self.starts += 1
            self.problem = None
        if self.watched and self._watcher is None:
            self._watcher = threading.Thread(target=self._restart_when_dead, name=f"watch-{self.port}", daemon=True)
            self._watcher.start()
        return self

    def _start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "VLLM_DO_NOT_TRACK": "1"}
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings().kv_cache_gb))
        if not _has_cuda():
            # The one-rank worker inside the engine's process, not a third process of its own (vLLM's CPU build
            # pins that one to a single thread on core 0, the same core for every server): one server is up in
            # ~21 s instead of ~34 s, and `reasoner serve` plans 1.5x as many requests per second
            # (bench/results/serve.json against serve_worker_apart.json).
            env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = _spawn(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True, preexec_fn=_die_with_parent)
        if not self.starts:
            atexit.register(self.stop)
        try:
            self._wait_healthy(started)
        except BaseException:
            self._kill()
            raise
        self.startup_seconds = time.monotonic() - started

    @property
    def running(self) -> bool:
        """Up: started, and its process alive."""
        process = self.process
        return not self.starting and process is not None and process.poll() is None

    def ensure_running(self) -> None:
        """Start the server unless it is up: the first time, or again after it died or was killed (what is
        left of the old one goes first: its engine processes hold memory)."""
        with self._lock:
            if self.running:
                return
            if self.starts:
                code = self.process.poll() if self.process else None
                log.warning("the model server for %s is gone (exit code %s); starting it again on port %d (log: %s)",
                            self.label, code, self.port, self.log_path)
            self._kill()
            self.start()
            if self.starts > 1:
                log.warning("the model server for %s is back after %.0fs", self.label, self.startup_seconds)

    def _restart_when_dead(self, interval: float = 2.0) -> None:
        while not self.stopped:
            time.sleep(interval)
            process = self.process
            if self.stopped or self.starting or (process is not None and process.poll() is None):
                continue
            code = process.poll() if process else None
            if process is not None:
                self.problem = f"it exited (code {code}) at {time.strftime('%H:%M:%S')}; restarting (log: {self.log_path})"
            try:
                self.ensure_running()
            except ServerError as e:
                log.error("restarting the model server for %s failed, retrying: %s", self.label, e)

    def status(self) -> ServerStatus:
        """Its state as known here (no request is made)."""
        process = self.process
        if self.stopped:
            state = "stopped"
        elif self.starting:
            state = "restarting" if self.starts else "starting"
        elif process is not None and process.poll() is None:
            state = "up"
        elif self.starts or self.problem:
            state = "down"
        else:
            state = "not started"
        detail = f"{self.model}; log: {self.log_path}"
        if state == "down" and process is not None:
            again = "the watcher restarts it" if self.watched else "its next request starts it again"
            detail = f"it exited (code {process.poll()}); {again} (log: {self.log_path})"
        elif state in ("down", "restarting") and self.problem:
            detail = self.problem
        return ServerStatus(name=self.served_name, state=state, url=self.base_url, detail=detail)

    def _wait_healthy(self, started: float) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        process = self.process
        while True:
            code = process.poll()
            if self.stopped:
                raise ServerError(f"the model server for {self.label} was stopped while starting")
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
    with ModelServer(model, watch=watch, **kwargs) as server:
        yield server.base_url, server


def _has_cuda() -> bool:
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia").exists()


# PR_SET_PDEATHSIG signals a child when the *thread* that forked it ends, not its process: a server started
# from a short-lived thread (a background warm-up, a request's worker) was SIGTERMed seconds after it came up.
# Every server is forked from this one thread, which lives as long as the process.
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-server-spawner")


def _spawn(command: list[str], **options) -> subprocess.Popen:
    return _spawner.submit(subprocess.Popen, command, **options).result()


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it when the parent dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
