"""Faithfulness figures: how often the KG tool answers a question the graph cannot answer, and how well it infers.

    python bench/faithful.py [--planner llm|embedding|both] [--per-hop 300] [--llm-url URL]
    python bench/faithful.py --calibrate [--planner ...]

Builds incomplete-graph test sets from a KB and mined question plans: for each chosen question, the
edges its mined plan needs at the first hop from its topic entity are deleted, and the question is
kept if its plan then grounds to nothing; a question whose topic lost every edge (and so left the graph) is
kept too, and its honest answer is `no_entity`. One incomplete KB is written per set
(bench/out/incomplete-<split>.txt), and the rules a user of that KB would mine from it (`reasoner kg rules`:
the deleted facts play no part in them) beside it. Every planner then answers every kept question over that
KB through the agent (`agent.batch.run_tool`, as `reasoner batch` does). An answer given as a fact
(`answered`) is a false answer: the fact it would need is not in the graph. An `inferred` answer is scored
against the deleted facts: Hits@1 over the set, precision of the first answer and of every answer given.
Reported per hop, for the questions whose topic left the graph, and per deleted relation: false answers,
inferred answers, honest abstentions by status, and how often a `not_in_graph` abstention names the
deleted edge.

Splits of MetaQA dev (1- and 2-hop questions with an exact mined plan):
- `heldout`: the benchmark's held-out slice (`kg.questions.is_held_out`), never trained on: the figures.
- `calibration`: the slice both shipped planners held out from their own training for validation.
  `--calibrate` runs it with no reading check (any gap accepted) on the incomplete graph and on the
  complete one, and chooses each planner's `max_gap`: the largest gap at which no more than
  `--target` of the incomplete set is answered. Then, at that gap and with every inferred answer given,
  it chooses `min_rule_confidence`: the least rule confidence at which inferred first answers are right at
  least `--precision` of the time. It writes both into readings.json in the planner's folder.

Writes bench/results/faithful.json (or faithful_calibration.json).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.assemble import open_agent  # noqa: E402
from agent.batch import run_tool  # noqa: E402
from agent.llm.server import ModelServer  # noqa: E402
from agent.llm.weights import merged_model_dir  # noqa: E402
from kg.mining import MinedPlan, mine_questions, read_mined_plans  # noqa: E402
from kg.paths import execute_plan  # noqa: E402
from kg.questions import Question, is_held_out, read_questions  # noqa: E402
from kg.rules import Rule, mine_rules, read_rules, write_rules  # noqa: E402
from kg.store import INVERSE, KnowledgeGraph  # noqa: E402
from tools.kg.checks import Readings  # noqa: E402
from tools.kg.files import items  # noqa: E402
from tools.kg.llm_planner import PLANNERS  # noqa: E402

METAQA = HERE.parent.parent / "shared" / "data" / "metaqa"
OUT = HERE / "out"
PLANS = OUT / "metaqa_dev_plans.jsonl"
FOLDERS = {"llm": PLANNERS / "metaqa", "embedding": PLANNERS / "metaqa-search"}


def mined_plans(kb: Path) -> list[MinedPlan]:
    """The dev questions' mined plans (mined once into bench/out, as `reasoner kg mine` does)."""
    if not PLANS.is_file():
        kg = KnowledgeGraph.load(kb)
        questions = [q for n in (1, 2, 3) for q in read_questions(METAQA / f"qa_{n}hop_dev.txt")]
        OUT.mkdir(exist_ok=True)
        with PLANS.open("w", encoding="utf-8") as f:
            for m in mine_questions(kg, questions):
                f.write(m.model_dump_json() + "\n")
    return read_mined_plans(PLANS)


def in_split(m: MinedPlan, split: str) -> bool:
    if split == "heldout":
        return is_held_out(m.id)
    return not is_held_out(m.id) and is_held_out("validation:" + m.id, 0.05)


def needed_edges(kg: KnowledgeGraph, m: MinedPlan) -> set[tuple[str, str, str]]:
    """The triples behind the first step of the question's plan at its topic entity."""
    step = m.plan[0]
    relation = step.removeprefix(INVERSE)
    return {(m.topic, relation, other) if step == relation else (other, relation, m.topic)
            for other in kg.neighbours(m.topic, step)}


