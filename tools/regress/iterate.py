"""Expert iteration for the formula proposer (CodeIt's loop on data sets): the proposer samples forms for generated
data sets, their constants are fitted, and what the samples and the generator teach becomes the next round's pairs.

For each generated data set (new draws of tools/regress/pairs.py's generator; the form that made it is not used):

- solved: a sampled form reaches R² `SOLVED` on the training and the validation rows -> (the points, the
  simplest such form);
- hindsight: a sampled form, fitted, that explains other data -> the same inputs with its values instead
  (the data it does explain) paired with it, at most `HINDSIGHT` per data set;
- refinement: no sample fits, the generator finds a form that does -> (the points with the samples' best
  forms as the tool's next round shows them, `tried: FORM r2=…`; the generator's form), and the points alone
  with the generator's form.

`reasoner distill regress --rounds N` trains, gathers experience with what it trained, and trains again.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tools.base import Pair
from tools.experience import gather
from tools.regress import expr as E
from tools.regress.data import from_columns
from tools.regress.pairs import Problem, random_problem
from tools.regress.prompt import form_prompt
from tools.regress.tool import RegressResult, best_fits, tried

SOLVED = 0.9999
HINDSIGHT = 2


def problems(count: int, seed: int) -> list[Problem]:
    rng = random.Random(20_000 + seed)
    found: list[Problem] = []
    while len(found) < count:
        problem = random_problem(rng)
        if problem is not None:
            found.append(problem)
    return found


def _solving(result: RegressResult, by: str) -> list:
    return [v for v in result.fits if v.by == by and v.expression and v.r2_train is not None and v.r2_validation is not None
            and min(v.r2_train, v.r2_validation) >= SOLVED]


def lessons(sampler, searcher, problem: Problem, index: int) -> tuple[list[Pair], Counter]:
    """What one data set teaches: pairs from the proposer's samples (fitted) and the generator's forms."""
    frame = from_columns({**{n: [row[k] for row in problem.X] for k, n in enumerate(problem.names)}, problem.target: problem.y},
                         problem.target, seed=sampler.seed)
    group = f"iterate-{index}"
    prompt = form_prompt(frame.variables, frame.target, frame.X, frame.y, [], seed=sampler.seed)
    pool = sampler.propose(frame, [], []).candidates
    if not pool:
        return [], Counter({"no samples": 1})
    result = sampler.execute(frame, pool[0])
    fitting = _solving(result, "llm")
    if fitting:
        best = min(fitting, key=lambda v: v.complexity or 0)
        return [Pair(prompt=prompt, target=best.form, source="iterate-solved", group=group)], Counter({"solved": 1})
    pairs, tally, seen = [], Counter(), set()
    for v in result.fits:
        if v.by != "llm" or not v.expression or v.form in seen or len(pairs) >= HINDSIGHT:
            continue
        seen.add(v.form)
        try:
            values = E.predict(E.parse(v.expression, frame.variables), frame.variables, frame.X)
        except E.FormError:
            continue
        if not np.all(np.isfinite(values)) or np.std(values) < 1e-6 or np.max(np.abs(values)) > 1e5:
            continue
        shown = form_prompt(frame.variables, frame.target, frame.X, values, [], seed=sampler.seed)
        pairs.append(Pair(prompt=shown, target=v.form, source="iterate-hindsight", group=group))
        tally["hindsight"] += 1
    search = searcher.propose(frame, [], []).candidates
    found = _solving(searcher.execute(frame, search[0]), "generator") if search else []
    if not found:
        tally["unsolved"] += 1
        return pairs, tally
    tally["refined"] += 1
    target = min(found, key=lambda v: v.complexity or 0).form
    pairs.append(Pair(prompt=prompt, target=target, source="iterate-search", group=group))
    shown_tried = tried(best_fits(result))
    if shown_tried:
        refine = form_prompt(frame.variables, frame.target, frame.X, frame.y, shown_tried, seed=sampler.seed + 1)
        pairs.append(Pair(prompt=refine, target=target, source="iterate-refine", group=group))
    return pairs, tally


def experience(adapter: Path, data: Path, seed: int, *, count: int = 300, samples: int = 8, concurrency: int = 4,
               log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """One round's experience with the proposer at `adapter` on `count` generated data sets (`data` is unused:
    nothing of a benchmark is trained on)."""
    from agent.assemble import build_tool, open_backend

    chosen = problems(count, seed)
    log(f"experience: sampling {samples} forms for each of {len(chosen)} generated data sets with {adapter}")
    with open_backend() as backend:
        sampler = build_tool(backend, "regress", adapter=adapter, samples=samples, use_generator=False)
        searcher = build_tool(backend, "regress", adapter=adapter, use_llm=False)
        if sampler.llm is None:
            raise ValueError(f"{adapter} is not a formula proposer")
        pairs, what = gather(list(enumerate(chosen)), lambda item: lessons(sampler, searcher, item[1], item[0]),
                             concurrency=concurrency, unit="data sets", log=log)
    return pairs, {**what, "samples": samples}
