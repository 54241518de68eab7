"""The induction tool end to end: programs proposed (the real model under the primitives' grammar, and the
enumerator), run in the real sandbox on the examples, the fitting one applied; through the agent and the CLI."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.runner import answer_question
from agent.traces import TraceStore
from tools.base import Task
from tools.induce.prompt import UNARY, WITH_NUMBER, run_expressions
from tools.induce.task import TaskError
from tools.induce.text import from_text
from tools.induce.tool import InduceResult, InduceTool

REASONER = str(Path(sys.executable).parent / "reasoner")


def row_task(pairs, test):
    return {"train": [{"input": [a], "output": [b]} for a, b in pairs], "test": [{"input": [t]} for t in test]}


SHIFT = row_task([([0, 3, 3, 0, 0, 0], [0, 0, 3, 3, 0, 0]), ([5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0]),
                  ([0, 0, 0, 2, 2, 2, 0, 0], [0, 0, 0, 0, 2, 2, 2, 0])], [[0, 7, 7, 7, 0, 0, 0]])


@pytest.fixture
def store(tmp_path):
    return TraceStore(tmp_path / "traces.sqlite")


def test_a_grid_task_is_explained_by_a_program_and_applied(agent, store):
    answer = answer_question(agent, store, Task(question="what comes next?", input=SHIFT))
    assert answer.tool == "induce" and answer.status == "answered", answer.message
    assert json.loads(answer.answers[0]) == [[0, 0, 7, 7, 7, 0, 0]]
    result = answer.grounding
    assert isinstance(result, InduceResult) and result.winner.program.code == "shift(x, 1)"
    assert all(result.winner.passed) and result.sandbox_calls >= 1
    assert result.by == {"enumerator": result.tried}  # the search solved it alone, in the first round: no model call
    assert "reproduces all 3 examples" in answer.message
    assert store.run(answer.trace_id).status == "answered"


def test_the_models_proposals_parse_and_name_only_primitives(induce_tool):
    frame = induce_tool.frame(Task(question="", input=SHIFT))
    llm_only = InduceTool(induce_tool.llm, model=induce_tool.model, samples=4, use_enumerator=False)
    proposal = llm_only.propose(frame, [], [])
    assert proposal.calls and proposal.calls[0].constraint == "grammar"
    names = set(UNARY + WITH_NUMBER + ["tile", "recolor_parity", "recolor_size", "recolor", "x"])
    for program in proposal.candidates[0].programs:
        tree = ast.parse(program.code, mode="eval")  # the grammar admits only expressions of the primitives
        assert {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} <= names, program.code
    result = llm_only.execute(frame, proposal.candidates[0])
    assert result.tried == len(proposal.candidates[0].programs) and result.by == {"llm": result.tried}


def test_examples_in_words_are_routed_and_read(agent):
    answer = answer_question(agent, None, "Examples: [1, 2, 0, 0] -> [0, 1, 2, 0]\n[3, 0, 0, 0] -> [0, 3, 0, 0]\n"
                                          "[0, 0, 4, 0] -> ?")
    assert answer.tool == "induce"
    assert answer.status in ("answered", "undecided")  # value lists, not grids: no primitive rotates a list
    assert answer.attempts, "the examples were read and programs were run"


def test_when_no_program_fits_the_tool_says_so_with_the_closest(agent, store):
    noise = row_task([([1, 0, 0], [0, 0, 7]), ([0, 2, 0], [5, 5, 5]), ([0, 0, 3], [1, 0, 4])], [[4, 0, 0]])
    answer = answer_question(agent, store, Task(question="", tool="induce", input=noise))
    assert answer.status == "undecided" and answer.answers == []
    assert "No program fits the examples" in answer.message and "the closest" in answer.message
    rounds = [step.output["proposals"][-1] for step in store.run(answer.trace_id).steps if step.node == "plan"]
    assert [p["by"] for p in rounds] == ["enumerator", "enumerator+llm", "llm"]  # the search's first round runs alone
    assert "tried:" in rounds[1]["calls"][0]["messages"][0]["content"]  # the model's first draw sees its closest


def test_bad_examples_get_a_clear_reason(agent):
    bad = {"train": [{"input": [[1, 12]], "output": [[1]]}]}
    answer = answer_question(agent, None, Task(question="", tool="induce", input=bad))
    assert answer.status == "undecided" and "colours 0-9" in answer.message and "train[0].input" in answer.message


def test_examples_written_as_calls_or_arrows_are_read():
    task = from_text('f("ab", 2) = "abab"\nf("x", 3) = "xxx"\nwhat is f("yo", 2)?')
    assert [ex.inputs for ex in task.train] == [["ab", 2], ["x", 3]] and task.test[0].inputs == ["yo", 2]
    task = from_text("abc -> ABC; hello -> HELLO; world -> ?")
    assert task.train[1].output == "HELLO" and task.test[0].inputs == ["world"] and not task.test[0].known
    with pytest.raises(TaskError, match="no examples found"):
        from_text("what is the capital of France?")


@pytest.mark.parametrize("pairs, program", [
    ([("hello", "olleh"), ("abc", "cba"), ("stressed", "desserts")], "reverse(x0)"),
    ([([1, 2, 3], [3, 2, 1]), ([4, 5], [5, 4]), ([7, 8, 9, 10], [10, 9, 8, 7])], "reverse(x0)"),
    ([([3, 1, 2], [1, 2, 3]), (["b", "a"], ["a", "b"])], "sort(x0)"),
    ([([5, 3, 8], 16), ([1, 1], 2), ([10, 20, 30], 60)], "sum(x0)"),
    ([([5, 3, 8], 3), ([1, 4], 1), ([10, 20, 30], 10)], "min(x0)"),
    # Pieces found anywhere in the outputs, not only at their start: "15", "/", "01", "/", "2023".
    ([("2023-01-15", "15/01/2023"), ("1999-12-31", "31/12/1999"), ("2001-03-09", "09/03/2001")], None),
])
def test_the_search_reverses_sorts_sums_and_reorders(pairs, program):
    from tools.induce.bottom_up import search
    from tools.induce.task import from_dict

    task = from_dict({"train": [{"inputs": [a], "output": b} for a, b in pairs]}, "t", "test")
    [found] = search(task)
    assert found == program or program is None
    [results] = run_expressions("values", 1, [found], [[a] for a, _ in pairs])  # the same in the sandbox
    assert [r.value for r in results] == [b for _, b in pairs]


def test_the_search_does_not_join_two_programs_on_one_example_alone():
    from tools.induce.bottom_up import search
    from tools.induce.task import from_dict

    # Fitted once by `ite`, one branch explaining "hello7" -> 7 as 1 + its length: -1 for "test2024".
    task = from_dict({"train": [{"inputs": [a], "output": b} for a, b in [("abc123", 123), ("xy45", 45), ("hello7", 7)]]}, "t", "test")
    assert search(task) == []


@pytest.mark.parametrize("message, train, asked", [
    ("2 -> 4, 3 -> 9, 4 -> 16, 10 -> 100. What is 7 mapped to?", [([2], 4), ([10], 100)], [7]),
    ("hello -> olleh, abc -> cba. what about drawer?", [(["hello"], "olleh"), (["abc"], "cba")], ["drawer"]),
    ("Ada Lovelace -> A.L., Alan Turing -> A.T.; Claude Shannon -> ?", [(["Ada Lovelace"], "A.L."), (["Alan Turing"], "A.T.")], ["Claude Shannon"]),
    ("[1, 2, 3] -> [3, 2, 1]; [4, 5] -> [5, 4]. What is [2, 6, 4]?", [([[1, 2, 3]], [3, 2, 1]), ([[4, 5]], [5, 4])], [[2, 6, 4]]),
    ("(555) 123-4567 -> 555, (212) 987-6543 -> 212. What does (303) 444-1212 map to?", [(["(555) 123-4567"], 555), (["(212) 987-6543"], 212)],
     ["(303) 444-1212"]),
    ("2023-01-15 -> 15/01/2023, 1999-12-31 -> 31/12/1999. Convert 2010-07-04.", [(["2023-01-15"], "15/01/2023"), (["1999-12-31"], "31/12/1999")],
     ["2010-07-04"]),
    ("Smith, John -> John Smith; Doe, Jane -> Jane Doe. What is Lee, Ann?", [(["Smith, John"], "John Smith"), (["Doe, Jane"], "Jane Doe")],
     ["Lee, Ann"]),
    ("3, 5, 7, 9, what comes next?", [([1], 3), ([4], 9)], [5]),
    ("2 -> 5, 3 -> 10, 5 -> 26. what's 6 -> ?", [([2], 5), ([5], 26)], [6]),
    ("Examples: 10 -> 1, 123 -> 6. Find the rule and give the result for 58.", [([10], 1), ([123], 6)], [58]),
    ("x -> a, b\ny -> c, d", [(["x"], "a, b"), (["y"], "c, d")], None),  # one pair a line: a comma is part of the side
])
def test_several_examples_on_a_line_and_the_question_after_them_are_read(message, train, asked):
    task = from_text(message)
    pairs = [(ex.inputs, ex.output) for ex in task.train]
    assert pairs[0] == train[0] and pairs[-1] == train[-1], pairs
    assert [ex.inputs for ex in task.test] == ([asked] if asked is not None else [])


def test_the_induce_command_scores_a_folder_and_resumes(tmp_path):
    folder = tmp_path / "tasks"
    (folder / "sub").mkdir(parents=True)
    solved = dict(SHIFT, test=[{"input": [[0, 7, 7, 7, 0, 0, 0]], "output": [[0, 0, 7, 7, 7, 0, 0]]}])
    (folder / "shift.json").write_text(json.dumps(solved))
    flip = row_task([([1, 2, 0], [0, 2, 1]), ([3, 4, 5], [5, 4, 3])], [])
    flip["test"] = [{"input": [[6, 0, 7]], "output": [[7, 0, 6]]}]
    (folder / "sub" / "flip.json").write_text(json.dumps(flip))
    out = tmp_path / "out.jsonl"
    base = [REASONER, "induce", "--tasks", str(folder), "--out", str(out), "--no-llm", "--traces", str(tmp_path / "t.sqlite")]
    run = subprocess.run(base + ["--limit", "1"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    run = subprocess.run(base + ["--resume"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["n"] == 2 and summary["solved"] == 2 and summary["solved_rate"] == 1.0 and summary["answered_now"] == 1
    assert summary["solved_median_candidates"] > 1 and summary["solved_median_seconds"] > 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["name"] for line in lines} == {"flip", "shift"}
    flip_line = next(line for line in lines if line["name"] == "flip")
    assert flip_line["program"] == "flip_h(x)" and flip_line["predictions"] == [[[7, 0, 6]]] and flip_line["candidates"] > 1
    (tmp_path / "bad.json").write_text('{"train": [{"input": [[1]]}]}')
    bad = subprocess.run([REASONER, "induce", "--tasks", str(tmp_path / "bad.json"), "--out", str(tmp_path / "b.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "train[0]: a training example needs 'output'" in bad.stderr


def test_the_closest_program_is_shown_with_the_first_call_it_gets_wrong():
    from tools.induce.prompt import program_prompt, tried
    from tools.induce.task import from_dict

    task = from_dict({"train": [{"inputs": ["ab cd"], "output": "ab"}, {"inputs": ["x yz"], "output": "x"}]}, "t", "t")
    line = tried(task, "after(x0, ' ')", ["cd", "yz"], [False, False])
    assert line == "tried: after(x0, ' ')\nbut f(\"ab cd\") = \"cd\", not \"ab\""
    assert program_prompt(task, [line]).endswith(line + "\nprogram:\n")
    assert tried(task, "x0", [None, "x"], [False, True]).endswith("= an error, not \"ab\"")


def test_expert_iteration_learns_from_the_samples_and_the_search(induce_tool):
    """One round's lessons on two value tasks: every pair's program does what its prompt shows."""
    from tools.induce.iterate import lessons
    from tools.induce.prompt import program_prompt, run_expressions
    from tools.induce.task import from_dict

    llm_only = InduceTool(induce_tool.llm, model=induce_tool.model, samples=6, use_enumerator=False, temperature=0.9)
    first_word = from_dict({"train": [{"inputs": ["ab cd"], "output": "ab"}, {"inputs": ["x yz"], "output": "x"},
                                      {"inputs": ["hello there"], "output": "hello"}]}, "first", "first")
    swapped = from_dict({"train": [{"inputs": ["Ada Lovelace"], "output": "Lovelace, Ada"}, {"inputs": ["Alan Turing"], "output": "Turing, Alan"},
                                   {"inputs": ["Grace Hopper"], "output": "Hopper, Grace"}]}, "swapped", "swapped")
    for task in (first_word, swapped):
        pairs, tally = lessons(llm_only, task)
        assert sum(tally[k] for k in ("solved", "refined", "unsolved")) == 1, tally
        inputs = [ex.inputs for ex in task.train]
        for pair in pairs:
            outputs = [r.value for r in run_expressions("values", 1, [pair.target], inputs)[0]]
            if pair.source == "iterate-hindsight":
                relabelled = task.model_copy(update={"train": [ex.model_copy(update={"output": o}) for ex, o in zip(task.train, outputs)]})
                assert pair.prompt == program_prompt(relabelled) and outputs != [ex.output for ex in task.train]
            else:
                assert outputs == [ex.output for ex in task.train], pair
                assert pair.prompt.startswith(program_prompt(task).removesuffix("program:\n"))
                assert ("\ntried: " in pair.prompt) == (pair.source == "iterate-refine")
