"""Model-written forms are read, fitted and simplified in a worker process that a deadline can kill.

sympy and scipy hold the GIL, so a thread cannot be interrupted: a form that runs away (a blow-up the
parser's bounds do not foresee) would hold its request, and the service, for good. A worker is a Python
process of its own (`python -m tools.regress.worker`, started once and kept in a pool), given a function
and a list of jobs, which sends back each job's outcome as soon as it is done. A job still running past
its deadline gets the worker killed and is reported as such; the jobs after it go on in a fresh worker.
A worker whose parent is gone exits.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

_HEADER = struct.Struct("!Q")


class Killed:
    """A job whose worker was killed at its deadline (or died)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Killed({self.reason!r})"


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tools.regress.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)

    def send(self, message: Any) -> None:
        data = pickle.dumps(message)
        self.process.stdin.write(_HEADER.pack(len(data)) + data)
        self.process.stdin.flush()

    def receive(self, seconds: float) -> Any:
        """The next message, or Killed when none comes within `seconds` (the worker is then killed) or it died."""
        try:
            size = _HEADER.unpack(self._read(_HEADER.size, time.monotonic() + seconds))[0]
            return pickle.loads(self._read(size, time.monotonic() + seconds))
        except TimeoutError:
            self.kill()
            return Killed(f"took over {seconds:g} s and was stopped")
        except EOFError:
            self.kill()
            return Killed(f"its worker died (exit code {self.process.returncode})")

    def _read(self, size: int, deadline: float) -> bytes:
        data = b""
        out = self.process.stdout
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(out.fileno(), size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


_idle: list[_Worker] = []
_lock = threading.Lock()


def run_jobs(function: Callable[..., Any], jobs: Sequence[tuple], *, seconds: float) -> list[Any]:
    """`function(*job)` for every job, in order, in a worker process; a job that takes over `seconds` (or takes
    its worker down) is a `Killed` in the list. `function` must be importable by name (a module's function or
    a partial of one)."""
    outcomes: list[Any] = []
    while len(outcomes) < len(jobs):
        worker = _take()
        worker.send((function, list(jobs[len(outcomes):])))
        while len(outcomes) < len(jobs):
            outcome = worker.receive(seconds)
            outcomes.append(outcome)
            if isinstance(outcome, Killed):
                break
        else:
            _give(worker)
    return outcomes


def _take() -> _Worker:
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.alive:
                return worker
    return _Worker()


def _give(worker: _Worker) -> None:
    with _lock:
        _idle.append(worker)


def _serve() -> None:
    """The worker's loop: jobs in on stdin, each outcome out on stdout as soon as it is done."""
    parent = os.getppid()

    def exit_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # what the jobs print is not a message
    while header := source.read(_HEADER.size):
        function, jobs = pickle.loads(source.read(_HEADER.unpack(header)[0]))
        for job in jobs:
            try:
                outcome = function(*job)
            except Exception as e:  # noqa: BLE001 - a job that fails is its outcome; the worker goes on
                outcome = Killed(f"failed: {type(e).__name__}: {e}"[:300])
            data = pickle.dumps(outcome)
            try:
                sink.write(_HEADER.pack(len(data)) + data)
                sink.flush()
            except BrokenPipeError:
                os._exit(1)  # the parent is gone (a batch left on a second Ctrl-C): nobody is left to tell


if __name__ == "__main__":
    _serve()
