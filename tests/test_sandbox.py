"""The sandbox under attack: each hostile program is stopped with a clear reason, and the host keeps working."""

from __future__ import annotations

import os
import time

import pytest

from tools import sandbox

pytestmark = pytest.mark.skipif(sandbox.available() is not None, reason=str(sandbox.available()))

# Reaches the real os module despite the import limits, as an attacker would.
POSIX = "posix = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'BuiltinImporter'][0].load_module('posix')\n"


def one(program: str, inputs=((1,),), **limits) -> sandbox.ProgramRun:
    batch = sandbox.run([program], [list(i) for i in inputs], limits=sandbox.Limits(**limits) if limits else None)
    return batch.runs[0]


def error(program: str, **limits) -> str:
    run = one(program, **limits)
    assert run.results[0].value is None, run
    return run.results[0].error


def test_a_plain_program_runs_on_every_input():
    batch = sandbox.run(["def f(x, y): return [x + y, str(x) * 2]"], [[1, 2], [3, 4]])
    assert [r.value for r in batch.runs[0].results] == [[3, "11"], [7, "33"]]
    assert batch.calls == 1


def test_secrets_and_the_project_are_not_visible():
    assert "FileNotFoundError" in error(POSIX + "def f(x): return posix.read(posix.open('/etc/shadow', 0), 100)")
    here = os.path.abspath(__file__)
    assert "FileNotFoundError" in error(POSIX + f"def f(x): return posix.read(posix.open({here!r}, 0), 100)")
    assert "not allowed" in error("def f(x): return open('/etc/passwd').read()") or "NameError" in error("def f(x): return open('/etc/passwd').read()")


def test_no_network():
    assert "import of 'socket' is not allowed" in error("import socket\ndef f(x): return 1")
    low = "s = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'BuiltinImporter'][0].load_module('_socket')\n"
    assert "PermissionError" in error(low + "def f(x): return str(s.socket())")


def test_no_new_processes():
    assert "PermissionError" in error(POSIX + "def f(x): return posix.fork()")
    assert one(POSIX + "def f(x): return posix.system('touch /tmp/owned')").results[0].value != 0  # the shell never starts
    bomb = POSIX + "def f(x):\n    while True:\n        posix.fork()"
    assert "PermissionError" in error(bomb)


def test_cpu_memory_and_output_are_bounded():
    assert error("def f(x):\n    while True: pass").startswith("Timeout")
    assert error("def f(x): return len(bytearray(10 * 1024 ** 3))").startswith("MemoryError")
    run = one("def f(x): return 'x' * 10 ** 7")
    assert run.killed and "wrote over" in run.killed


@pytest.mark.parametrize("path", ["/usr/owned", "/owned", "/tmp/owned", "/dev/shm/owned", "/dev/owned"])
def test_nothing_is_writable(path):
    """No scratch space at all: nothing to fill, no file count to cap."""
    assert "Read-only file system" in error(POSIX + f"def f(x): return posix.open({path!r}, 0o101)") or \
        "FileNotFoundError" in error(POSIX + f"def f(x): return posix.open({path!r}, 0o101)")


def test_dangerous_modules_are_refused():
    assert "import of 'ctypes' is not allowed" in error("import ctypes\ndef f(x): return 1")
    assert "import of 'os' is not allowed" in error("import os\ndef f(x): return os.system('ls')")


def test_a_program_that_escapes_the_call_limit_is_killed_and_the_rest_still_run():
    stubborn = ("def f(x):\n    while True:\n        try:\n            while True: pass\n"
                "        except BaseException: pass")
    started = time.monotonic()
    batch = sandbox.run(["def f(x): return x", stubborn, "def f(x): return -x"], [[1]],
                        limits=sandbox.Limits(seconds=10, call_seconds=0.2))
    assert batch.runs[0].results[0].value == 1
    assert batch.runs[2].results[0].value == -1
    second = batch.runs[1]
    assert second.results[0].value is None and second.results[0].error
    assert time.monotonic() - started < 8


def test_the_host_keeps_working_after_attacks():
    assert sandbox.run(["def f(x): return x * 3"], [[2]]).runs[0].results[0].value == 6


def test_a_hostile_program_does_not_hold_up_another_request():
    import threading

    hog = threading.Thread(target=sandbox.run, args=(["def f(x):\n    while True: pass"], [[1], [2], [3]]))
    hog.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert sandbox.run(["def f(x): return x + 1"], [[1]]).runs[0].results[0].value == 2
    assert time.monotonic() - started < 2.5  # the other call's CPU loop runs in its own process, under its own limits
    hog.join()


# ---- a hostile program against the others, the runner and the host -----------------------------------------


def test_the_service_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("REASONER_API_KEY", "secret-key-1234")
    for program in [POSIX + "def f(x): return str(posix.environ)",
                    POSIX + "def f(x): return posix.read(posix.open('/proc/1/environ', 0), 4096).decode()",
                    POSIX + "def f(x): return posix.read(posix.open('/proc/self/environ', 0), 4096).decode()"]:
        run = one(program)
        assert "secret-key-1234" not in str(run), run


