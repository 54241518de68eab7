"""The `reasoner kg` commands, run as a user runs them: the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REASONER = str(Path(sys.executable).parent / "reasoner")


def reasoner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([REASONER, *args], capture_output=True, text=True, timeout=300)


def test_stats_on_the_bundled_demo_graph():
    run = reasoner("kg", "stats", "--json")
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["report"]["triples"] > 5000 and stats["report"]["bad_lines"] == 0
    assert {r["name"] for r in stats["schema"]["relations"]} >= {"directed_by", "~directed_by", "release_year"}


def test_path_prints_answers_and_witnesses():
    run = reasoner("kg", "path", "--entity", "Inception", "--relations", "directed_by,~directed_by,release_year")
    assert run.returncode == 0, run.stderr
    assert "2008" in run.stdout  # The Dark Knight
    assert "Christopher Nolan --~directed_by--> The Dark Knight --release_year--> 2008" in run.stdout


def test_path_json(small_kb):
    run = reasoner("kg", "path", str(small_kb), "-e", "Heat", "-r", "starred_actors", "--json")
    assert json.loads(run.stdout)["answers"] == ["Al Pacino", "Robert De Niro"]


def test_link():
    run = reasoner("kg", "link", "who directed inception")
    assert run.returncode == 0 and "Inception" in run.stdout.splitlines()[0]


def test_mine_writes_jsonl_and_a_summary(tmp_path, small_kb):
    questions = tmp_path / "qa_2hop_train.txt"
    questions.write_text("which films share a director with [Heat]\tCollateral\nwhen was [Heat] released\t1995\n")
    out = tmp_path / "plans.jsonl"
    run = reasoner("kg", "mine", str(small_kb), str(questions), "--out", str(out))
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["plan"] for r in records] == [["directed_by", "~directed_by"], ["release_year"]]
    assert records[0]["hops"] == 2 and records[0]["id"] == "qa_2hop_train:1"
    assert "mined plans" in run.stdout and "100.00%" in run.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("kg", "stats", "{bad}"), "bad.txt:2: expected 'head|relation|tail' (3 fields), got 1 field(s)"),
        (("kg", "path", "{bad}", "--skip-bad-lines", "-e", "Heat", "-r", "acted"), "unknown relation 'acted'"),
        (("kg", "path", "-e", "Nobody Here", "-r", "directed_by"), "entity not in the knowledge graph: 'Nobody Here'"),
        (("kg", "stats", "/no/such/file.txt"), "knowledge graph file not found: /no/such/file.txt"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path, args, message):
    bad = tmp_path / "bad.txt"
    bad.write_text("Heat|directed_by|Michael Mann\nnot a triple\n")
    run = reasoner(*(a.replace("{bad}", str(bad)) for a in args))
    assert run.returncode == 2
    assert message in run.stderr.replace("\n", "")
    assert "Traceback" not in run.stderr


def test_a_tool_option_the_service_cannot_take_is_a_one_line_error():
    from agent.assemble import other_tools
    from agent.llm.server import free_port
    from tools.logic.tool import LogicTool

    port = str(free_port())
    for option, message in [("samples=3", "write TOOL.NAME=VALUE, e.g. logic.samples=3"),
                            ("logic.nope=1", "the logic tool cannot take the options {'nope': 1}")]:
        run = reasoner("serve", "--port", port, "--planner", "embedding", "--tool-option", option)
        assert run.returncode == 2, run.stderr
        assert message in run.stderr.replace("\n", "") and "Traceback" not in run.stderr
    with pytest.raises(ValueError, match="no tool named kg takes options"):
        other_tools(None, {"kg": {"samples": 3}})
    with pytest.raises(ValueError, match="samples must be a whole number of at least 1, not 0"):
        LogicTool(None, samples=0)


@pytest.mark.slow
def test_python_serve_py_starts_the_service(tmp_path):
    """`python serve.py` is `reasoner serve`: here with the embedding planner, which needs no model server."""
    import time
    import urllib.request

    from agent.llm.server import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "serve.py"), "--planner", "embedding",
                                "--port", str(port), "--traces", str(tmp_path / "t.sqlite")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.loads(response.read())["planners"] == ["embedding"]
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve.py did not come up in 120 s"
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
