"""Model-written forms are read, fitted and simplified in a worker process that a deadline can kill.

sympy and scipy hold the GIL, so a thread cannot be interrupted: a form that runs away (a blow-up the
parser's bounds do not foresee) would hold its request, and the service, for good. A worker is forked
from a forkserver that has the fitting modules loaded (so a fresh one is cheap), is given a list of jobs,
and sends back each job's outcome as soon as it is done. A job still running past its deadline gets
the worker killed and is reported as such; the jobs after it go on in a fresh worker.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["numpy", "scipy.optimize", "sympy", "tools.regress.expr"])


class Killed:
    """A job whose worker was killed at its deadline (or died)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Killed({self.reason!r})"


def run_jobs(function: Callable[..., Any], jobs: Sequence[tuple], *, seconds: float) -> list[Any]:
    """`function(*job)` for every job, in order, in a worker process; a job that takes over `seconds` (or
    takes its worker down) is a `Killed` in the list."""
    outcomes: list[Any] = []
    while len(outcomes) < len(jobs):
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        worker = _CONTEXT.Process(target=_work, args=(sender, function, list(jobs[len(outcomes):])), daemon=True)
        worker.start()
        sender.close()
        try:
            while len(outcomes) < len(jobs):
                if not receiver.poll(seconds):
                    outcomes.append(Killed(f"took over {seconds:g} s and was stopped"))
                    break
                try:
                    outcomes.append(receiver.recv())
                except EOFError:
                    outcomes.append(Killed(f"its worker died (exit code {worker.exitcode})"))
                    break
        finally:
            worker.kill()
            worker.join()
            receiver.close()
    return outcomes


def _work(sender, function: Callable[..., Any], jobs: list[tuple]) -> None:
    for job in jobs:
        sender.send(function(*job))
    sender.close()
