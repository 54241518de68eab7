"""Runs inside the sandbox (tools/sandbox.py), under the system Python with `-I -S`: stdlib only.

Reads one JSON request on stdin: `{"prelude", "programs", "inputs", "entry", "seconds"}`. For each
program, in order, it executes the prelude and the program in a fresh namespace whose imports are
limited to `ALLOWED`, calls `entry` on every input (a list of arguments) with a CPU-time limit per
call, and writes one JSON line per program: `[{"value": ...} | {"error": "..."} per input]`. Lines
are flushed as they are written, so when the sandbox kills a call, the programs before it keep their
results.
"""

import builtins
import io
import json
import os
import signal
import sys

ALLOWED = {"math", "re", "itertools", "collections", "functools", "operator", "string", "copy", "heapq", "bisect",
           "statistics", "fractions", "decimal", "typing", "dataclasses", "datetime", "random", "numbers"}


class Timeout(BaseException):
    """One call ran out of its CPU time."""


def _alarm(signum, frame):
    raise Timeout


def _import(name, globals=None, locals=None, fromlist=(), level=0):
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
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    raise TypeError(f"the output is a {type(value).__name__}, not a value (number, string, list)")


def _error(e):
    return {"error": f"{type(e).__name__}: {e}"[:300]}


def run_program(source, prelude, entry, inputs, seconds):
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


def main():
    request = json.load(sys.stdin)
    out = os.fdopen(os.dup(1), "w")
    signal.signal(signal.SIGPROF, _alarm)
    prelude = compile(request["prelude"], "<prelude>", "exec")
    for source in request["programs"]:
        sys.stdout = sys.stderr = io.StringIO()  # what programs print is not their output
        results = run_program(source, prelude, request["entry"], request["inputs"], request["seconds"])
        sys.stderr = sys.__stderr__
        try:
            line = json.dumps(results)
        except ValueError as e:  # e.g. a float that is not finite
            line = json.dumps([_error(e)] * len(results))
        out.write(line + "\n")
        out.flush()


main()
