"""The program proposer's training pairs: examples in, the program that explains them out.

Its pairs are `program_prompt(task)` → one expression in the primitives (tools/induce/grid.py for
grids, tools/induce/strings.py for values), from four sources:

- generated grid tasks: a random primitive (or two composed) applied to random rows drawn in the
  shapes that primitive acts on (objects, a pivot cell, pairs of cells, a pattern and its copies,
  noise) or to small random 2D grids; labelled with the enumerator's first fitting program, so that
  equal behaviour has one spelling;
- generated value tasks: random compositions of the string primitives on random names, phone
  numbers, dates, addresses and codes, labelled with the bottom-up search's smallest program;
- mined: the enumerator's (or the bottom-up search's) solutions to the shared 1D-ARC, ARC and SyGuS
  tasks outside the benchmark's held-out part, the 1D-ARC ones also with their colours permuted.

The held-out parts (`held_out`) are what bench/induce.py reports on, and are never trained on.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kg.questions import is_held_out
from tools.base import Pair
from tools.induce import bottom_up, enumerator
from tools.induce.prompt import program_prompt, run_expressions
from tools.induce.task import Example, InduceTask, TaskError, from_sygus, load

MAX_PROMPT = 1200  # characters (a digit is a token): longer examples are not trained on
HELD_OUT = {"1d-arc": 0.3, "arc": 0.3, "sygus": 0.5}  # share of each benchmark reported on and never trained on
VARIANT = re.compile(r"(_short|-long-repeat|-long|_small|-repeat)$")


def held_out(source: str, name: str) -> bool:
    """Tasks of `source` set aside for the benchmark. SyGuS variants of one problem (short, long, repeat)
    fall on the same side; the first task of each 1D-ARC family, which the grid primitives were designed
    from, is never on the held-out side."""
    if source == "1d-arc" and name.endswith("_0"):
        return False
    key = VARIANT.sub("", name.removesuffix(".sl")) if source == "sygus" else name
    return is_held_out(f"{source}:{key}", HELD_OUT[source])


def sygus_tasks(path: Path) -> list[InduceTask]:
    """SyGuS PBE problems as value tasks, a quarter of each example list (at least one) held out as its test."""
    from tools.induce.task import from_dict

    tasks = []
    for problem in json.loads(path.read_text()):
        try:
            converted = from_sygus(problem, held_out=max(1, len(problem["examples"]) // 4))
        except TaskError:
            continue
        tasks.append(from_dict(converted, problem["name"], problem["name"]))
    return tasks


# ---- generated grid tasks --------------------------------------------------------------------------

STYLES = {
    "shift": "objects", "move_to": "pivot", "mirror": "pivot", "extend_to": "pivot", "keep_largest": "noise",
    "drop_singles": "noise", "majority": "mixed", "hollow": "objects", "reverse_objects": "headed",
    "fill_pairs": "pairs", "stamp": "stamp", "recolor": "objects", "recolor_size": "sizes", "recolor_parity": "sizes",
    "recolor_largest": "sizes", "flip_h": "objects", "flip_v": "2d", "transpose": "2d", "rot90": "2d", "rot180": "2d",
    "rot270": "2d", "crop": "2d", "scale": "2d", "tile": "2d",
}


def _row(rng: random.Random, style: str, colours: list[int], pivot: int) -> list[int]:
    n = rng.randint(10, 32)
    row = [0] * n
    base = colours[0]
    if style == "pivot":
        p = rng.randint(2, n - 3)
        row[p] = pivot
        size = rng.randint(1, 8)
        left = rng.random() < 0.5
        room = p - 1 if left else n - p - 2
        size = max(1, min(size, room - 1))
        gap = rng.randint(1, max(1, room - size))
        start = p - gap - size if left else p + gap + 1
        for i in range(max(0, start), min(n, start + size)):
            if row[i] == 0:
                row[i] = base
        return row
    if style == "pairs":
        i = rng.randint(0, 3)
        while i < n - 3:
            j = i + rng.randint(2, 9)
            if j >= n:
                break
            row[i] = row[j] = rng.choice(colours)
            i = j + rng.randint(2, 5)
        return row
    if style == "stamp":
        pattern = [base] * 3 if rng.random() < 0.7 else [base, rng.choice(colours), base]
        start = rng.randint(0, 3)
        row[start:start + 3] = pattern
        i = start + 3 + rng.randint(3, 5)
        while i < n - 2:
            row[i] = rng.choice(colours)
            i += rng.randint(4, 7)
        return row
    if style == "2d":
        return row
    i = rng.randint(0, 4)
    while i < n - 1:
        size = rng.randint(1, 4) if style == "sizes" else rng.randint(1, 9)
        colour = base if style in ("sizes", "noise") else rng.choice(colours)
        for k in range(i, min(n, i + size)):
            row[k] = colour
        if style == "headed" and size > 1:
            row[i] = colours[1]
        if style == "mixed":
            for k in range(i, min(n, i + size)):
                if rng.random() < 0.15:
                    row[k] = rng.choice(colours[1:])
        i += size + rng.randint(1, 5)
        if style in ("noise", "headed", "mixed") and rng.random() < 0.5:
            break
    return row


def _grid_2d(rng: random.Random, colours: list[int]) -> list[list[int]]:
    h, w = rng.randint(2, 5), rng.randint(2, 5)
    return [[rng.choice(colours) if rng.random() < 0.5 else 0 for _ in range(w)] for _ in range(h)]


def _expression(rng: random.Random, name: str, pivot: int, colours: list[int]) -> str:
    """A call of the primitive `name` on `x` with random arguments."""
    def other() -> list[int]:
        return [c for c in range(1, 10) if c != colours[0]]
    arguments = {
        "shift": lambda: [rng.choice([1, 2, 3, -1, -2, -3])],
        "move_to": lambda: [pivot], "mirror": lambda: [pivot], "extend_to": lambda: [pivot],
        "recolor": lambda: [{colours[0]: rng.choice(other())}],
        "recolor_size": lambda: [dict(zip(range(1, 5), rng.sample(range(1, 10), 4)))],
        "recolor_parity": lambda: rng.sample(other(), 2),
        "recolor_largest": lambda: [rng.choice(other())],
        "scale": lambda: [rng.choice([2, 3])],
        "tile": lambda: [rng.choice([1, 2]), rng.choice([2, 3])],
    }
    return f"{name}({', '.join(['x', *map(str, arguments.get(name, list)())])})"


def generated_grid_task(rng: random.Random, index: int) -> tuple[InduceTask, str] | None:
    name = rng.choice(list(STYLES))
    style = STYLES[name]
    colours = rng.sample(range(1, 10), 4)
    pivot = rng.choice([c for c in range(1, 10) if c not in colours[:2]])
    expression = _expression(rng, name, pivot, colours)
    if style != "2d" and name not in ("recolor", "recolor_size") and rng.random() < 0.2:
        expression = expression.replace("(x", "(" + _expression(rng, rng.choice(["shift", "flip_h", "hollow", "reverse_objects"]), pivot, colours), 1)
    grids = [_grid_2d(rng, colours) if style == "2d" else [_row(rng, style, colours, pivot)] for _ in range(rng.randint(3, 4))]
    results = run_expressions("grid", 1, [expression], [[g] for g in grids])[0]
    if any(r.error is not None for r in results):
        return None  # a composition that does not apply to these inputs: draw another task
    examples = [Example(inputs=[g], output=r.value) for g, r in zip(grids, results)]
    if all(ex.output == ex.inputs[0] for ex in examples):
        return None
    task = InduceTask(name=f"generated-{index}", kind="grid", train=examples)
    return task, canonical_grid(task) or expression


def canonical_grid(task: InduceTask) -> str | None:
    """The enumerator's first program that fits every pair (run in the sandbox, a depth at a time)."""
    for depth in (1, 2):
        expressions = enumerator.expressions(task, depth)
        runs = run_expressions("grid", 1, expressions, [ex.inputs for ex in task.train])
        for expression, results in zip(expressions, runs):
            if all(r.error is None and r.value == ex.output for r, ex in zip(results, task.train)):
                return expression
    return None


