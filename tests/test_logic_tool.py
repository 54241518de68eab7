"""The logic tool end to end: the shipped translator (served by the real vLLM server) translates, E or clingo
decides, the translations vote; through the agent, the CLI, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.runner import answer_question
from agent.traces import TraceStore
from tools.base import Task
from tools.logic.tool import LogicResult

REASONER = str(Path(sys.executable).parent / "reasoner")


@pytest.fixture
def store(tmp_path):
    return TraceStore(tmp_path / "traces.sqlite")


RULES = ("The cat is big. The dog is not kind. If something is big then it is red. "
         "If something is red and it is not kind then it chases the dog.")


def test_a_problem_in_words_is_translated_proved_and_voted(agent, store):
    answer = answer_question(agent, store, RULES + " Is the following statement true, false, or unknown? The cat is red.")
    assert answer.tool == "logic" and answer.status == "answered", (answer.message, [a.why() for a in answer.attempts])
    assert answer.answers == ["True"] and "the premises prove the conclusion" in answer.message
    result = answer.grounding
    assert isinstance(result, LogicResult) and result.mode == "fol" and len(result.premises) == 4
    winner = result.samples[result.winner]
    assert winner.premises[0] == "Big(cat)" and winner.conclusion == "Red(cat)"
    assert "SZS output start" in result.outcomes[result.winner].proof  # E's proof is the evidence
    assert sum(result.votes.values()) <= 3 and result.votes["True"] >= 2
    run = store.run(answer.trace_id)
    assert run.status == "answered" and run.tool == "logic" and run.result["grounding"]["kind"] == "logic"


def test_a_question_in_other_words_is_decided_about_its_statement(agent):
    # The answer format after a yes/no question: the statement is "Bob is strong", never "True, false, or unknown?".
    answer = answer_question(agent, None, "Bob is big. All big things are strong. Is Bob strong? True, false, or unknown?")
    assert answer.tool == "logic" and answer.answers == ["True"], (answer.message, [a.why() for a in answer.attempts])
    result = answer.grounding
    assert result.conclusion == "Bob is strong" and result.samples[result.winner].conclusion == "Strong(bob)"
    assert any(c.name == "symbols" for c in result.outcomes[result.winner].checks)  # one vocabulary before proving


def test_false_and_unknown_are_told_apart(agent):
    false = answer_question(agent, None, RULES + " Is the following statement true, false, or unknown? The cat is not red.")
    assert false.answers == ["False"], (false.message, [a.why() for a in false.attempts])
    unknown = answer_question(agent, None, RULES + " Is the following statement true, false, or unknown? The dog is red.")
    assert unknown.answers == ["Unknown"], (unknown.message, [a.why() for a in unknown.attempts])


def test_an_ordering_puzzle_is_solved_as_an_answer_set_program(agent):
    puzzle = ("On a shelf, there are three books: a red book, a green book, and a blue book. "
              "The red book is the leftmost. The blue book is to the right of the green book.\n"
              "Which of the following is true?\nA) The red book is the rightmost.\nB) The green book is the second from the left.\n"
              "C) The blue book is the leftmost.")
    answer = answer_question(agent, None, puzzle)
    assert answer.tool == "logic" and answer.answers == ["B"], (answer.message, [a.why() for a in answer.attempts])
    result = answer.grounding
    assert result.mode == "asp" and "answer set" in result.why
    assert result.samples[result.winner].premises[0] == "obj(red_book; green_book; blue_book)"


def test_given_formulas_are_decided_by_the_prover_alone(agent):
    task = Task(question="given", tool="logic", input={
        "premises": ["All men are mortal.", "Socrates is a man."], "conclusion": "Socrates is mortal.",
        "premises_fol": ["∀x (Man(x) → Mortal(x))", "Man(socrates)"], "conclusion_fol": "Mortal(socrates)"})
    answer = answer_question(agent, None, task)
    assert answer.answers == ["True"] and answer.llm_tokens == {"prompt_tokens": 0, "completion_tokens": 0}


def test_contradictory_premises_are_not_allowed_to_prove_anything(agent):
    task = Task(question="given", tool="logic", input={
        "premises": ["Bob is red.", "Bob is not red.", "Bob is blue or not."], "conclusion": "Bob is blue.",
        "premises_fol": ["Red(bob)", "¬Red(bob)", "Blue(bob) ∨ ¬Blue(bob)"], "conclusion_fol": "Blue(bob)"})
    answer = answer_question(agent, None, task)
    assert answer.status == "undecided" and answer.answers == []
    assert "consistency: the premises contradict each other" in answer.message


def test_bad_problems_get_a_clear_reason(agent):
    nothing = answer_question(agent, None, Task(question="All cats are animals. Tom is a cat.", tool="logic"))
    assert nothing.status == "undecided" and "no conclusion to decide" in nothing.message
    broken = answer_question(agent, None, Task(question="x", tool="logic", input={
        "premises": ["A cat."], "conclusion": "B.", "premises_fol": ["Cat(x"], "conclusion_fol": "B(x)"}))
    assert broken.status == "undecided" and "premise formula 1: does not parse at column" in broken.message


def test_the_logic_command_scores_a_file_and_resumes(model_server, tmp_path):
    problems = [
        {"id": "p1", "context": RULES, "question": "Is the following statement true, false, or unknown? The cat is red.",
         "options": ["A) True", "B) False", "C) Unknown"], "answer": "A"},
        {"id": "p2", "context": RULES, "question": "Is the following statement true, false, or unknown? The cat chases the dog.",
         "options": ["A) True", "B) False", "C) Unknown"], "answer": "A"},
    ]
    path, out = tmp_path / "problems.json", tmp_path / "out.jsonl"
    path.write_text(json.dumps(problems))
    command = [REASONER, "logic", "--problems", str(path), "--out", str(out), "--samples", "3",
               "--llm-url", model_server.base_url, "--traces", str(tmp_path / "t.sqlite")]
    done = subprocess.run([*command, "--limit", "1"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["p1"] and lines[0]["correct"] and lines[0]["formulas"]["conclusion"] == "Red(cat)"
    assert [d is None for d in lines[0]["dropped"]] == [v is not None for v in lines[0]["verdicts"]]  # a sample votes or says why not
    assert len(lines[0]["samples"]) == len(lines[0]["verdicts"]) and lines[0]["formulas"] in lines[0]["samples"]  # each can be decided again
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 2 and "--resume" in again.stderr  # nothing is overwritten
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300, check=False)
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["n"] == 2 and summary["answered_now"] == 1 and set(summary["per_label"]) == {"True"}
    assert summary["accuracy"] is not None and summary["problems_per_s"] > 0
    # An item that cannot be read is its own line, never the end of the batch; a question in another wording is read.
    path.write_text(json.dumps([{"id": "q", "context": "Bob is red."},
                                {"id": "r", "context": RULES, "question": "Is the following statement true or false? The cat is red.",
                                 "options": ["A) True", "B) False"], "answer": "A"}]))
    mixed = subprocess.run([*command[:5], str(tmp_path / "o2.jsonl"), *command[6:]], capture_output=True, text=True, timeout=300, check=False)
    assert mixed.returncode == 0, mixed.stderr
    lines = {x["id"]: x for x in map(json.loads, (tmp_path / "o2.jsonl").read_text().splitlines())}
    assert lines["q"]["status"] == "undecided" and "item 1: missing field 'question'" in lines["q"]["message"] and not lines["q"]["read"]
    assert lines["r"]["correct"] and lines["r"]["formulas"]["conclusion"] == "Red(cat)"
    path.write_text("[{")
    bad = subprocess.run([*command[:5], str(tmp_path / "o3.jsonl")], capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "not JSON" in bad.stderr


def test_expert_iteration_keeps_the_translations_whose_proof_agrees_with_the_label(logic_tool):
    """A story's translations that prove its gold label become pairs (each premise, and the conclusion shown
    the premises' names); with the other label, the same translations teach nothing."""
    from tools.logic.fol import parse
    from tools.logic.iterate import lessons

    story = {"story_id": "cat", "premises": ["The cat is big.", "If something is big then it is red."],
             "conclusion": "The cat is red."}
    pairs, tally = lessons(logic_tool, {**story, "label": "True"}, samples=3)
    assert tally["proved"] == 1 and pairs, tally
    for pair in pairs:
        parse(pair.target)
        assert pair.source == "iterate" and pair.group == "cat"
    conclusions = [p for p in pairs if p.prompt.endswith("Sentence: The cat is red.\nFOL:\n")]
    assert conclusions and all(p.prompt.startswith("Names: ") for p in conclusions)
    assert all(p.target == "Red(cat)" for p in conclusions)
    wrong, tally = lessons(logic_tool, {**story, "label": "False"}, samples=3)
    assert wrong == [] and tally["proved"] == 0, tally


def test_expert_iteration_never_reads_a_held_out_story_or_a_story_of_the_settings_problems():
    from tools.logic.iterate import problems
    from tools.logic.pairs import held_out

    folio = Path("../shared/data/folio/folio-train.jsonl")
    rows = [json.loads(line) for line in folio.read_text().splitlines() if line.strip()]
    settings = [r for r in rows if not held_out("folio", str(r["story_id"]))][::4]  # bench/logic.py's folio-train
    chosen = problems(folio, 10_000)
    assert len(chosen) > 100 and len(problems(folio, 7)) == 7
    assert not any(held_out("folio", str(r["story_id"])) for r in chosen)
    assert not {r["story_id"] for r in chosen} & {r["story_id"] for r in settings}
