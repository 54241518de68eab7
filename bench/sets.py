"""Questions that need two tools: the KG grounds a set, clingo decides a count, a quantifier or a filter over it.

    python bench/sets.py --make        # writes bench/sets_questions.jsonl (16 hand-written templates x 4 topics)
    python bench/sets.py [--planner llm|embedding|both] [--llm-url URL]

The questions are written from templates (below), over MetaQA's graph, with topics drawn at random among the
people with 3 to 25 films of the template's relation; a quarter are asked without brackets. Each template names its
gold plan, and the gold answer is computed here in plain Python from the graph, not by the tool: the set the gold
plan reaches from the topic, each member's values of the condition's relation, and the open-world reading the
service documents (a member with no value is neither a yes nor a no: "all" is `yes` only when every member is
known to meet the condition, `no` when one is known not to, else `unknown`; counts and lists count only the
members known to meet it).

Every question goes through the whole agent with no tool named (`reasoner batch` as a user runs it): the router
picks the tool, the planner reads the set's question, clingo decides. Reported per planner: accuracy, how many
were routed to the KG, how many were read as the right kind of question, by template kind; every miss.
Writes bench/results/sets.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.assemble import open_agent  # noqa: E402
from agent.llm.server import ModelServer  # noqa: E402
from agent.llm.weights import merged_model_dir  # noqa: E402
from agent.runner import answer_question  # noqa: E402
from kg.paths import execute_plan  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.kg.llm_planner import PLANNERS  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"
QUESTIONS = HERE / "sets_questions.jsonl"
TOPICS = 4  # per template

# (kind, text, gold plan from the topic, condition: None | ("year", comparator) | ("language", "="))
TEMPLATES = [
    ("count", "How many films did [{p}] write?", ["~written_by"], None),
    ("count", "How many movies did [{p}] direct?", ["~directed_by"], None),
    ("count", "How many films has [{p}] acted in?", ["~starred_actors"], None),
    ("count", "What is the number of movies [{p}] directed?", ["~directed_by"], None),
    ("count", "How many films starring [{p}] were released before {y}?", ["~starred_actors"], ("year", "<")),
    ("count", "How many movies written by [{p}] came out after {y}?", ["~written_by"], ("year", ">")),
    ("all", "Are all the films [{p}] directed in {v}?", ["~directed_by"], ("language", "=")),
    ("all", "Were all the movies written by [{p}] released after {y}?", ["~written_by"], ("year", ">")),
    ("all", "Is every film starring [{p}] released before {y}?", ["~starred_actors"], ("year", "<")),
    ("any", "Were any of the films [{p}] directed released before {y}?", ["~directed_by"], ("year", "<")),
    ("any", "Is any film written by [{p}] in {v}?", ["~written_by"], ("language", "=")),
    ("none", "Are none of the movies directed by [{p}] in {v}?", ["~directed_by"], ("language", "=")),
    ("list", "Which films starring [{p}] were released before {y}?", ["~starred_actors"], ("year", "<")),
    ("list", "Which movies directed by [{p}] are in {v}?", ["~directed_by"], ("language", "=")),
    ("list", "What films did [{p}] write after {y}?", ["~written_by"], ("year", ">")),
    ("list", "Which movies with [{p}] came out in {y}?", ["~starred_actors"], ("year", "=")),
]
STEP = {"year": "release_year", "language": "in_language"}


def gold(kg: KnowledgeGraph, kind: str, members: list[str], condition: tuple | None, value: str | None) -> list[str]:
    if condition is None:
        return [str(len(members))] if kind == "count" else sorted(members)
    what, comparator = condition
    values = {m: kg.neighbours(m, STEP[what]) for m in members}
    def meets(vs: list[str]) -> bool:
        if what == "language" or comparator == "=":
            return value in vs
        return any((int(v) < int(value)) if comparator == "<" else (int(v) > int(value)) for v in vs if v.isdigit())
    met = [m for m in members if values[m] and meets(values[m])]
    failed = [m for m in members if values[m] and not meets(values[m])]
    unknown = [m for m in members if not values[m]]
    if kind == "count":
        return [str(len(met))]
    if kind == "list":
        return sorted(met)
    if kind == "all":
        return ["no" if failed else "yes" if not unknown else "unknown"]
    if kind == "any":
        return ["yes" if met else "no" if not unknown else "unknown"]
    return ["no" if met else "yes" if not unknown else "unknown"]  # none


def make(kg: KnowledgeGraph, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for t, (kind, text, plan, condition) in enumerate(TEMPLATES):
        relation = plan[0].removeprefix("~")
        people = sorted({kg.names[h] for h in kg.triples[kg.triples[:, 1] == kg.relations.index(relation)][:, 2].tolist()})
        chosen = 0
        for person in rng.sample(people, len(people)):
            members = execute_plan(kg, [person], plan).answers
            if not 3 <= len(members) <= 25 or not person.replace(" ", "").isalpha():
                continue
            value = None
            if condition and condition[0] == "year":
                years = sorted(int(y) for m in members for y in kg.neighbours(m, "release_year") if y.isdigit())
                if len(years) < 2:
                    continue
                value = str(years[len(years) // 2] if condition[1] != "=" else rng.choice(years))
            elif condition:
                languages = [v for m in members for v in kg.neighbours(m, "in_language")]
                if not languages:
                    continue
                value = rng.choice(languages + ["French", "German"])
            question = text.format(p=person, y=value, v=value)
            if len(rows) % 4 == 3:  # a quarter without brackets: the router must find the graph question
                question = question.replace("[", "").replace("]", "")
            rows.append({"id": f"{t}-{chosen}", "question": question, "kind": kind, "plan": plan, "topic": person,
                         "answers": gold(kg, kind, members, condition, value)})
            chosen += 1
            if chosen == TOPICS:
                break
    return rows


def evaluate(kb: Path, rows: list[dict], planner: str, llm_url: str | None) -> dict:
    options = {"planner": "embedding" if planner == "embedding" else str(PLANNERS / "metaqa"), "llm_url": llm_url}
    with open_agent(kb, **options) as agent, ThreadPoolExecutor(8) as pool:
        ask = lambda r: answer_question(agent, None, r["question"]).model_dump(mode="json")  # noqa: E731 - routed: no tool named
        answers = dict(zip([r["id"] for r in rows], pool.map(ask, rows)))
    by_kind: dict[str, Counter] = {}
    misses = []
    for r in rows:
        a = answers[r["id"]]
        decision = ((a.get("grounding") or {}).get("decision") or {})
        right = sorted(a["answers"]) == sorted(r["answers"]) and a["status"] == "answered"
        counts = by_kind.setdefault(r["kind"], Counter())
        counts.update({"n": 1, "correct": right, "routed_to_kg": a.get("tool") == "kg",
                       "read_as_" + r["kind"]: decision.get("aggregate") == r["kind"], "gold_plan": a.get("plan") == r["plan"]})
        if not right:
            misses.append({"question": r["question"], "gold": r["answers"][:8], "status": a["status"], "tool": a.get("tool"),
                           "answers": a["answers"][:8], "plan": a.get("plan"), "message": a["message"][:300]})
    total = Counter()
    for counts in by_kind.values():
        total.update({k: v for k, v in counts.items() if not k.startswith("read_as_")})
        total["read_right"] += next(v for k, v in counts.items() if k.startswith("read_as_"))
    return {"n": total["n"], "accuracy": round(total["correct"] / total["n"], 4),
            "routed_to_kg": total["routed_to_kg"], "read_as_the_right_kind": total["read_right"], "gold_plan": total["gold_plan"],
            "by_kind": {k: dict(v) for k, v in by_kind.items()}, "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=Path, default=METAQA / "kb.txt")
    parser.add_argument("--make", action="store_true", help="write the question set from the templates")
    parser.add_argument("--planner", choices=["llm", "embedding", "both"], default="both")
    parser.add_argument("--llm-url", help="a model server already serving the distilled planner (default: start one)")
    args = parser.parse_args()
    if args.make:
        rows = make(KnowledgeGraph.load(args.kb))
        QUESTIONS.write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"wrote {len(rows)} questions to {QUESTIONS}: {dict(Counter(r['kind'] for r in rows))}")
        return
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    planners = ["llm", "embedding"] if args.planner == "both" else [args.planner]
    server = None
    if "llm" in planners and not args.llm_url:
        server = ModelServer(str(merged_model_dir(PLANNERS / "metaqa")), served_name="kg").start()
    report = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "questions": len(rows),
              "kinds": dict(Counter(r["kind"] for r in rows)), "planners": {}}
    try:
        for planner in planners:
            report["planners"][planner] = result = evaluate(args.kb, rows, planner, args.llm_url or (server.base_url if server else None))
            print(f"{planner}: {json.dumps({k: v for k, v in result.items() if k != 'misses'})}", flush=True)
    finally:
        if server:
            server.stop()
    (HERE / "results" / "sets.json").write_text(json.dumps(report, indent=2) + "\n")
    print("wrote bench/results/sets.json")


if __name__ == "__main__":
    main()
