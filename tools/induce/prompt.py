"""What the LLM is shown and what it may write: examples in, one program out.

Grid tasks: each grid is written as its rows of digits (`|` between rows), and the program is one
expression over the input grid `x` in the primitives of tools/induce/grid.py, decoded under a grammar
of those primitives (GRID_GBNF), so every sample parses and names only primitives that exist. Value
tasks: the examples are written as calls, `f("ab", 2) = "abab"`, and the program is one expression
over the arguments `x0, x1, ...` in the primitives of tools/induce/strings.py (VALUE_GBNF).
"""

from __future__ import annotations

import json
from pathlib import Path

import prompts
from tools import sandbox
from tools.induce.task import InduceTask

GRID_PRELUDE = (Path(__file__).parent / "grid.py").read_text()
VALUE_PRELUDE = (Path(__file__).parent / "strings.py").read_text()

UNARY = ["keep_largest", "drop_singles", "majority", "hollow", "reverse_objects", "fill_pairs", "stamp",
         "flip_h", "flip_v", "transpose", "rot90", "rot180", "rot270", "crop"]
WITH_NUMBER = ["shift", "move_to", "mirror", "extend_to", "recolor_largest", "scale"]
GRID_GBNF = prompts.render("induce_grid.gbnf", unary=prompts.choice(UNARY, longest_first=False), withnumber=prompts.choice(WITH_NUMBER, longest_first=False))


VALUE_FUNCTIONS = ["concat", "before", "after", "before_last", "after_last", "replace", "replace_all", "upper", "lower",
                   "at", "substr", "to_str", "length", "indexof", "to_int", "count", "plus", "minus", "times", "contains",
                   "prefixof", "suffixof", "equals", "ite", "reverse", "sort", "sum", "max", "min"]
VALUE_GBNF = prompts.render("induce_values.gbnf", name=prompts.choice(VALUE_FUNCTIONS))


def run_expressions(kind: str, arity: int, expressions: list[str], inputs: list[list]) -> list[list[sandbox.Result]]:
    """Each expression (over `x`, or `x0, x1, ...`) on each input, computed in the sandbox: one call for them all."""
    names = "x" if kind == "grid" else ", ".join(f"x{k}" for k in range(arity))
    prelude = GRID_PRELUDE if kind == "grid" else VALUE_PRELUDE
    batch = sandbox.run([f"def f({names}):\n    return {e}\n" for e in expressions], inputs, prelude=prelude)
    return [run.results for run in batch.runs]


def show_grid(g: list[list[int]]) -> str:
    return "|".join("".join(str(c) for c in row) for row in g)


SHOWN = 6  # examples the LLM is shown at most (the verifier runs every one)
MAX_PROMPT = 1800  # characters: within the served context of 2,048 tokens with room for the program (a digit is a token)


def program_prompt(task: InduceTask, feedback: list[str] | None = None) -> str | None:
    """The examples (as many of the first SHOWN as fit in MAX_PROMPT, at least two) and the last feedback (`tried`);
    None when even two examples do not fit."""
    lines = []
    for ex in task.train[:SHOWN]:
        if task.kind == "grid":
            shown = [f"in: {show_grid(ex.inputs[0])}", f"out: {show_grid(ex.output)}"]
        else:
            shown = [f"f({', '.join(json.dumps(a, ensure_ascii=False) for a in ex.inputs)}) = {json.dumps(ex.output, ensure_ascii=False)}"]
        if sum(len(line) + 1 for line in lines + shown) > MAX_PROMPT - 200:
            if len(lines) < (4 if task.kind == "grid" else 2):
                return None
            break
        lines += shown
    return "\n".join(lines + (feedback or [])[-1:]) + "\nprogram:\n"


TRIED = 200  # characters of feedback at most: the examples leave that much room


def tried(task: InduceTask, code: str, outputs: list, passed: list[bool]) -> str:
    """The closest program so far and what it got wrong, as the proposer is shown it in a later round (and
    trained on, tools/induce/iterate.py): `tried: P` then, for values, the first call it gets wrong."""
    line = f"tried: {code[:120]}"
    wrong = next((i for i, ok in enumerate(passed) if not ok), None)
    if wrong is None:
        return line
    if task.kind == "grid":
        return f"{line}\nright on {sum(passed)} of {len(passed)} examples"
    call = f"f({', '.join(json.dumps(a, ensure_ascii=False) for a in task.train[wrong].inputs)})"
    got = "an error" if outputs[wrong] is None else json.dumps(outputs[wrong], ensure_ascii=False)
    return f"{line}\nbut {call} = {got[:40]}, not {json.dumps(task.train[wrong].output, ensure_ascii=False)[:40]}"[:TRIED]


def program_grammar(task: InduceTask) -> str | None:
    return GRID_GBNF if task.kind == "grid" else VALUE_GBNF