def test_a_program_cannot_forge_another_programs_results():
    """Result lines of the expected shape written on every descriptor, then an exit: the next program, a wrong
    one, still gets its own results."""
    forged = b'{"program": 1, "results": [{"value": 42}], "killed": null}\n'
    forger = POSIX + ("def f(x):\n    for fd in range(0, 64):\n        try:\n            posix.write(fd, " + repr(forged)
                      + ")\n        except OSError:\n            pass\n    posix._exit(0)\n")
    batch = sandbox.run([forger, "def f(x): return x + 1"], [[41]])
    assert batch.runs[1].results[0].value == 42 and batch.runs[1].killed is None  # 41 + 1, computed, not forged
    batch = sandbox.run([forger, "def f(x): return -1"], [[41]])
    assert batch.runs[1].results[0].value == -1
    assert batch.runs[0].results[0].value is None and "exited" not in str(batch.runs[1])


@pytest.mark.parametrize("attack", [
    "posix.write(3, b'[1]')",  # a result of another shape on its own channel
    "posix.write(3, b'[{\"value\": 1, \"extra\": 2}]')",
    "posix.write(3, b'[NaN]')",
    "posix.write(3, b'not json')",
    "posix.ftruncate(1, 0); posix.lseek(1, 0, 0)",
    "posix.posix_fallocate(1, 0, 2 << 30)",
    "posix.posix_fallocate(3, 0, 2 << 30)",
])
def test_tampering_with_the_channel_is_contained(attack):
    program = POSIX + f"def f(x):\n    try:\n        {attack}\n    except OSError:\n        pass\n    posix._exit(0)\n"
    batch = sandbox.run(["def f(x): return 'before'", program, "def f(x): return 'after'"], [[1]])
    assert batch.runs[0].results[0].value == "before" and batch.runs[2].results[0].value == "after"
    assert batch.runs[1].results[0].value is None and batch.runs[1].results[0].error


def test_modules_and_the_runner_are_fresh_for_each_program():
    patch = ("import math\nmath.sqrt = lambda x: -1\nimport json\njson.dumps = lambda *a, **k: '[{\"value\": 7}]'\n"
             "def f(x): return x\n")
    frames = ("def f(x):\n    try:\n        raise ValueError\n    except ValueError as e:\n"
              "        g = e.__traceback__.tb_frame.f_back.f_globals\n        g['_plain'] = lambda v, d=0: 99\n"
              "    return x\n")
    batch = sandbox.run([patch, frames, "import math\ndef f(x): return math.sqrt(x)"], [[16]])
    assert batch.runs[2].results[0].value == 4.0


def test_one_program_is_not_charged_for_another():
    hog = "def f(x):\n    s = 0\n    for i in range(10 ** 9):\n        s += i\n    return s\n"  # each call to its CPU limit
    keep = "held = bytearray(300 * 1024 * 1024)\ndef f(x): return len(held)\n"  # memory kept for the program's life
    loud = "def f(x): return 'y' * 200_000\n"
    limits = sandbox.Limits(call_seconds=1.0, memory_mb=512, output_kb=1024)  # zeroing 300 MB takes CPU too
    batch = sandbox.run([hog, keep, keep, loud, loud, loud, loud, "def f(x): return x"], [[1], [2], [3]], limits=limits)
    assert all(r.error.startswith("Timeout") for r in batch.runs[0].results)
    assert [r.value for r in batch.runs[1].results] == [300 * 1024 * 1024] * 3 == [r.value for r in batch.runs[2].results]
    assert all(run.killed is None for run in batch.runs[3:])  # 600 KB each: the cap is per program
    assert [r.value for r in batch.runs[-1].results] == [1, 2, 3]


def test_the_supervisor_cannot_be_signalled_or_read():
    attacks = [POSIX + "def f(x): return posix.kill(1, 9)", POSIX + "def f(x): return posix.kill(-1, 9)",
               POSIX + "def f(x): return posix.read(posix.open('/proc/1/mem', 0), 10)",
               POSIX + "def f(x): return posix.listdir('/proc')"]
    batch = sandbox.run(attacks + ["def f(x): return 'alive'"], [[1]])
    assert all(run.results[0].value is None for run in batch.runs[:-1]), batch
    assert batch.runs[-1].results[0].value == "alive"


def test_a_batch_has_a_wall_clock_budget_and_kills_are_named():
    spin = "def f(x):\n    while True:\n        pass\n"
    started = time.monotonic()
    batch = sandbox.run([spin] * 20, [[1]], limits=sandbox.Limits(seconds=3, call_seconds=0.5))
    assert time.monotonic() - started < 6
    assert batch.runs[0].results[0].error.startswith("Timeout")
    assert batch.runs[-1].killed.startswith("not run: the batch's 3 s of wall-clock time were spent")
    exits = POSIX + "def f(x): posix._exit(3)"
    assert one(exits).killed == "the program exited with status 3"


def test_non_finite_numbers_are_errors_not_invalid_json():
    run = one("def f(x): return [1.0, float('inf')]")
    assert run.results[0].value is None and "not a finite number" in run.results[0].error
