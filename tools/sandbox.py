"""Untrusted Python, run where it can do no harm.

The threat is a hostile model (a model may be served from anywhere), not a careless one: a program may
be written to read secrets, forge another program's verdict, starve the service or escape. So every
program a tool did not write itself runs here, never in the service's process, and:

- bubblewrap (`bwrap --unshare-all --disable-userns`) gives it no network, its own PID, IPC and UTS
  namespaces (and may make no more), and a read-only filesystem: /usr and a minimal /dev, no /proc, no /etc, no /home, not the
  project, no scratch space at all (so no file-size or file-count to cap); bwrap itself starts with an
  empty environment, so nothing of the service's environment exists inside;
- it runs as an unprivileged uid (`nobody`) when the service runs as root, since rlimits do not bind root;
- the supervisor (tools/sandbox_runner.py) is the sandbox's process 1 and undumpable: no program can
  signal it, read or write its memory, or reach its files. It forks a fresh child per program, so a
  program cannot change what another computes or be charged for another's CPU, memory or output;
- each child keeps one descriptor (its own result pipe), takes its own rlimits (CPU, address space, no
  files) and a second seccomp filter (no new processes, no signals to others, no exec, no changing
  limits) on top of the sandbox's (no sockets, ptrace, mounts, namespaces, keyrings, BPF, modules);
- the supervisor reads each program's results within its wall-clock budget and output cap, and writes
  one line per program on a pipe to this process (not a file a program could seek, truncate or grow);
  this side checks every line (order, count, shape, size, finite numbers) before it believes it;
- a batch has a wall-clock budget: past it the sandbox is killed and the programs not run say so;
- every kill is named by its cause (CPU, wall clock, output, memory, signal).

The import allow-list inside is a convenience for honest programs, not a boundary.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

RUNNER = (Path(__file__).parent / "sandbox_runner.py").read_text()
PYTHON = "/usr/bin/python3"  # the system interpreter: readable by the unprivileged uid, with its stdlib under /usr
NOBODY = 65534
# Refused to everything in the sandbox (EPERM).
REFUSED = ["socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "clone3", "ptrace",
           "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
           "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "kexec_load", "init_module",
           "finit_module", "delete_module", "reboot", "swapon", "swapoff", "personality", "io_uring_setup",
           "open_by_handle_at", "name_to_handle_at", "fanotify_init", "syslog", "acct", "quotactl"]
# Refused besides to a program (the supervisor forks; a program does none of these).
REFUSED_TO_PROGRAMS = ["fork", "vfork", "clone", "execve", "execveat", "kill", "tkill", "tgkill", "rt_sigqueueinfo",
                       "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "prlimit64", "setrlimit",
                       "setpriority", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "ioprio_set",
                       "prctl", "seccomp", "setsid", "setpgid", "memfd_create"]
MAX_LINE_OVERHEAD = 4096  # bytes a result line holds besides the program's own output


class SandboxUnavailable(RuntimeError):
    """bubblewrap or the system Python is missing: the tool that needs the sandbox cannot run."""


class Limits(BaseModel):
    seconds: float = 30.0  # wall clock for a whole batch; the programs not run by then say so
    call_seconds: float = 1.0  # CPU time for one program on one input
    memory_mb: int = 512  # address space, per program
    output_kb: int = 1024  # the results one program writes back

    def program(self, inputs: int) -> dict:
        """One program's budget on `inputs` inputs, as the supervisor enforces it."""
        cpu = math.ceil(self.call_seconds * (inputs + 1)) + 1  # every call, and defining the program
        return {"call_seconds": self.call_seconds, "program_cpu_seconds": cpu, "program_seconds": 2.0 * cpu,
                "memory_mb": self.memory_mb, "output_kb": self.output_kb}


class Result(BaseModel):
    """One program on one input: its value, or why there is none."""

    value: Any = None
    error: str | None = None


class ProgramRun(BaseModel):
    results: list[Result]
    killed: str | None = None  # why the sandbox killed this program


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
    """Run every program on every input (each input a list of arguments to `entry`), each in a fresh process."""
    problem = available()
    if problem:
        raise SandboxUnavailable(problem)
    limits = limits or Limits()
    start, calls = time.monotonic(), 0
    runs: list[ProgramRun] = []
    while len(runs) < len(programs):
        left = limits.seconds - (time.monotonic() - start)
        if left <= 0:
            spent = f"not run: the batch's {limits.seconds:g} s of wall-clock time were spent"
            runs += [_failed(spent, len(inputs))] * (len(programs) - len(runs))
            break
        done, killed = _call(programs[len(runs):], inputs, prelude, entry, limits, left)
        calls += 1
        runs += done
        if killed and len(runs) < len(programs):  # the sandbox itself died or ran out of time with this one running
            runs.append(_failed(killed, len(inputs)))
    return Batch(runs=runs, calls=calls, seconds=round(time.monotonic() - start, 4))