def build_set(kb: Path, mined: list[MinedPlan], split: str, per_hop: int, seed: int = 0) -> tuple[Path, list[Question], dict]:
    """The incomplete KB and the questions it cannot answer, with counts of what was dropped and why."""
    kg = KnowledgeGraph.load(kb)
    pool = [m for m in mined if m.hops in (1, 2) and m.plan and m.exact and m.topic in kg.ids and in_split(m, split)]
    rng = random.Random(seed)
    chosen = [m for hops in (1, 2) for m in rng.sample([p for p in pool if p.hops == hops],
                                                        min(per_hop, sum(p.hops == hops for p in pool)))]
    deleted = set().union(*(needed_edges(kg, m) for m in chosen))
    OUT.mkdir(exist_ok=True)
    path = OUT / f"incomplete-{split}.txt"
    with kb.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as sink:
        for line in source:
            if tuple(line.rstrip("\n").split("|")) not in deleted:
                sink.write(line)
    incomplete = KnowledgeGraph.load(path)
    kept, dropped = [], Counter()
    gone = []  # questions whose topic lost every edge, and so left the graph: kept, the right answer is no_entity
    for m in chosen:
        if m.topic not in incomplete.ids:
            gone.append(m.id)
        elif execute_plan(incomplete, [m.topic], m.plan).answers:
            dropped["plan still grounds"] += 1
            continue
        kept.append(Question(id=m.id, question=m.question, answers=m.answers, hops=m.hops))
    counts = {"chosen": len(chosen), "triples_deleted": len(deleted), "kept": len(kept), "dropped": dict(dropped),
              "kept_per_hop": dict(Counter(q.hops for q in kept)), "topic_gone": len(gone), "topic_gone_ids": gone}
    return path, kept, counts


def answer_all(kb: Path | KnowledgeGraph, questions: list[Question], planner: str, llm_url: str | None,
               max_gap: float | None, workdir: Path, rules: list[Rule] | None = None,
               min_rule_confidence: float | None = None) -> list[dict]:
    """Every question answered by the agent over `kb`; `max_gap` overrides the planner's reading check, `rules`
    the rules shipped with it (mined from another graph), `min_rule_confidence` its calibrated threshold."""
    options = {"planner": "embedding" if planner == "embedding" else str(FOLDERS["llm"]), "llm_url": llm_url}
    with open_agent(kb, **options) as agent:
        tool = agent.tools["kg"]
        if max_gap is not None:
            tool.max_gap = {name: max_gap for name in tool.max_gap}
        if rules is not None:
            tool.rules = rules
        if min_rule_confidence is not None:
            tool.min_rule_confidence = min_rule_confidence
        out = workdir / f"{planner}-{time.monotonic_ns()}.jsonl"
        run_tool(agent, None, "kg", items(questions), out, concurrency=32 if planner == "llm" else 4)
    return [json.loads(line) for line in out.read_text().splitlines()]


def graph_rules(kb: Path) -> list[Rule]:
    """The rules a user of `kb` would mine from it (`reasoner kg rules`), cached beside it."""
    path = kb.with_suffix(".rules.jsonl")
    if not path.is_file():
        write_rules(mine_rules(KnowledgeGraph.load(kb)), path)
    return read_rules(path)


def accepted_gap(answer: dict) -> float | None:
    """How far below the best reading the plan that was answered with scored (None: no answer)."""
    if answer["status"] != "answered":
        return None
    return (answer["attempts"][-1]["proposed"] or {}).get("gap") or 0.0


def hit(answer: dict, gold: set[str]) -> bool:
    return bool(answer["answers"]) and answer["answers"][0] in gold


def figures(answers: list[dict], questions: list[Question], mined: dict[str, MinedPlan], gone: set[str]) -> dict:
    """Per hop, and for the questions whose topic left the graph: false answers given as facts, inferred answers
    (Hits@1 against the deleted answers, and precision), abstentions by status, and abstentions naming the deleted
    edge; then the same per deleted relation (the first step of the question's plan)."""
    group = {q.id: "topic gone" if q.id in gone else f"{q.hops}-hop" for q in questions}
    gold = {q.id: set(q.answers) for q in questions}
    result = {}
    for name in ("1-hop", "2-hop", "topic gone", "all"):
        chosen = [a for a in answers if name == "all" or group[a["id"]] == name]
        if chosen:
            result[name] = _figures(chosen, gold, mined)
    by_relation = {}
    for relation in sorted({mined[a["id"]].plan[0] for a in answers}):
        chosen = [a for a in answers if mined[a["id"]].plan[0] == relation and a["id"] not in gone]
        if chosen:
            f = _figures(chosen, gold, mined)
            by_relation[relation] = {k: f[k] for k in ("n", "false_answer_rate", "inferred", "inferred_hits_at_1_share",
                                                       "inferred_precision_at_1")}
    result["by_deleted_relation"] = by_relation
    return result


