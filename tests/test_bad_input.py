"""Bad input, tried as a new user would: one clear line naming the file and what is wrong, no traceback, and no
answer already written ever lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.batch import output, prepare_output

REASONER = str(Path(sys.executable).parent / "reasoner")
TASK = [{"name": "double", "train": [{"inputs": [1], "output": 2}, {"inputs": [2], "output": 4}], "test": [{"inputs": [3]}]}]


def reasoner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([REASONER, *args], capture_output=True, text=True, timeout=300)


def one_line_error(run: subprocess.CompletedProcess, *fragments: str) -> None:
    assert run.returncode == 2, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]  # after a progress bar, when the work had begun
    assert "Traceback" not in run.stderr and last.startswith("error:"), run.stderr[-2000:]
    for fragment in fragments:
        assert fragment in run.stderr.replace("\n", ""), run.stderr


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    wide = tmp_path / "wide.csv"
    wide.write_text("x,y\n" + "1" * 200_000 + ",2\n")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"x,y\n\xff\xfe\x00\x01,\x80\n")
    task = tmp_path / "task.json"
    task.write_text(json.dumps(TASK))
    return {"deep": deep, "wide": wide, "binary": binary, "task": task, "folder": tmp_path}


@pytest.mark.slow
@pytest.mark.parametrize("args, fragments", [
    (["induce", "--tasks", "{deep}", "--out", "{folder}/o.jsonl"], ["deep.json", "nested too deeply"]),
    (["logic", "--problems", "{deep}", "--out", "{folder}/o.jsonl"], ["deep.json", "nested too deeply"]),
    (["induce", "--tasks", "{task}", "--out", "{folder}", "--no-llm"], ["is a folder"]),
    (["induce", "--tasks", "{task}", "--out", "/dev/full", "--no-llm"], ["/dev/full", "No space left on device"]),
    (["regress", "--data", "{wide}"], ["wide.csv", "field larger than field limit"]),
    (["regress", "--data", "{binary}"], ["binary.csv", "not text in UTF-8"]),
    (["regress", "--data", "{folder}"], ["is a folder"]),
    (["logic", "--problems", "{binary}", "--out", "{folder}/o.jsonl"], ["binary.csv", "not text in UTF-8"]),
])
def test_bad_files_are_one_line_errors(files, args, fragments):
    one_line_error(reasoner(*(a.format(**files) for a in args)), *fragments)


def test_resume_keeps_a_last_line_without_its_newline(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "answer": 1}\n{"id": "b", "answer": 2}')  # whole, its newline never written
    assert prepare_output(out, resume=True) == {"a", "b"}
    assert out.read_text() == '{"id": "a", "answer": 1}\n{"id": "b", "answer": 2}\n'


def test_resume_sets_a_cut_line_aside_and_never_deletes_it(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "answer": 1}\n{"id": "b", "ans')
    assert prepare_output(out, resume=True) == {"a"}
    assert out.read_text() == '{"id": "a", "answer": 1}\n'
    assert (tmp_path / "out.jsonl.partial").read_text() == '{"id": "b", "ans\n'
    single = tmp_path / "single.jsonl"
    single.write_text('{"id": "only", "answer": 1}')  # a one-line file is not emptied
    assert prepare_output(single, resume=True) == {"only"} and single.read_text().startswith('{"id": "only"')


def test_resume_answers_failed_items_again_and_keeps_their_lines_aside(tmp_path):
    out = tmp_path / "out.jsonl"
    failed = '{"id": "b", "status": "error", "message": "LLMUnavailable: APITimeoutError"}\n'
    out.write_text('{"id": "a", "status": "answered"}\n' + failed + '{"id": "c", "status": "undecided"}\n')
    assert prepare_output(out, resume=True) == {"a", "c"}
    assert out.read_text() == '{"id": "a", "status": "answered"}\n{"id": "c", "status": "undecided"}\n'
    assert (tmp_path / "out.jsonl.errors").read_text() == failed


def test_a_folder_or_a_file_with_answers_is_not_written_over(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        prepare_output(tmp_path, resume=False)
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n')
    with pytest.raises(FileExistsError, match="already has answers"):
        prepare_output(out, resume=False)


def test_numbers_that_are_not_finite_are_written_as_valid_json(tmp_path):
    out = tmp_path / "out.jsonl"
    with output(out) as write:
        write(json.dumps({"id": "a", "r2": float("nan"), "values": [float("inf"), 1.5]}))
    line = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(f"{name} written"))
    assert line == {"id": "a", "r2": None, "values": [None, 1.5]}
