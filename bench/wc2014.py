"""WC2014 (World Cup 2014 squads): convert, train with `reasoner train`, score both planners on held-out questions.

    python bench/wc2014.py convert          # -> bench/out/wc2014/{train,test-1hop,test-2hop,test-conj}.jsonl
    python bench/wc2014.py train            # reasoner train on train.jsonl -> bench/out/wc2014/planner
    python bench/wc2014.py score [--planner DIR]  # both planners on the test files -> bench/results/wc2014.json

The split is by topic entity (25% of them held out, by name hash): no question about a held-out
entity (for a conjunctive question, a held-out pair) is trained on. Each unique question is scored
once against its full answer set (field 4 of the source lines); the source's gold path and subgraph
(fields 3 and 5) are never given to the system.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kg.questions import is_held_out  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014"
KB = DATA / "WC2014.txt"
OUT = HERE / "out" / "wc2014"
PLANNER = OUT / "planner"
SETS = {"1hop": ("WC-P1.txt", 1), "2hop": ("WC-P2.txt", 2), "conj": ("WC-C.txt", None)}
TEST_SHARE = 0.25
REASONER = [str(Path(sys.executable).parent / "reasoner")]


def convert() -> dict:
    """Unique questions with their full answer sets, split by topic entity into train and test files."""
    OUT.mkdir(parents=True, exist_ok=True)
    counts: dict = {}
    train: list[dict] = []
    for name, (source, hops) in SETS.items():
        seen: dict[str, dict] = {}
        for line_no, line in enumerate((DATA / source).read_text(encoding="utf-8").splitlines(), 1):
            fields = line.split("\t")
            question, answers = fields[0].strip(), [a for a in fields[3].split("/") if a]
            topic = fields[5].strip("/") if name == "conj" else fields[2].split("#")[0]
            record = seen.setdefault(question, {"id": f"{name}:{line_no}", "question": question, "answers": [],
                                                "hops": hops, "topic": topic})
            record["answers"] = list(dict.fromkeys(record["answers"] + answers))
        test = [r for r in seen.values() if is_held_out("wc2014:" + r.pop("topic"), TEST_SHARE)]
        train += [r for r in seen.values() if r not in test]
        _write(OUT / f"test-{name}.jsonl", test)
        counts[name] = {"questions": len(seen), "test": len(test)}
    _write(OUT / "train.jsonl", train)
    counts["train"] = len(train)
    print(json.dumps(counts))
    return counts


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def train(extra: list[str]) -> None:
    subprocess.run([*REASONER, "train", "--kg", str(KB), "--questions", str(OUT / "train.jsonl"), "--out", str(PLANNER),
                    "--overwrite", *extra], check=True)


def score(planner: Path) -> dict:
    """Micro-F1 and Hits@1 per test set for the LLM planner and the edge scorer, via `reasoner batch`."""
    results: dict = {"planner": str(planner), "card": json.loads((planner / "train.json").read_text())}
    for label, folder in (("llm", planner), ("embedding", planner / "search")):
        for name in SETS:
            out = OUT / f"answers-{label}-{name}.jsonl"
            out.unlink(missing_ok=True)
            run = subprocess.run([*REASONER, "batch", "--kg", str(KB), "--questions", str(OUT / f"test-{name}.jsonl"),
                                  "--planner", str(folder), "--out", str(out), "--traces", str(OUT / "traces.sqlite")],
                                 check=True, capture_output=True, text=True)
            summary = json.loads(run.stdout.strip().splitlines()[-1])
            keep = ("n", "hits_at_1", "micro_f1", "macro_f1", "exact_match", "questions_per_s", "status")
            results[f"{label}/{name}"] = {k: summary[k] for k in keep if k in summary}
            print(label, name, json.dumps(results[f"{label}/{name}"]), flush=True)
    path = HERE / "results" / "wc2014.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "convert"
    if command == "convert":
        convert()
    elif command == "train":
        train(sys.argv[2:])
    elif command == "score":
        score(Path(sys.argv[sys.argv.index("--planner") + 1]) if "--planner" in sys.argv else PLANNER)
    else:
        sys.exit(__doc__)
