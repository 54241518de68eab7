"""Symbol settings compared on the same translations: every sample of an answer file of `bench/logic.py`, decided
again under each setting, and voted.

    python bench/logic_redecide.py bench/out/logic-folio-train_rec.jsonl bench/out/folio-train.jsonl [--out FILE]

The translator's sampling moves a FOLIO run by several points from one run to the next, so settings of the decision
step (how symbols are made one vocabulary before proving) are compared here on one set of translations: each
sample is checked and proved again as the tool does (`LogicTool`, without a model), once with relations as written
and once with relations read as properties (`properties`), and all of them vote as the tool votes (proofs first;
the vote's early stop and its fresh draws are the run's, not repeated). A line that was undecided has no samples,
and stays undecided. Writes bench/results/logic_redecide.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from tools.logic.files import read  # noqa: E402
from tools.logic.tool import Ensemble, LogicTool, Sample  # noqa: E402

SETTINGS = {"as written": {"properties": False}, "properties": {"properties": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", type=Path, help="an answer file of bench/logic.py (with its samples)")
    parser.add_argument("problems", type=Path, help="the problems it answered (bench/out/folio-heldout.jsonl, folio-train.jsonl)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per prover call, as the tool's default")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "logic_redecide.json")
    args = parser.parse_args()
    lines = {}  # by id: the last line (a resumed run answers its failed items again)
    for text in args.answers.read_text().splitlines():
        if text.strip():
            lines[json.loads(text)["id"]] = json.loads(text)
    lines = [line for line in lines.values() if line["gold"] is not None]
    if not any(line.get("samples") for line in lines):
        sys.exit(f"{args.answers} records no samples: run bench/logic.py again (its answer lines keep them since this script)")
    items = {item.id: item for item in read(args.problems)}
    tools = {name: LogicTool(llm=None, seconds=args.seconds, **options) for name, options in SETTINGS.items()}
    frames = {line["id"]: tools["as written"].frame(items[line["id"]].task) for line in lines}

    def decide(line: dict) -> dict[str, str | None]:
        """Each setting's answer: the line's samples checked, proved and voted as the tool does."""
        ensemble = Ensemble(mode="fol", samples=[Sample(**s) for s in line["samples"]], temperature=0.0)
        answers = {}
        for name, tool in tools.items():
            result = tool.execute(frames[line["id"]], ensemble) if ensemble.samples else None
            answers[name] = result.answers[0] if result and result.answers else None
        return answers

    with ThreadPoolExecutor(2) as pool:  # the prover runs in its own processes: two at a time on two cores
        decided = list(pool.map(decide, lines))
    report = {"answers": str(args.answers), "n": len(lines), "recorded": _score(lines, [line["answer"] for line in lines]),
              "settings": {}}
    for name in tools:
        report["settings"][name] = _score(lines, [d[name] for d in decided])
        print(f"{name}: {json.dumps(report['settings'][name])}", flush=True)
    names = list(tools)
    right = {name: [d[name] == line["gold"] for d, line in zip(decided, lines)] for name in names}
    report["paired"] = {"won": sum(b and not a for a, b in zip(right[names[0]], right[names[1]])),
                        "lost": sum(a and not b for a, b in zip(right[names[0]], right[names[1]]))}
    print(f"{names[1]} against {names[0]}: {json.dumps(report['paired'])}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def _score(lines: list[dict], answers: list[str | None]) -> dict:
    per_label = {}
    for label in sorted({line["gold"] for line in lines}):
        group = [a == line["gold"] for a, line in zip(answers, lines) if line["gold"] == label]
        per_label[label] = round(sum(group) / len(group), 4)
    return {"accuracy": round(sum(a == line["gold"] for a, line in zip(answers, lines)) / len(lines), 4),
            "right": sum(a == line["gold"] for a, line in zip(answers, lines)), "per_label": per_label,
            "undecided": answers.count(None)}


if __name__ == "__main__":
    main()
