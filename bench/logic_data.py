"""How much of the shared logic data the rules behind the translator's training targets cover, and the
ceiling they imply: on how many problems the solver, given rule-made formulas, reproduces the gold answer.

    python bench/logic_data.py [--seconds 5]

ProofWriter (train and dev, depth 5, open world) sentence by sentence into FOL, decided by E; logical
deduction (train) into ASP, solved with clingo; FOLIO's gold premise FOL in the translator's spelling.
ProofWriter's gold comes from forward chaining, so a conclusion that needs a contrapositive is
"Unknown" there and provable in first-order logic: those problems count as `prover disagrees`, and
bound what a perfect translation can score. Writes bench/results/logic_data.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools.logic.pairs import deduction_pairs, folio_pairs, proofwriter_pairs  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per prover call")
    args = parser.parse_args()
    report: dict = {"machine": "x86_64, 2 cores", "prover": f"E, {args.seconds:g} s per call; clingo"}
    for split in ("train", "dev"):
        items = json.loads((DATA / "proofwriter" / f"{split}.json").read_text())
        tally: Counter[str] = Counter()
        started = time.perf_counter()
        pairs = proofwriter_pairs(items, args.seconds, tally)
        kept = len({p.group for p in pairs})
        report[f"proofwriter_{split}"] = {"n": len(items), "kept": kept, "kept_share": round(kept / len(items), 4), **tally,
                                          "seconds": round(time.perf_counter() - started, 1)}
        print(f"proofwriter {split}: {json.dumps(report[f'proofwriter_{split}'])}", flush=True)
    items = json.loads((DATA / "logical_deduction" / "train.json").read_text())
    tally = Counter()
    kept = len({p.group for p in deduction_pairs(items, tally)})
    report["logical_deduction"] = {"n": len(items), "kept": kept, "kept_share": round(kept / len(items), 4), **tally}
    print(f"logical deduction: {json.dumps(report['logical_deduction'])}", flush=True)
    rows = [json.loads(line) for line in (DATA / "folio" / "folio-train.jsonl").read_text().splitlines() if line.strip()]
    tally = Counter()
    pairs = folio_pairs(rows, tally)
    report["folio"] = {"rows": len(rows), "premise_pairs": sum(p.kind == "premise" for p in pairs), **tally}
    print(f"folio: {json.dumps(report['folio'])}", flush=True)
    (HERE / "results" / "logic_data.json").write_text(json.dumps(report, indent=2) + "\n")
    print("wrote bench/results/logic_data.json")


if __name__ == "__main__":
    main()
