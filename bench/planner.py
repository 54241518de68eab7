"""Planner figures on a held-out slice of MetaQA dev: plan accuracy, answer F1, start-up, plans/s.

    python bench/planner.py [--per-hop 400] [--examples 8] [--samples 4] [--name base]
    python bench/planner.py --distilled tools/kg/planners/metaqa --per-hop 1100 --samples 1 --name distilled

The base planner is the embedded model prompted with the schema and retrieved examples; a
distilled planner (`--distilled DIR`) is the embedded model with that adapter merged in, prompted
with the masked question alone.

The slice is the first `--per-hop` held-out questions of each hop file (`kg.questions.is_held_out`);
retrieval examples come only from the other questions. Mined plans are read from
bench/out/metaqa_dev_plans.jsonl (written by bench/kg_core.py; mined here if missing).
Prints the figures and writes bench/results/planner_<name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


from agent.llm.client import LLMClient  # noqa: E402
from agent.llm.server import SERVED_NAME, ModelServer  # noqa: E402
from agent.llm.weights import merged_model_dir  # noqa: E402
from kg.metrics import score_answers  # noqa: E402
from kg.mining import MinedPlan, mine_questions, read_mined_plans  # noqa: E402
from kg.paths import execute_plan  # noqa: E402
from kg.questions import is_held_out, read_questions  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.kg.llm_planner import ExampleIndex, LLMPlanner, distilled_format  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"
MINED = HERE / "out" / "metaqa_dev_plans.jsonl"


def load_mined(kg: KnowledgeGraph, metaqa: Path) -> list[MinedPlan]:
    if not MINED.is_file():
        print(f"mining plans into {MINED} (once)...", flush=True)
        questions = [q for hops in (1, 2, 3) for q in read_questions(metaqa / f"qa_{hops}hop_dev.txt")]
        MINED.parent.mkdir(exist_ok=True)
        MINED.write_text("".join(m.model_dump_json() + "\n" for m in mine_questions(kg, questions)))
    return read_mined_plans(MINED)


def held_out_slice(mined: list[MinedPlan], per_hop: int) -> list[MinedPlan]:
    return [m for hops in (1, 2, 3) for m in [m for m in mined if m.hops == hops and is_held_out(m.id) and m.plan][:per_hop]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metaqa", type=Path, default=METAQA)
    parser.add_argument("--distilled", type=Path, default=None, help="a distilled planner folder (adapter + planner.json)")
    parser.add_argument("--name", default="base")
    parser.add_argument("--per-hop", type=int, default=400)
    parser.add_argument("--examples", type=int, default=8, help="retrieved examples per prompt (0: none)")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    kg = KnowledgeGraph.load(args.metaqa / "kb.txt")
    mined = load_mined(kg, args.metaqa)
    test = held_out_slice(mined, args.per_hop)
    train = [m for m in mined if not is_held_out(m.id)]
    if args.distilled:
        args.examples = 0
    index = ExampleIndex.from_mined(train) if args.examples else None
    model = str(merged_model_dir(args.distilled)) if args.distilled else None
    compact = distilled_format(args.distilled) if args.distilled else None
    print(f"slice: {len(test)} held-out questions; {len(index.examples) if index else 0} distinct retrieval examples", flush=True)

    server = ModelServer(model).start()
    print(f"server healthy after {server.startup_seconds:.1f}s", flush=True)
    try:
        client = LLMClient(server.base_url, SERVED_NAME, max_retries=0, timeout=600)
        planner = LLMPlanner(kg, client, examples=index, k_examples=args.examples, samples=args.samples,
                          compact=compact)
        planner.plan(test[0].question)  # warm-up

        sequential = test[:: max(1, len(test) // 48)][:48]
        t0 = time.perf_counter()
        for m in sequential:
            planner.plan(m.question)
        rate_1 = len(sequential) / (time.perf_counter() - t0)
        print(f"concurrency 1: {rate_1:.2f} plans/s", flush=True)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(lambda m: planner.plan(m.question), test))
        rate_n = len(test) / (time.perf_counter() - t0)
        print(f"concurrency {args.concurrency}: {rate_n:.2f} plans/s", flush=True)
    finally:
        server.stop()

    figures: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "model": f"embedded SmolLM2-135M-Instruct + distilled adapter {args.distilled}" if args.distilled
        else "embedded SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized), schema + retrieved examples in the prompt",
        "slice": len(test), "examples_per_prompt": args.examples, "samples": args.samples,
        "startup_s": round(server.startup_seconds, 1),
        "plans_per_s": {"concurrency_1": round(rate_1, 2), f"concurrency_{args.concurrency}": round(rate_n, 2)},
        "per_hop": {},
    }
    base_slice = {m.id for m in held_out_slice(mined, 400)}  # the base planner's slice, for a like-for-like figure
    groups = ("1", "2", "3", "all") + (("all_in_base_slice",) if len(test) > len(base_slice) else ())
    for hops in groups:
        pairs = [(m, r) for m, r in zip(test, results)
                 if hops == "all" or str(m.hops) == hops or (hops == "all_in_base_slice" and m.id in base_slice)]
        exact = sum(bool(r.candidates) and r.candidates[0].plan == m.plan for m, r in pairs) / len(pairs)
        in_top = sum(any(c.plan == m.plan for c in r.candidates) for m, r in pairs) / len(pairs)
        answers = [(execute_plan(kg, [r.topic], r.candidates[0].plan).answers if r.candidates else [], m.answers) for m, r in pairs]
        mined_answers = [(execute_plan(kg, [m.topic], m.plan).answers, m.answers) for m, _ in pairs]
        figures["per_hop"][hops] = {
            "n": len(pairs),
            "plan_exact": round(exact, 4),
            "plan_in_candidates": round(in_top, 4),
            "answers": score_answers(answers).model_dump(),
            "answers_of_mined_plans": score_answers(mined_answers).model_dump(),
        }
        print(f"{hops}-hop: {json.dumps(figures['per_hop'][hops])}", flush=True)
    out = HERE / "results" / f"planner_{args.name}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
