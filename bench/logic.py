"""The logic tool on the held-out parts of the shared logic data: accuracy, latency and throughput.

    python bench/logic.py [--sets proofwriter,deduction,folio,folio-gold,folio-train] [--limit N] [--samples 5] [--update]
                          [--translator DIR] [--no-unify] [--no-symbols-first] [--no-proofs-first] [--closed-conclusions] [--properties] [--words] [--tag T] [--out FILE]

Held out (never trained on, see tools/logic/pairs.py): ProofWriter dev (600 problems, depth 5, open world);
the logical-deduction puzzles and FOLIO stories that `held_out` sets aside (20% by id hash). `folio-gold`
is `--gold-fol` on all of FOLIO train: the gold premise FOL, the conclusion translated (the shared file
has no conclusion FOL). `folio-train` is every fourth FOLIO problem that is not held out: stories whose
sentences the translator was trained on, for choosing the vote's settings without the held-out set. Each set
runs through the same code as `reasoner logic` (one translator server for the whole run) and writes its
answers to bench/out/logic-<set>.jsonl. Latency is measured one problem at a time on the first `--latency`
ProofWriter problems; throughput with `--concurrency` in flight.
Writes bench/results/logic.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.assemble import build_tool, open_backend  # noqa: E402
from agent.batch import run_tool  # noqa: E402
from agent.graph import Agent  # noqa: E402
from tools.logic.files import read  # noqa: E402
from tools.logic.pairs import folio_settings, held_out  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
OUT = HERE / "out"


def held_out_files() -> dict[str, tuple[Path, bool]]:
    """Each set's problem file (written here for the held-out parts) and whether it uses the gold FOL."""
    OUT.mkdir(exist_ok=True)
    deduction = [i for i in json.loads((DATA / "logical_deduction" / "train.json").read_text()) if held_out("deduction", i["id"])]
    (OUT / "deduction-heldout.json").write_text(json.dumps(deduction))
    rows = [json.loads(line) for line in (DATA / "folio" / "folio-train.jsonl").read_text().splitlines() if line.strip()]
    (OUT / "folio-heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows if held_out("folio", str(r["story_id"]))))
    (OUT / "folio-train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in folio_settings(rows)))
    return {"proofwriter": (DATA / "proofwriter" / "dev.json", False), "deduction": (OUT / "deduction-heldout.json", False),
            "folio": (OUT / "folio-heldout.jsonl", False),
            "folio-train": (OUT / "folio-train.jsonl", False), "folio-gold": (DATA / "folio" / "folio-train.jsonl", True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="proofwriter,deduction,folio,folio-gold")
    parser.add_argument("--limit", type=int, help="problems per set (default: all)")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=int, default=50, help="ProofWriter problems answered one at a time for latency")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "logic.json")
    parser.add_argument("--update", action="store_true", help="keep the other sets' figures already in --out")
    parser.add_argument("--resume", action="store_true", help="continue each set's answers in bench/out instead of starting over")
    parser.add_argument("--llm-url", help="a running server with the translator (default: start one)")
    parser.add_argument("--llm-model", default=None, help="the model to ask --llm-url for (default: the adapter named logic)")
    parser.add_argument("--translator", type=Path, help="a distilled translator folder (default: the shipped one)")
    parser.add_argument("--no-unify", action="store_true", help="prove each translation with the names it wrote")
    parser.add_argument("--no-symbols-first", action="store_true", help="translate each premise once, without the story's symbols")
    parser.add_argument("--proofs-first", action=argparse.BooleanOptionalAction, default=True,
                        help="a proved True or False outvotes Unknown (--no-proofs-first: the plurality)")
    parser.add_argument("--closed-conclusions", action="store_true", help="conclusions may use only the premises' predicates from the first draw")
    parser.add_argument("--properties", action="store_true", help="before proving, read Love(x, animals) as LoveAnimals(x)")
    parser.add_argument("--words", action="store_true", help="names only of the story's words (a grammar of them)")
    parser.add_argument("--tag", default="", help="a suffix for the answer files in bench/out (several configurations side by side)")
    args = parser.parse_args()
    files = held_out_files()
    options = {"unify": not args.no_unify, "symbols_first": not args.no_symbols_first, "proofs_first": args.proofs_first,
               "closed_conclusions": args.closed_conclusions, "properties": args.properties, "words": args.words}
    report = {"machine": f"{platform.machine()}, 2 cores, no GPU", "samples": args.samples, "temperature": args.temperature,
              "concurrency": args.concurrency, "translator": str(args.translator or "shipped"), **options, "sets": {}}
    if args.update and args.out.is_file():
        report = json.loads(args.out.read_text()) | {"samples": args.samples, "temperature": args.temperature}
    with open_backend(args.llm_url, args.llm_model) as backend:
        tool = build_tool(backend, "logic", adapter=args.translator, samples=args.samples, temperature=args.temperature, **options)
        agent = Agent({"logic": tool})
        if not args.llm_url:
            tool.llm.client()  # start the translator's server before any clock runs
        if "proofwriter" in args.sets.split(",") and args.latency:
            items = read(files["proofwriter"][0])[: args.latency]
            out = OUT / "logic-latency.jsonl"
            out.unlink(missing_ok=True)
            summary = run_tool(agent, None, "logic", items, out, concurrency=1)
            report["proofwriter_latency"] = {"n": summary["n"], "median_seconds": summary["median_seconds"],
                                             "accuracy": summary["accuracy"]}
            print(f"latency: {json.dumps(report['proofwriter_latency'])}", flush=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
        for name in args.sets.split(","):
            path, gold = files[name]
            items = read(path, gold_fol=gold)[: args.limit]
            out = OUT / f"logic-{name}{args.tag}.jsonl"
            if not args.resume:
                out.unlink(missing_ok=True)
            started = time.perf_counter()
            summary = run_tool(agent, None, "logic", items, out, concurrency=args.concurrency, resume=args.resume)
            summary["file"] = str(path.relative_to(HERE.parent.parent)) if path.is_relative_to(HERE.parent.parent) else str(path)
            summary["wall_seconds"] = round(time.perf_counter() - started, 1)
            if gold:  # the problems the prover did not get right, each with why
                lines = [json.loads(line) for line in out.read_text().splitlines()]
                summary["not_reproduced"] = [{"id": x["id"], "gold": x["gold"], "answer": x["answer"], "why": x["message"][:300]}
                                             for x in lines if not x["correct"]]
            report["sets"][name] = summary
            print(f"{name}: {json.dumps(summary)}", flush=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")  # after each set: a long run cut short keeps what it measured
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
