"""Expert iteration for the program proposer (CodeIt's loop): the proposer samples programs for training tasks,
the sandbox runs them, and what the samples and the search teach becomes the next round's training pairs.

For each value task (the SyGuS problems outside the benchmark's held-out half, and generated tasks whose
labels are not used), `samples` programs are drawn from the proposer as the tool draws them, and run:

- solved: a sample reproduces every example -> (the task's prompt, the smallest such sample);
- hindsight: a sample runs on every input and explains other outputs -> the task it does solve (the same
  inputs, its outputs) paired with it, at most `HINDSIGHT` per task;
- refinement: no sample fits, the bottom-up search finds a program -> (the prompt with the closest sample and
  its first wrong call, `prompt.tried`, as the tool shows it in its later rounds; the search's program), and
  the plain prompt with the search's program.

`reasoner distill induce --rounds N` trains, gathers experience with what it trained, and trains again on
the first pairs and the experience (tools/registry.py `Training.experience`).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tools.base import Pair
from tools.experience import gather
from tools.induce import bottom_up
from tools.induce.pairs import generated_value_task, held_out, sygus_tasks
from tools.induce.prompt import MAX_PROMPT, program_prompt, tried
from tools.induce.task import Example, InduceTask

HINDSIGHT = 2  # relabelled tasks kept per task
SEARCH_SECONDS = 2.0


def tasks(data: Path, generated: int, seed: int) -> list[InduceTask]:
    """The SyGuS problems outside the held-out half, then `generated` generated value tasks."""
    found = [t for t in sygus_tasks(data / "sygus-strings" / "pbe_slia_2019.json") if not held_out("sygus", t.name)]
    rng = random.Random(10_000 + seed)
    index = 0
    while generated > 0 and index < generated * 4:
        made = generated_value_task(rng, 1_000_000 + index)
        index += 1
        if made:
            found.append(made[0].model_copy(update={"name": f"iterate-{seed}-{index}"}))
            generated -= 1
    return found


def lessons(tool, task: InduceTask) -> tuple[list[Pair], Counter]:
    """What one task teaches: the pairs from the proposer's samples (run in the sandbox) and the search."""
    tally: Counter = Counter()
    prompt = program_prompt(task)
    if prompt is None:
        return [], Counter({"too long": 1})
    pool = tool.propose(task, [], []).candidates
    if not pool:
        return [], Counter({"no samples": 1})
    result = tool.execute(task, pool[0])
    group = f"iterate-{task.name}"
    samples = [c for c in result.checked if c.program.by == "llm"]
    fitting = [c for c in samples if all(c.passed)]
    if fitting:
        best = min(fitting, key=lambda c: c.size)
        tally["solved"] += 1
        return [Pair(prompt=prompt, target=best.program.code, source="iterate-solved", group=group)], tally
    pairs = []
    seen = {json.dumps([ex.output for ex in task.train])}
    for c in samples:
        outputs = c.outputs
        key = json.dumps(outputs)
        if any(e is not None for e in c.errors) or key in seen or len({json.dumps(o) for o in outputs}) < 2 \
                or outputs == [ex.inputs[0] for ex in task.train] or len(pairs) >= HINDSIGHT:
            continue
        seen.add(key)
        relabelled = task.model_copy(update={"train": [Example(inputs=ex.inputs, output=o) for ex, o in zip(task.train, outputs)]})
        shown = program_prompt(relabelled)
        if shown and len(shown) <= MAX_PROMPT:
            pairs.append(Pair(prompt=shown, target=c.program.code, source="iterate-hindsight", group=group))
            tally["hindsight"] += 1
    found = bottom_up.search(task, SEARCH_SECONDS)
    if found:
        tally["refined"] += 1
        pairs.append(Pair(prompt=prompt, target=found[0], source="iterate-search", group=group))
        closest = result.checked[0] if result.checked else None
        if closest is not None:
            refine = program_prompt(task, [tried(task, closest.program.code, closest.outputs, closest.passed)])
            if refine and len(refine) <= MAX_PROMPT:
                pairs.append(Pair(prompt=refine, target=found[0], source="iterate-refine", group=group))
    else:
        tally["unsolved"] += 1
    return pairs, tally


def experience(adapter: Path, data: Path, seed: int, *, generated: int = 400, samples: int = 6, concurrency: int = 4,
               log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """One round's experience with the proposer at `adapter`: pairs, and what they are."""
    from agent.assemble import build_tool, open_backend

    chosen = tasks(data, generated, seed)
    log(f"experience: sampling {samples} programs for each of {len(chosen)} value tasks with {adapter}")
    with open_backend() as backend:
        tool = build_tool(backend, "induce", adapter=adapter, samples=samples, use_enumerator=False, temperature=0.8)
        if tool.llm is None:
            raise ValueError(f"{adapter} is not a program proposer")
        pairs, what = gather(chosen, lambda t: lessons(tool, t), concurrency=concurrency, unit="tasks", log=log, every=100)
    return pairs, {**what, "samples": samples}
