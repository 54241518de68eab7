"""The plain HTTP calls the service tests make, and waiting for a service started as a process to answer."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def call(url: str, body: dict | None = None, raw: bytes | None = None, *, headers: dict | None = None,
         timeout: float = 120) -> tuple[int, dict]:
    """GET `url`, or POST `body` (JSON) or `raw` bytes to it: the status and the JSON answer, errors included."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} | (headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float) -> None:
    """Until `url`/healthz answers 200; fails with the end of `log` if the process exits first."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if call(f"{url}/healthz", timeout=30)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"the service did not come up in {seconds:g} s"
        time.sleep(1)
