"""Translator training data: ProofWriter to FOL and logical deduction to ASP by rules, kept only where the
solver reproduces the gold answer.

    python bench/logic_data.py [--seconds 5] [--limit N]

Each ProofWriter problem (train and dev, depth 5, open world) is translated sentence by sentence
with tools/logic/templates.py, parsed, and decided by E (True / False / Unknown). A problem is kept
as a training example only when the prover reproduces the gold label; the rest are counted by why:
a sentence outside the rules, or a label the prover does not reproduce (ProofWriter's gold comes
from forward chaining only, so a conclusion that needs a contrapositive is "Unknown" there and
provable in first-order logic). Writes bench/out/proofwriter_fol_<split>.jsonl (the kept examples:
sentences, formulas, label, and the translator's prompt and target in tools/logic/translate.py's
format) and bench/results/logic_data.json.

BIG-bench logical deduction (train) is translated the same way into an answer-set program
(tools/logic/templates.py `ordering`) and solved with clingo; a puzzle is kept when exactly one
option holds in every answer set and it is the gold one (bench/out/deduction_asp_train.jsonl).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools.logic.asp import entailed  # noqa: E402
from tools.logic.fol import parse  # noqa: E402
from tools.logic.prover import decide  # noqa: E402
from tools.logic.templates import Untranslatable, asked, context, ordering, sentences, statement  # noqa: E402
from tools.logic.translate import Problem, Translation, prompt, read, render  # noqa: E402

PROOFWRITER = HERE.parent.parent / "shared" / "data" / "proofwriter"
DEDUCTION = HERE.parent.parent / "shared" / "data" / "logical_deduction" / "train.json"
LABELS = {"A": "True", "B": "False", "C": "Unknown"}


def convert(split: str, limit: int | None, seconds: float) -> dict:
    items = json.loads((PROOFWRITER / f"{split}.json").read_text())[:limit]
    out = HERE / "out" / f"proofwriter_fol_{split}.jsonl"
    out.parent.mkdir(exist_ok=True)
    outcome: Counter[str] = Counter()
    disagreements: Counter[str] = Counter()
    times: list[float] = []
    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as sink:
        for item in items:
            gold = LABELS[item["answer"]]
            try:
                premises, conclusion = context(item["context"]), statement(item["question"])
            except Untranslatable:
                outcome["untranslatable"] += 1
                continue
            verdict = decide([parse(p) for p in premises], parse(conclusion), seconds)
            times.append(sum(c.seconds for c in verdict.calls))
            if verdict.label != gold:
                outcome["prover_disagrees"] += 1
                disagreements[f"gold {gold}, prover {verdict.label}"] += 1
                continue
            outcome["kept"] += 1
            problem = Problem(premises=sentences(item["context"]), conclusion=asked(item["question"]))
            target = render(Translation(premises=premises, conclusion=conclusion))
            read(target, problem)  # the target is what the translator must write, in its own format
            sink.write(json.dumps({"id": item["id"], "context": item["context"], "question": item["question"],
                                   "premises": premises, "conclusion": conclusion, "label": gold,
                                   "prompt": prompt(problem), "target": target}, ensure_ascii=False) + "\n")
    return {"n": len(items), **dict(outcome), "kept_share": round(outcome["kept"] / len(items), 4),
            "disagreements": dict(disagreements), "prover_seconds_per_problem": {
                "median": round(statistics.median(times), 3), "max": round(max(times), 3)} if times else {},
            "seconds": round(time.perf_counter() - started, 1), "written": str(out.relative_to(HERE.parent))}


def convert_deduction(limit: int | None, seconds: float) -> dict:
    items = json.loads(DEDUCTION.read_text())[:limit]
    out = HERE / "out" / "deduction_asp_train.jsonl"
    outcome: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    times: list[float] = []
    with out.open("w", encoding="utf-8") as sink:
        for item in items:
            try:
                program, conditions = ordering(item["context"], item["options"])
            except Untranslatable as e:
                outcome["untranslatable"] += 1
                reasons[str(e).split("'")[0]] += 1
                continue
            started = time.perf_counter()
            held = [letter for letter, condition in conditions.items() if entailed(program, condition, seconds)]
            times.append(time.perf_counter() - started)
            if held != [item["answer"]]:
                outcome["solver_disagrees"] += 1
                continue
            outcome["kept"] += 1
            sink.write(json.dumps({"id": item["id"], "context": item["context"], "options": item["options"],
                                   "program": program, "conditions": conditions, "answer": item["answer"]}) + "\n")
    return {"n": len(items), **dict(outcome), "kept_share": round(outcome["kept"] / len(items), 4),
            "untranslatable_reasons": dict(reasons),
            "solver_seconds_per_puzzle": {"median": round(statistics.median(times), 4), "max": round(max(times), 4)} if times else {},
            "written": str(out.relative_to(HERE.parent))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per prover call")
    parser.add_argument("--limit", type=int, help="problems per split (default: all)")
    args = parser.parse_args()
    report = {"machine": "x86_64, 2 cores", "prover": f"E 2.6, {args.seconds:g} s CPU per call; clingo 5.8",
              "proofwriter": {}}
    for split in ("train", "dev"):
        report["proofwriter"][split] = convert(split, args.limit, args.seconds)
        print(f"{split}: {json.dumps(report['proofwriter'][split])}", flush=True)
    report["logical_deduction"] = convert_deduction(args.limit, args.seconds)
    print(f"logical deduction: {json.dumps(report['logical_deduction'])}", flush=True)
    (HERE / "results" / "logic_data.json").write_text(json.dumps(report, indent=2) + "\n")
    print("wrote bench/results/logic_data.json")


if __name__ == "__main__":
    main()