# ---- generated value tasks -----------------------------------------------------------------------

FIRST = ["Nancy", "Andrew", "Jan", "Maria", "Lee", "Omar", "Priya", "Chen", "Sofia", "Luca", "Ana", "Kofi", "Mei", "Ivan"]
LAST = ["FreeHafer", "Cencici", "Kotas", "Garcia", "Smith", "Okafor", "Tanaka", "Rossi", "Novak", "Silva", "Brown", "Kim"]
WORDS = ["apple", "river", "stone", "cloud", "green", "table", "north", "light", "paper", "music", "glass", "field"]


def _value_input(rng: random.Random, kind: str) -> str:
    d = lambda k: "".join(rng.choice("0123456789") for _ in range(k))  # noqa: E731
    if kind == "name":
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if kind == "phone":
        return rng.choice([f"{d(3)}-{d(3)}-{d(4)}", f"+{d(1)} {d(3)}-{d(3)}-{d(4)}", f"({d(3)}) {d(3)}-{d(4)}"])
    if kind == "date":
        return rng.choice([f"{d(4)}-{d(2)}-{d(2)}", f"{d(2)}/{d(2)}/{d(4)}"])
    if kind == "email":
        return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}@{rng.choice(WORDS)}.com"
    if kind == "path":
        return "/".join(rng.sample(WORDS, rng.randint(2, 4))) + rng.choice([".txt", ".csv", ".py"])
    if kind == "code":
        return f"{rng.choice(['AB', 'XK', 'QT', 'MN'])}-{d(rng.randint(2, 5))}"
    return " ".join(rng.sample(WORDS, rng.randint(2, 5)))


