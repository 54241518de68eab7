"""Runs inside the sandbox (tools/sandbox.py) as its process 1, under the system Python with `-I -S`: stdlib only.

It is the supervisor: trusted code that never runs a program itself. It reads one JSON request on stdin
(`{"prelude", "programs", "inputs", "entry", "limits", "filter"}`), makes itself undumpable (so no other
process may read or write its memory or open its files through /proc), and forks one child per program.

A child is a fresh copy of the supervisor taken before any program ran, so one program cannot change
what another computes (patched modules die with it) or be charged for another's CPU, memory or output.
Before it runs the program it keeps one file descriptor (the write end of its own pipe), points 0-2 at
/dev/null, takes its own rlimits (CPU, address space, no files) and installs a second seccomp filter
(`filter`: no new processes, no signals to others, no exec, no changing limits). It runs the prelude
and the program, calls `entry` on every input with a CPU-time limit per call, and writes its results
(one `{"value"}` or `{"error"}` per input) to its pipe.

The supervisor reads at most `output_kb` from the pipe within the program's wall-clock budget, reaps
the child, names any kill by its cause, and writes one line per program, `{"program": i, "results":
[...] | null, "killed": reason | null}`, on its stdout: the channel only it can write. The host checks
every line before it believes it.
"""

import builtins
import ctypes
import io
import json
import math
import os
import resource
import select
import signal
import sys
import time

ALLOWED = {"math", "re", "itertools", "collections", "functools", "operator", "string", "copy", "heapq", "bisect",
           "statistics", "fractions", "decimal", "typing", "dataclasses", "datetime", "random", "numbers"}
PR_SET_DUMPABLE, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 4, 22, 2


class Timeout(BaseException):
    """One call ran out of its CPU time."""


# ---- the child: one program, sealed in ---------------------------------------------------------------


def _alarm(signum, frame):
    raise Timeout


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    # Not the boundary (the process is): it keeps honest programs to pure computation.
    if level or name.split(".")[0] not in ALLOWED:
        raise ImportError(f"import of {name!r} is not allowed here (allowed: {', '.join(sorted(ALLOWED))})")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _safe_builtins():
    allowed = dict(vars(builtins))
    for name in ("open", "input", "breakpoint", "exit", "quit", "help", "compile", "memoryview"):
        allowed.pop(name, None)
    allowed["__import__"] = _import
    return allowed


def _plain(value, depth=0):
    """A JSON-able copy: tuples become lists; anything else is described by its type."""
    if depth > 20:
        raise ValueError("the output nests too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"the output {value} is not a finite number")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    raise TypeError(f"the output is a {type(value).__name__}, not a value (number, string, list)")


def _error(e):
    return {"error": f"{type(e).__name__}: {e}"[:300]}


class Filter:
    """The child's seccomp filter, made ready once in the supervisor (each child only installs it)."""

    def __init__(self, bpf):
        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self.program = ctypes.create_string_buffer(bpf, len(bpf))
        self.fprog = SockFprog(len(bpf) // 8, ctypes.addressof(self.program))
        self.prctl = ctypes.CDLL(None, use_errno=True).prctl

    def install(self):
        return self.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self.fprog), 0, 0) == 0


def _seal(channel, limits, seccomp):
    """Keep `channel` as fd 3 and nothing else, take this program's limits, install the child's filter."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.dup2(channel, 3)
    os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0])  # no /proc to list them: each is closed
    cpu = limits["program_cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits["memory_mb"] << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not seccomp.install():
        os._exit(70)  # no filter, no program


def _run(source, prelude, entry, inputs, seconds):
    space = {"__builtins__": _safe_builtins(), "__name__": "program"}
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        exec(prelude, space)
        exec(compile(source, "<program>", "exec"), space)
        signal.setitimer(signal.ITIMER_PROF, 0)
    except Timeout:
        return [{"error": f"Timeout: defining the program took over {seconds:g} s of CPU"}] * len(inputs)
    except BaseException as e:  # a program may raise anything, SystemExit included
        signal.setitimer(signal.ITIMER_PROF, 0)
        return [_error(e)] * len(inputs)
    function = space.get(entry)
    if not callable(function):
        return [{"error": f"NameError: the program defines no function {entry!r}"}] * len(inputs)
    results = []
    for args in inputs:
        signal.setitimer(signal.ITIMER_PROF, seconds)
        try:
            value = function(*args)
            signal.setitimer(signal.ITIMER_PROF, 0)
            results.append({"value": _plain(value)})
        except Timeout:
            results.append({"error": f"Timeout: the call took over {seconds:g} s of CPU"})
        except BaseException as e:
            signal.setitimer(signal.ITIMER_PROF, 0)
            results.append(_error(e))
    return results


def child(source, prelude, request, channel, seccomp):
    try:
        _seal(channel, request["limits"], seccomp)
        sys.stdout = sys.stderr = io.StringIO()  # what a program prints is not its output
        signal.signal(signal.SIGPROF, _alarm)
        results = _run(source, prelude, request["entry"], request["inputs"], request["limits"]["call_seconds"])
        data = json.dumps(results, allow_nan=False).encode()
        while data:
            data = data[os.write(3, data):]
    except BaseException:
        os._exit(71)
    os._exit(0)


# ---- the supervisor ---------------------------------------------------------------------------------


def supervise(pid, reader, limits):
    """The child's results and why it was killed (or None): read within its wall-clock budget and output cap."""
    cap, wall = limits["output_kb"] << 10, limits["program_seconds"]
    deadline = time.monotonic() + wall
    data, killed = bytearray(), None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            killed = f"over {wall:g} s of wall-clock time"
            break
        ready, _, _ = select.select([reader], [], [], left)
        if not ready:
            continue
        chunk = os.read(reader, 65536)
        if not chunk:
            break
        data += chunk
        if len(data) > cap:
            killed = f"wrote over {limits['output_kb']} KB of results"
            break
    if killed:
        os.kill(pid, signal.SIGKILL)
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    if killed:
        return None, killed
    if os.WIFSIGNALED(status):
        return None, _signalled(os.WTERMSIG(status), limits)
    code = os.WEXITSTATUS(status)
    if code != 0:
        return None, {70: "the sandbox could not seal the program in (seccomp)",
                      71: "the program broke its runner"}.get(code, f"the program exited with status {code}")
    try:
        results = json.loads(data, parse_constant=_not_a_number)
    except ValueError:
        return None, "the program wrote results that are not JSON"
    return results, None


def _not_a_number(name):
    raise ValueError(f"{name} is not a JSON value")


def _signalled(number, limits):
    if number in (signal.SIGXCPU, signal.SIGKILL):
        return f"over {limits['program_cpu_seconds']} s of CPU time"
    if number == signal.SIGSEGV:
        return "crashed (segmentation fault; memory is capped at {} MB)".format(limits["memory_mb"])
    return f"killed by signal {signal.Signals(number).name}"


def main():
    request = json.loads(sys.stdin.buffer.read())
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as process 1, no signal it leaves at default reaches it
    seccomp = Filter(bytes.fromhex(request["filter"]))
    prelude = compile(request["prelude"], "<prelude>", "exec")
    out = os.fdopen(1, "wb", buffering=0)
    for i, source in enumerate(request["programs"]):
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(reader)
            child(source, prelude, request, writer, seccomp)
        os.close(writer)
        results, killed = supervise(pid, reader, request["limits"])
        out.write(json.dumps({"program": i, "results": results, "killed": killed}).encode() + b"\n")


main()