def _failed(reason: str, inputs: int) -> ProgramRun:
    return ProgramRun(results=[Result(error=f"Killed: {reason}")] * inputs, killed=reason)


def _call(programs: list[str], inputs: list, prelude: str, entry: str, limits: Limits,
          seconds: float) -> tuple[list[ProgramRun], str | None]:
    """One sandbox over `programs`: the runs of those that finished, and why the sandbox ended early (or None)."""
    request = json.dumps({"prelude": prelude, "programs": programs, "inputs": inputs, "entry": entry,
                          "limits": limits.program(len(inputs)), "filter": _filter(tuple(REFUSED_TO_PROGRAMS)).hex()},
                         allow_nan=False).encode()
    drop = os.getuid() == 0
    with _seccomp() as bpf:
        command = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--as-pid-1",
                   "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                   "--symlink", "usr/bin", "/bin", "--dev", "/dev", "--remount-ro", "/dev", "--remount-ro", "/",
                   "--chdir", "/", "--clearenv", "--seccomp", str(bpf.fileno()),
                   PYTHON, "-I", "-S", "-B", "-c", RUNNER]
        identity = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if drop else {}
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   pass_fds=(bpf.fileno(),), env={}, start_new_session=True,
                                   preexec_fn=lambda: _limit(limits, drop), **identity)
        killed = None
        try:
            out, err = process.communicate(request, timeout=seconds)
        except subprocess.TimeoutExpired:
            killed = f"over the batch's {limits.seconds:g} s of wall-clock time"
            _kill_group(process)
            out, err = process.communicate()
        finally:
            _kill_group(process)
    runs = []
    cap = (limits.output_kb << 10) + MAX_LINE_OVERHEAD
    for i, line in enumerate(out.splitlines()[:len(programs)]):
        run = _checked(line, i, len(inputs), cap)
        if run is None:  # cut short where the sandbox was killed, or not the supervisor's
            break
        runs.append(run)
    if killed is None and len(runs) < len(programs):
        stderr = err.decode(errors="replace")
        if not runs and stderr.startswith("bwrap:"):  # it never started: no program is to blame
            raise SandboxUnavailable(f"the sandbox does not start here: {stderr.strip()[:300]}")
        killed = _reason(process.returncode, stderr)
    return runs, killed


def _checked(line: bytes, index: int, inputs: int, cap: int) -> ProgramRun | None:
    """The supervisor's line for program `index`, believed only in the shape it writes."""
    if len(line) > cap:
        return None
    try:
        record = json.loads(line, parse_constant=_not_a_number)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.keys() != {"program", "results", "killed"} or record["program"] != index:
        return None
    if record["killed"] is not None:
        return _failed(str(record["killed"])[:300], inputs) if isinstance(record["killed"], str) else None
    results = record["results"]
    if not isinstance(results, list) or len(results) != inputs:
        return _failed("the program's results are not one per input", inputs)
    checked = []
    for result in results:
        if isinstance(result, dict) and result.keys() == {"value"}:
            checked.append(Result(value=result["value"]))
        elif isinstance(result, dict) and result.keys() == {"error"} and isinstance(result["error"], str):
            checked.append(Result(error=result["error"][:300]))
        else:
            return _failed("the program's results are not in the runner's shape", inputs)
    return ProgramRun(results=checked)


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _reason(code: int | None, stderr: str) -> str:
    """Why the sandbox itself ended before every program had a line; bwrap reports a signal as 128 + N."""
    if code is not None and code < 0:
        return f"the sandbox was killed by {_signal_name(-code)}"
    if code is not None and code > 128:
        return f"the sandbox was killed by {_signal_name(code - 128)}"
    last = stderr.strip().splitlines()[-1:] or [f"exit status {code}"]
    return f"the sandbox process failed: {last[0][:200]}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _limit(limits: Limits, drop: bool) -> None:
    """In the child before exec: the supervisor's rlimits (processes only where the uid is dropped to nobody)."""
    memory = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
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
    """The sandbox's filter as a BPF program in a temporary file, for `bwrap --seccomp FD`."""

    def __enter__(self):
        self.file = tempfile.TemporaryFile()
        self.file.write(_filter(tuple(REFUSED)))
        self.file.seek(0)
        return self.file

    def __exit__(self, *exc):
        self.file.close()


@functools.cache
def _filter(refused: tuple[str, ...]) -> bytes:
    """A BPF program refusing `refused` (EPERM) and allowing the rest."""
    import pyseccomp

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in refused:
        try:
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):  # a syscall this architecture does not have
            pass
    with tempfile.TemporaryFile() as f:
        rules.export_bpf(f)
        f.seek(0)
        return f.read()
