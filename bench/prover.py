"""Prover figures on FOLIO train's gold premise FOL: how much parses, and what E says of it and how fast.

    python bench/prover.py [--seconds 5]

For every FOLIO story (premise set; the shared file has no conclusion FOL, so labels cannot be
reproduced from gold FOL alone), each premise formula is parsed (tools/logic/fol.py), its symbols
checked for one arity each, and the parsed premises handed to E for a consistency check (the step
the logic tool runs before any vote). Reported: parse rate per formula and per story, arity
conflicts, E's statuses, seconds per call (median, p95, max), and what failed to parse, by reason.
Writes bench/results/prover.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools.logic.fol import FormulaError, parse, signature  # noqa: E402
from tools.logic.prover import consistent  # noqa: E402

FOLIO = HERE.parent.parent / "shared" / "data" / "folio" / "folio-train.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per prover call")
    args = parser.parse_args()
    stories: dict[int, list[str]] = {}
    for line in FOLIO.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        stories.setdefault(item["story_id"], item["premises-FOL"])
    formulas = parsed = 0
    failures: list[dict] = []
    statuses: Counter[str] = Counter()
    seconds: list[float] = []
    whole = conflicts = 0
    for story, texts in stories.items():
        nodes = []
        for text in texts:
            formulas += 1
            try:
                nodes.append(parse(text))
                parsed += 1
            except FormulaError as e:
                failures.append({"story": story, "formula": text, "reason": str(e)})
        if len(nodes) < len(texts):
            continue
        whole += 1
        try:
            symbols: dict = {}
            for node in nodes:
                signature(node, out=symbols)
        except FormulaError as e:
            conflicts += 1
            failures.append({"story": story, "formula": "(premise set)", "reason": str(e)})
            continue
        call = consistent(nodes, args.seconds)
        statuses[call.status] += 1
        seconds.append(call.seconds)
    seconds.sort()
    report = {
        "machine": f"{platform.machine()}, 2 cores", "prover": "E 2.6 (Debian eprover), --auto, "
        f"{args.seconds:g} s CPU per call", "stories": len(stories), "formulas": formulas,
        "formulas_parsed": round(parsed / formulas, 4), "stories_fully_parsed": whole,
        "stories_with_arity_conflicts": conflicts, "consistency_status": dict(statuses),
        "seconds_per_call": {"median": statistics.median(seconds), "p95": seconds[int(0.95 * (len(seconds) - 1))],
                             "max": seconds[-1]} if seconds else {},
        "failures_by_kind": Counter("does not parse" if f["reason"].startswith("does not parse") else "arity conflict"
                                    for f in failures).most_common(),
        "failures": failures,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "failures"}, indent=1))
    (HERE / "results" / "prover.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print("wrote bench/results/prover.json")


if __name__ == "__main__":
    main()
