"""Routing accuracy on the hand-written sets of varied messages (KG questions with and without brackets, logic
problems, examples, data tables, chit-chat and off-topic questions): bench/routing_set.jsonl, routing_heldout.jsonl
and routing_final.jsonl, written in earlier waves, and routing_wave3.jsonl, written after the learned router was
trained and measured once.

    python bench/routing.py [--set FILE ...] [--kb ../shared/data/metaqa/kb.txt] [--rules-only]

Routes each message with the router the service uses, over the bundled demo graph (what `make run`
serves) and, when present, the whole MetaQA graph (43k names: more chances of a spurious link), with
the shipped planner's answer kinds and question forms. Prints and writes bench/results/routing.json:
accuracy, the confusion table, off-topic messages routed to the KG (must be 0), every miss.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.router import Router  # noqa: E402
from kg.demo import DEMO_KB  # noqa: E402
from kg.linking import EntityLinker  # noqa: E402
from kg.schema import Schema  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.base import Task  # noqa: E402
from tools.kg.checks import AnswerKinds, QuestionForms  # noqa: E402
from tools.kg.llm_planner import PLANNERS, find_distilled  # noqa: E402
from tools.kg.tool import KGTool  # noqa: E402

LABELS = ["kg", "logic", "induce", "regress", "none"]
SETS = ["set", "heldout", "final", "wave3"]


class Linking:
    """The KG tool's planner as far as routing uses it: linking and masking (no LLM is called)."""

    name = "llm"
    folder = None

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg, self.schema, self.linker = kg, Schema.derive(kg), EntityLinker(kg)

    def link(self, question: str):
        return self.linker.frame(question, second=False)


def evaluate(kg: KnowledgeGraph, items: list[dict], rules_only: bool = False) -> dict:
    folder = find_distilled(kg) or PLANNERS / "metaqa"
    router = Router({"kg": KGTool(Linking(kg), AnswerKinds.load(folder), QuestionForms.load(folder))}, model=not rules_only)
    learned = 0
    confusion: dict[str, Counter] = {label: Counter() for label in LABELS}
    misses = []
    started = time.perf_counter()
    for item in items:
        decision = router.route(Task(question=item["message"]))
        confusion[item["tool"]][decision.tool] += 1
        learned += "learned" in decision.signals
        if decision.tool != item["tool"]:
            misses.append({"message": item["message"][:160], "expected": item["tool"], "routed": decision.tool,
                           "reason": decision.reason})
    seconds = time.perf_counter() - started
    correct = sum(confusion[label][label] for label in LABELS)
    return {
        "accuracy": round(correct / len(items), 4),
        "per_label_recall": {label: round(confusion[label][label] / max(1, sum(confusion[label].values())), 4) for label in LABELS},
        "off_topic_routed_to_kg": confusion["none"]["kg"],
        "non_kg_routed_to_kg": sum(confusion[label]["kg"] for label in LABELS if label != "kg"),
        "confusion (expected -> routed)": {label: dict(confusion[label]) for label in LABELS},
        "ms_per_message": round(1000 * seconds / len(items), 2),
        "left_to_the_learned_router": learned,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, nargs="+", default=[HERE / f"routing_{name}.jsonl" for name in SETS])
    parser.add_argument("--kb", type=Path, default=HERE.parent.parent / "shared" / "data" / "metaqa" / "kb.txt")
    parser.add_argument("--rules-only", action="store_true", help="the rules alone, without the learned router")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "routing.json")
    args = parser.parse_args()
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "router": "rules" if args.rules_only else "rules + learned"}
    graphs = {"demo graph": DEMO_KB} | ({"MetaQA graph": args.kb} if args.kb.is_file() else {})
    loaded = {name: KnowledgeGraph.load(path) for name, path in graphs.items()}
    for path in args.set:
        items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        figures[path.name] = {"messages": len(items), "per_label": dict(Counter(i["tool"] for i in items))}
        for name, kg in loaded.items():
            f = figures[path.name][name] = evaluate(kg, items, args.rules_only)
            print(f"{path.name}, {name}: accuracy {f['accuracy']:.1%} on {len(items)} messages; off-topic routed to the KG: "
                  f"{f['off_topic_routed_to_kg']}; {f['left_to_the_learned_router']} left to the learned router; "
                  f"{f['ms_per_message']} ms/message", flush=True)
            for miss in f["misses"]:
                print(f"  {miss['expected']} -> {miss['routed']}: {miss['message'][:100]!r} ({miss['reason'][:120]})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
