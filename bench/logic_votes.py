"""Vote rules compared on the same translations: one answer file of `bench/logic.py` (proofs first), recounted.

    python bench/logic_votes.py bench/out/logic-folio-train_pf5.jsonl [--out FILE]

With proofs first (the default), an "Unknown" majority never settles early, so each line holds every sample of its vote
(a sample that failed a check: null). Each rule is recounted on those samples, in the order they were drawn:
- plurality: the tool's default (a majority's worth agreeing settles early; otherwise the plurality of all);
- proofs first: True or False outvotes Unknown, which wins only when no sample proves either way;
- proofs first, two agreeing: the same, but a proof outvotes Unknown only when two samples agree on it.
Each rule on the first 3, 5, 7 and 10 samples (as many as the run drew), counted by the tool's own `vote`. A tie is counted as
undecided; the tool would draw a fresh vote, so these are close estimates, not runs. Writes bench/results/logic_votes.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools.logic.tool import vote  # noqa: E402


def recount(verdicts: list[str | None], samples: int, proofs_first: bool, least: int = 1) -> str | None:
    """The answer of the first `samples` samples as the tool draws them: a majority's worth first, settled when
    they agree, then the rest."""
    majority = samples // 2 + 1
    return (vote(verdicts[:majority], needed=majority, proofs_first=proofs_first, least=least)
            or vote(verdicts[:samples], proofs_first=proofs_first, least=least))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "logic_votes.json")
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.answers.read_text().splitlines() if line.strip()]
    lines = [line for line in lines if line["gold"] is not None]
    report = {"file": str(args.answers), "n": len(lines), "rules": {}}
    drawn = max(len(line["verdicts"]) for line in lines)
    rules = {"plurality": (False, 1), "proofs first": (True, 1), "proofs first, two agreeing": (True, 2)}
    for samples in [n for n in (3, 5, 7, 10) if n <= drawn]:
        for rule, (proofs_first, least) in rules.items():
            answers = [recount(line["verdicts"], samples, proofs_first, least) for line in lines]
            per_label = {}
            for label in sorted({line["gold"] for line in lines}):
                group = [a == line["gold"] for a, line in zip(answers, lines) if line["gold"] == label]
                per_label[label] = round(sum(group) / len(group), 4)
            name = f"{rule}, {samples} samples"
            report["rules"][name] = {"accuracy": round(sum(a == line["gold"] for a, line in zip(answers, lines)) / len(lines), 4),
                                     "per_label": per_label, "undecided": answers.count(None)}
            print(f"{name}: {json.dumps(report['rules'][name])}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
