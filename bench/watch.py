"""Run a `reasoner` command as a user does and watch it while it runs (shared by the bench scripts)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REASONER = str(Path(sys.executable).parent / "reasoner")


def run_watched(arguments: list[str], look: Callable[[int, float], None], every: float, env: dict | None = None) -> tuple[dict, float]:
    """`reasoner ARGUMENTS`, with `look(pid, seconds since start)` every `every` seconds while it runs; its summary
    (the last line it prints, JSON) and its wall seconds."""
    started = time.perf_counter()
    process = subprocess.Popen([REASONER, *arguments], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    while process.poll() is None:
        look(process.pid, time.perf_counter() - started)
        time.sleep(every)
    output = process.stdout.read()
    if process.returncode:
        raise RuntimeError(f"reasoner {arguments[0]} failed ({process.returncode}): {output[-2000:]}")
    return json.loads(output.strip().splitlines()[-1]), time.perf_counter() - started