def _figures(chosen: list[dict], gold: dict[str, set[str]], mined: dict[str, MinedPlan]) -> dict:
    status = Counter(a["status"] for a in chosen)
    abstained = [a for a in chosen if a["status"] == "not_in_graph"]
    names_edge = sum(((a.get("grounding") or {}).get("missing") or {}).get("step") == mined[a["id"]].plan[0]
                     and a["grounding"]["missing"]["hop"] == 1 for a in abstained)
    inferred = [a for a in chosen if a["status"] == "inferred"]
    hits = sum(hit(a, gold[a["id"]]) for a in inferred)
    given = sum(len(a["answers"]) for a in inferred)
    return {"n": len(chosen), "false_answer_rate": round(status["answered"] / len(chosen), 4),
            "inferred": len(inferred), "inferred_hits_at_1_share": round(hits / len(chosen), 4),
            "inferred_precision_at_1": round(hits / len(inferred), 4) if inferred else None,
            "inferred_answer_precision": round(sum(len(set(a["answers"]) & gold[a["id"]]) for a in inferred) / given, 4)
            if given else None,
            "status": dict(status), "not_in_graph_naming_the_deleted_edge": names_edge,
            "mean_seconds": round(sum(a["seconds"]["total"] for a in chosen) / len(chosen), 4)}


MAX_GAP_CAP = 8.0  # when even accepting every reading stays within the target


def calibrate(incomplete: list[dict], complete: list[dict], gold: dict[str, list[str]], target: float) -> dict:
    """The largest gap at which at most `target` of the incomplete set is answered (halfway between the
    last false answer allowed and the first one not), and what it costs on the complete graph: questions
    answered right only by a reading further below the best."""
    false_gaps = sorted(g for g in map(accepted_gap, incomplete) if g is not None)
    allowed = math.floor(target * len(incomplete))
    if len(false_gaps) > allowed:
        below = false_gaps[allowed - 1] if allowed else 0.0
        max_gap = round((below + false_gaps[allowed]) / 2, 3)
    else:
        max_gap = MAX_GAP_CAP
    right = [a for a in complete if a["status"] == "answered" and a["answers"] and a["answers"][0] in gold[a["id"]]]
    lost = [a["id"] for a in right if accepted_gap(a) > max_gap]
    return {"max_gap": max_gap, "incomplete_n": len(incomplete), "false_answers_at_any_gap": len(false_gaps),
            "false_answers_at_max_gap": sum(g <= max_gap for g in false_gaps), "complete_n": len(complete),
            "complete_hits_at_any_gap": len(right), "complete_hits_lost_at_max_gap": len(lost), "target": target}