def _value_expression(rng: random.Random, seps: list[str], depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return "x0"
    sep = repr(rng.choice(seps))
    inner = _value_expression(rng, seps, depth - 1)
    choice = rng.choice(["before", "after", "before_last", "after_last", "concat", "concat2", "replace", "replace_all",
                         "upper", "lower", "at", "substr"])
    arguments = {
        "before": lambda: [inner, sep], "after": lambda: [inner, sep], "before_last": lambda: [inner, sep],
        "after_last": lambda: [inner, sep], "concat": lambda: [inner, sep], "concat2": lambda: [sep, inner],
        "replace": lambda: [inner, sep, repr(rng.choice(seps + ['']))],
        "replace_all": lambda: [inner, sep, repr(rng.choice(seps + ['']))],
        "at": lambda: [inner, rng.randint(0, 2)],
        "substr": lambda: [inner, rng.randint(0, 2), rng.randint(1, 3)],
    }.get(choice, lambda: [inner])()
    return f"{choice.removesuffix('2')}({', '.join(map(str, arguments))})"


def generated_value_task(rng: random.Random, index: int) -> tuple[InduceTask, str] | None:
    kind = rng.choice(["name", "phone", "date", "email", "path", "code", "words"])
    inputs = [_value_input(rng, kind) for _ in range(rng.randint(3, 5))]
    seps = sorted({c for t in inputs for c in t if c in bottom_up.PUNCTUATION}) or [" "]
    expression = _value_expression(rng, seps, rng.randint(1, 3))
    results = run_expressions("values", 1, [expression], [[t] for t in inputs])[0]
    if any(r.error is not None for r in results):
        return None
    outputs = [r.value for r in results]
    if len(set(outputs)) < 2 or outputs == inputs or not all(outputs):
        return None
    task = InduceTask(name=f"generated-{index}", kind="values", train=[Example(inputs=[t], output=o) for t, o in zip(inputs, outputs)])
    found = bottom_up.search(task, 0.5)
    return task, found[0] if found else expression


# ---- the mixture -----------------------------------------------------------------------------------


def _permuted(task: InduceTask, rng: random.Random) -> InduceTask:
    colours = list(range(1, 10))
    shuffled = rng.sample(colours, 9)
    table = {0: 0, **dict(zip(colours, shuffled))}
    recolour = lambda g: [[table[c] for c in row] for row in g]  # noqa: E731
    return task.model_copy(update={"train": [Example(inputs=[recolour(ex.inputs[0])], output=recolour(ex.output)) for ex in task.train]})


def training_pairs(data: Path, *, generated: int = 3000, permutations: int = 3, seed: int = 0,
                   log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    rng = random.Random(seed)
    pairs: list[Pair] = []
    tally: Counter = Counter()
    for index in range(generated * 3):
        if tally["generated-grid"] >= generated and tally["generated-values"] >= generated:
            break
        maker, source = ((generated_grid_task, "generated-grid") if index % 2 == 0 else (generated_value_task, "generated-values"))
        if tally[source] >= generated:
            continue
        made = maker(rng, index)
        if made:
            task, label = made
            pairs.append(Pair(prompt=program_prompt(task) or "", target=label, source=source, group=f"{source}-{index}"))
            tally[source] += 1
    log(f"generated: {dict(tally)}")
    for source, folder in (("1d-arc", data / "1d-arc"), ("arc", data / "arc" / "training")):
        for task in load(folder):
            if held_out(source, task.name):
                tally[f"{source} held out"] += 1
                continue
            variants = [task] + ([_permuted(task, rng) for _ in range(permutations)] if source == "1d-arc" else [])
            for variant in variants:
                label = canonical_grid(variant)
                if label:
                    pairs.append(Pair(prompt=program_prompt(variant) or "", target=label, source=source, group=f"{source}-{task.name}"))
                    tally[source] += 1
                else:
                    tally[f"{source} unsolved"] += 1
        log(f"{source}: {tally[source]} pairs")
    for task in sygus_tasks(data / "sygus-strings" / "pbe_slia_2019.json"):
        if held_out("sygus", task.name):
            tally["sygus held out"] += 1
            continue
        found = bottom_up.search(task, 3.0)
        if found:
            pairs.append(Pair(prompt=program_prompt(task) or "", target=found[0], source="sygus", group=f"sygus-{task.name}"))
            tally["sygus"] += 1
        else:
            tally["sygus unsolved"] += 1
    log(f"sygus: {tally['sygus']} pairs")
    long = [p for p in pairs if not p.prompt or len(p.prompt) > MAX_PROMPT]  # "": the examples do not fit a prompt
    pairs = [p for p in pairs if p.prompt and len(p.prompt) <= MAX_PROMPT]
    for p in long:
        tally[p.source] -= 1
        tally[f"{p.source} too long"] += 1
    return pairs, {"pairs": {k: v for k, v in tally.items() if " " not in k}, "left_out": {k: v for k, v in tally.items() if " " in k}}


def card_intro(card) -> str:
    """The card's title, and its account of the adapter and its data (agent/training.py adds the run and validation)."""
    pairs = ", ".join(f"{k}: {v:,}" for k, v in card.data["pairs"].items())
    return f"""# Distilled program proposer

A LoRA adapter (rank {card.config.lora_rank}) on {card.base_model}, trained to write the program that explains
input/output examples (`in: …\\nout: …` grid rows, or `f(…) = …` calls, then `program:\\n`) as one expression in
the primitives of tools/induce/grid.py or tools/induce/strings.py. Decoding is grammar-constrained at inference.

- Data: {pairs} pairs ({card.data['train']:,} trained on, {card.data['validation']:,} validation pairs held out by
  this run). Left out: {json.dumps(card.data['left_out'])}. The benchmark's held-out tasks (1D-ARC and ARC 30%,
  SyGuS 50% of problems, by name hash) were never used.
"""


def pairs(data: Path, generated: int, seed: int, log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """The training pairs from the shared data folder (1d-arc/, arc/training/, sygus-strings/) and `generated`
    generated tasks of each kind."""
    for sub in ("1d-arc", "arc/training", "sygus-strings/pbe_slia_2019.json"):
        if not (data / sub).exists():
            raise FileNotFoundError(f"{data / sub} does not exist")
    return training_pairs(data, generated=generated, seed=seed, log=log)
