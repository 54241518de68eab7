"""Untrusted Python, run where it can do no harm.

Every program a tool did not write itself runs here, never in the service's process:

- a separate process under bubblewrap (`bwrap --unshare-all`): no network, its own PID, IPC and
  UTS namespaces, a read-only view of /usr only (no /etc, no /home, not the project), a fresh
  tmpfs as the scratch dir, an empty environment;
- as an unprivileged uid (`nobody`) when the service runs as root, since rlimits do not bind root;
- rlimits: CPU time, address space, file size (which caps the output too) and processes;
- a seccomp filter that refuses (EPERM) sockets, new processes (fork, clone), ptrace, mounts,
  namespaces, keyrings, BPF and module loading;
- a wall-clock timeout in the parent, which kills the whole process group;
- inside (tools/sandbox_runner.py), imports limited to a few pure-computation modules, no `open`,
  and a CPU-time limit per call.

One call runs a batch: many programs, each on every input. When a program gets the call killed
(its CPU, memory, output or wall budget spent), the programs before it keep their results, it is
blamed with the reason, and the ones after it run in a fresh call.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

RUNNER = (Path(__file__).parent / "sandbox_runner.py").read_text()
PYTHON = "/usr/bin/python3"  # the system interpreter: readable by the unprivileged uid, with its stdlib under /usr
NOBODY = 65534
REFUSED = ["socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "fork", "vfork", "clone",
           "clone3", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
           "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
           "kexec_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
           "personality", "io_uring_setup"]


class SandboxUnavailable(RuntimeError):
    """bubblewrap or the system Python is missing: the tool that needs the sandbox cannot run."""


class Limits(BaseModel):
    seconds: float = 10.0  # wall clock for one sandbox call
    cpu_seconds: int = 8  # CPU time for one sandbox call
    call_seconds: float = 1.0  # CPU time for one program on one input
    memory_mb: int = 512  # address space
    output_kb: int = 1024  # the results written back (and any file written in the scratch dir)


class Result(BaseModel):
    """One program on one input: its value, or why there is none."""

    value: Any = None
    error: str | None = None


class ProgramRun(BaseModel):
    results: list[Result]
    killed: str | None = None  # why the sandbox killed the call while this program ran


class Batch(BaseModel):
    runs: list[ProgramRun]  # one per program, in order
    calls: int  # sandbox processes started
    seconds: float


def available() -> str | None:
    """Why the sandbox cannot run here, or None."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed: `make test` or `make run` installs it (Debian package bubblewrap)"
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} is missing: the sandbox runs programs under the system Python"
    return None


def run(programs: list[str], inputs: list[list[Any]], *, prelude: str = "", entry: str = "f",
        limits: Limits | None = None) -> Batch:
    """Run every program on every input (each input a list of arguments to `entry`)."""
    problem = available()
    if problem:
        raise SandboxUnavailable(problem)
    limits = limits or Limits()
    start, calls = time.monotonic(), 0
    runs: list[ProgramRun] = []
    while len(runs) < len(programs):
        done, killed = _call(programs[len(runs):], inputs, prelude, entry, limits)
        calls += 1
        runs += [ProgramRun(results=[Result(**r) for r in results]) for results in done]
        if killed and len(runs) < len(programs):
            runs.append(ProgramRun(results=[Result(error=f"Killed: {killed}")] * len(inputs), killed=killed))
    return Batch(runs=runs, calls=calls, seconds=round(time.monotonic() - start, 4))


def _call(programs: list[str], inputs: list, prelude: str, entry: str, limits: Limits) -> tuple[list[list[dict]], str | None]:
    """One sandbox process over `programs`: the results of those that finished, and why it was killed (or None)."""
    request = json.dumps({"prelude": prelude, "programs": programs, "inputs": inputs, "entry": entry,
                          "seconds": limits.call_seconds}).encode()
    drop = os.getuid() == 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, _seccomp() as bpf:
        command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                   "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                   "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                   "--chdir", "/tmp", "--clearenv", "--seccomp", str(bpf.fileno()),
                   PYTHON, "-I", "-S", "-c", RUNNER]
        identity = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if drop else {}
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, pass_fds=(bpf.fileno(),),
                                   start_new_session=True, preexec_fn=lambda: _limit(limits, drop), **identity)
        killed = None
        try:
            process.communicate(request, timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            killed = f"over {limits.seconds:g} s of wall-clock time"
        finally:
            _kill_group(process)
        out.seek(0)
        lines = out.read().decode(errors="replace").splitlines()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    done = []
    for line in lines:
        try:
            done.append(json.loads(line))
        except ValueError:  # a line cut short where the call was killed
            break
    if killed is None and len(done) < len(programs):
        killed = _reason(process.returncode, stderr, limits)
    return done, killed


def _reason(code: int | None, stderr: str, limits: Limits) -> str:
    signals = {-9: f"over {limits.cpu_seconds} s of CPU time or killed", -24: f"over {limits.cpu_seconds} s of CPU time",
               -25: f"wrote over {limits.output_kb} KB", -11: "crashed (segmentation fault)"}
    if "File too large" in stderr:
        return f"wrote over {limits.output_kb} KB"
    if "MemoryError" in stderr:
        return f"over {limits.memory_mb} MB of memory"
    if code in signals:
        return signals[code]
    last = stderr.strip().splitlines()[-1:] or [f"exit status {code}"]
    return f"the sandbox process failed: {last[0][:200]}"


def _limit(limits: Limits, drop: bool) -> None:
    """In the child before exec: rlimits (processes only where the uid is dropped to nobody)."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    memory = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.output_kb << 10
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if drop:
        resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.wait()


class _seccomp:
    """The filter as a BPF program in a temporary file, for `bwrap --seccomp FD`."""

    def __enter__(self):
        self.file = tempfile.TemporaryFile()
        self.file.write(_filter())
        self.file.seek(0)
        return self.file

    def __exit__(self, *exc):
        self.file.close()


@functools.cache
def _filter() -> bytes:
    import pyseccomp

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in REFUSED:
        try:
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):  # a syscall this architecture does not have
            pass
    with tempfile.TemporaryFile() as f:
        rules.export_bpf(f)
        f.seek(0)
        return f.read()