def rule_threshold(answers: list[dict], gold: dict[str, list[str]], target: float) -> dict:
    """The least confidence at which the inferred runs at or above it have a right first answer at least `target`
    of the time (answers inferred with no threshold); 1.0 when none does."""
    runs = sorted(((a["grounding"]["inference"]["answers"][0]["confidence"], hit(a, set(gold[a["id"]])))
                   for a in answers if a["status"] == "inferred"), reverse=True)
    best, right = 1.0, 0
    for n, (confidence, correct) in enumerate(runs, 1):
        right += correct
        if right / n >= target and (n == len(runs) or runs[n][0] < confidence):
            best = confidence
    kept = [c for c in runs if c[0] >= best]
    return {"min_rule_confidence": best, "inferred_at_any_confidence": len(runs), "inferred_kept": len(kept),
            "precision_at_1_kept": round(sum(c for _, c in kept) / len(kept), 4) if kept else None, "target": target}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=Path, default=METAQA / "kb.txt")
    parser.add_argument("--planner", choices=["llm", "embedding", "both"], default="both")
    parser.add_argument("--per-hop", type=int, default=300, help="questions chosen per hop before the grounding filter")
    parser.add_argument("--llm-url", help="a model server already serving the distilled planner (default: start one)")
    parser.add_argument("--calibrate", action="store_true", help="choose max_gap on the calibration split and write readings.json")
    parser.add_argument("--target", type=float, default=0.02, help="false-answer share allowed on the calibration set")
    parser.add_argument("--precision", type=float, default=0.85,  # the goal is 0.8: a margin for the held-out set
                        help="precision of inferred first answers asked on the calibration set")
    args = parser.parse_args()
    planners = ["llm", "embedding"] if args.planner == "both" else [args.planner]
    split = "calibration" if args.calibrate else "heldout"
    mined = mined_plans(args.kb)
    by_id = {m.id: m for m in mined}
    kb_path, questions, counts = build_set(args.kb, mined, split, args.per_hop)
    rules = graph_rules(kb_path)  # mined from the incomplete graph: the deleted facts play no part in them
    counts["rules_mined_from_the_incomplete_graph"] = len(rules)
    print(f"{split}: {json.dumps({k: v for k, v in counts.items() if k != 'topic_gone_ids'})}", flush=True)
    report = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "split": split,
              "set": {k: v for k, v in counts.items() if k != "topic_gone_ids"},
              "incomplete_kb": str(kb_path.relative_to(HERE.parent)), "planners": {}}
    server = None
    if "llm" in planners and not args.llm_url:
        server = ModelServer(str(merged_model_dir(FOLDERS["llm"])), served_name="kg").start()  # the name the KG tool asks for
    llm_url = args.llm_url or (server.base_url if server else None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for planner in planners:
                if args.calibrate:
                    # The gap chooses among readings of a topic the graph holds: topics that left it are refused first.
                    kept = [q for q in questions if q.id not in set(counts["topic_gone_ids"])]
                    incomplete = answer_all(kb_path, kept, planner, llm_url, math.inf, Path(tmp))
                    complete = answer_all(args.kb, kept, planner, llm_url, math.inf, Path(tmp))
                    chosen = calibrate(incomplete, complete, {q.id: q.answers for q in kept}, args.target)
                    inferring = answer_all(kb_path, questions, planner, llm_url, chosen["max_gap"], Path(tmp), rules, 0.0)
                    threshold = rule_threshold(inferring, {q.id: q.answers for q in questions}, args.precision)
                    chosen["rules"] = threshold
                    Readings(max_gap=chosen["max_gap"], min_rule_confidence=threshold["min_rule_confidence"], rule_calibration={
                        "how": "bench/faithful.py --calibrate: the least rule confidence at which inferred first answers "
                               f"are right at least {args.precision:.0%} of the time, on the same incomplete graph and questions, "
                               "with rules mined from that graph", **threshold}, calibration={
                        "how": "bench/faithful.py --calibrate: the largest gap at which at most "
                               f"{args.target:.0%} of an incomplete-graph set is answered",
                        "questions": "MetaQA dev 1- and 2-hop, the slice the planner held out from its training for validation",
                        **{k: v for k, v in chosen.items() if k not in ("max_gap", "rules")}}).save(FOLDERS[planner])
                    report["planners"][planner] = chosen
                else:
                    answers = answer_all(kb_path, questions, planner, llm_url, None, Path(tmp), rules)
                    report["planners"][planner] = figures(answers, questions, by_id, set(counts["topic_gone_ids"]))
                    report["planners"][planner]["false_answers"] = [
                        {"question": a["question"], "plan": a["plan"], "mined_plan": by_id[a["id"]].plan, "gap": accepted_gap(a),
                         "answers": a["answers"][:5]} for a in answers if a["status"] == "answered"]
                    report["planners"][planner]["inferred_examples"] = [
                        {"question": a["question"], "gold": by_id[a["id"]].answers[:5], "message": a["message"]}
                        for a in answers if a["status"] == "inferred"][:8]
                    report["planners"][planner]["abstentions"] = [
                        {k: a[k] for k in ("question", "status", "message")} for a in answers if a["status"] != "answered"][:5]
                print(f"{planner}: {json.dumps({k: v for k, v in report['planners'][planner].items() if k not in ('false_answers', 'abstentions', 'inferred_examples')})}",
                      flush=True)
    finally:
        if server:
            server.stop()
    name = "faithful_calibration.json" if args.calibrate else "faithful.json"
    (HERE / "results" / name).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote bench/results/{name}")


if __name__ == "__main__":
    main()
