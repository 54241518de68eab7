"""MetaQA rebuilt by `reasoner train`: the same data as the shipped planners, scored beside them.

    python bench/metaqa_train.py train      # reasoner train on MetaQA dev -> bench/out/metaqa-train (about 30 min)
    python bench/metaqa_train.py score      # shipped and rebuilt planners on the held-out slice -> bench/results/metaqa_train.json

The shipped planners (tools/kg/planners/metaqa, metaqa-search) were trained by `reasoner distill` and
`reasoner train-search` on MetaQA dev minus the held-out slice (`kg.questions.is_held_out`, 20%);
`train` rebuilds both with one `reasoner train` on the same files, the same slice set aside, the
same steps and seed. `score` answers every held-out question with each of the four planners through
`reasoner batch` and reports micro-F1 and Hits@1 per hop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kg.questions import is_held_out, read_questions  # noqa: E402
from tools.kg.llm_planner import PLANNERS  # noqa: E402

METAQA = ROOT.parent / "shared" / "data" / "metaqa"
OUT = HERE / "out" / "metaqa-train"
REASONER = str(Path(sys.executable).parent / "reasoner")
FILES = [METAQA / f"qa_{hops}hop_dev.txt" for hops in (1, 2, 3)]


def train() -> None:
    questions = [arg for path in FILES for arg in ("--questions", str(path))]
    subprocess.run([REASONER, "train", "--kg", str(METAQA / "kb.txt"), *questions, "--out", str(OUT), "--holdout-share", "0.2",
                    "--validation-share", "0.05", "--steps", "400", "--overwrite"], check=True)


def score() -> dict:
    held_out = [q for path in FILES for q in read_questions(path) if is_held_out(q.id)]
    results: dict = {"questions": len(held_out), "card": json.loads((OUT / "train.json").read_text())}
    planners = {"shipped/llm": PLANNERS / "metaqa", "rebuilt/llm": OUT,
                "shipped/embedding": PLANNERS / "metaqa-search", "rebuilt/embedding": OUT / "search"}
    with tempfile.TemporaryDirectory() as tmp:
        slice_file = Path(tmp) / "held_out.jsonl"
        slice_file.write_text("".join(q.model_dump_json() + "\n" for q in held_out))
        for name, folder in planners.items():
            run = subprocess.run([REASONER, "batch", "--kg", str(METAQA / "kb.txt"), "--questions", str(slice_file),
                                  "--planner", str(folder), "--out", str(Path(tmp) / f"{name.replace('/', '-')}.jsonl"),
                                  "--traces", str(Path(tmp) / "traces.sqlite")], check=True, capture_output=True, text=True)
            summary = json.loads(run.stdout.strip().splitlines()[-1])
            results[name] = {key: summary[key] for key in ("n", "hits_at_1", "micro_f1", "questions_per_s", "1-hop", "2-hop", "3-hop")}
            print(name, json.dumps(results[name]), flush=True)
    path = HERE / "results" / "metaqa_train.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    {"train": train, "score": score}.get(sys.argv[1] if len(sys.argv) > 1 else "", lambda: sys.exit(__doc__))()
