"""Embedding-guided search figures: `reasoner batch --planner embedding` over the held-out slice.

    python bench/search.py [--train] [--ablation] [--llm-every 7] [--name search]

`--train` first retrains the shipped MetaQA scorer with `reasoner train-search` (timed, with an
empty cache, so text encoding and TransE count). Then the real CLI answers every held-out question
(`kg.questions.is_held_out`) with the embedding planner, pointed at a dead --llm-url so any LLM call
would fail, while its process tree is watched for a model server. Accuracy per hop, questions/s
(inside the batch and wall time with start-up), where the time goes. `--ablation` retrains the scorer
without graph features, with TransE relation vectors only, and with the topic's TransE vector too, and
scores each on the slice. The planner alone (encoding and search, no agent) is timed too. The LLM planner (the shipped distilled one, its own vLLM server) answers
every `--llm-every`-th held-out question in the same run, and so does the embedding planner, for the
speed ratio. Writes bench/results/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from watch import REASONER, run_watched  # noqa: E402

from agent.assemble import kg_tool  # noqa: E402
from agent.batch import run_tool  # noqa: E402
from agent.graph import Agent  # noqa: E402
from kg.mining import MinedPlan, read_mined_plans  # noqa: E402
from kg.questions import is_held_out, read_questions  # noqa: E402
from kg.search import SCORER_FILE, SearchConfig, TextEncoder  # noqa: E402
from kg.store import KnowledgeGraph  # noqa: E402
from tools.kg.files import items  # noqa: E402
from tools.kg.llm_planner import PLANNERS  # noqa: E402
from tools.kg.search_planner import EmbeddingPlanner, train_search_planner  # noqa: E402

METAQA = ROOT.parent / "shared" / "data" / "metaqa"
PLANS = HERE / "out" / "metaqa_dev_plans.jsonl"
SCORER = PLANNERS / "metaqa-search"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's code, whatever is installed
DEAD_LLM = "http://127.0.0.1:9/v1"  # nothing listens: an LLM call would fail the run

ABLATION = {
    "text_only": SearchConfig(relation_embeddings=False, frontier_degree=False),
    "text+frontier_degree": SearchConfig(relation_embeddings=False, frontier_degree=True),
    "text+transe_relations": SearchConfig(relation_embeddings=True, frontier_degree=False),
    "text+transe_relations+frontier_degree": SearchConfig(relation_embeddings=True, frontier_degree=True),
    "text+transe_relations+frontier_degree+transe_topic": SearchConfig(relation_embeddings=True, frontier_degree=True,
                                                                       entity_embeddings=True),
}


def train_shipped(cache: Path) -> dict:
    metaqa = os.path.relpath(METAQA, ROOT)  # relative paths, so the card's command reads the same anywhere
    command = [REASONER, "train-search", "--kg", f"{metaqa}/kb.txt",
               *[a for hops in (1, 2, 3) for a in ("--questions", f"{metaqa}/qa_{hops}hop_dev.txt")],
               "--plans", str(PLANS.relative_to(ROOT)), "--out", str(SCORER.relative_to(ROOT)), "--holdout-share", "0.2"]
    started = time.perf_counter()
    run = subprocess.run(command, env={**ENV, "REASONER_CACHE": str(cache)}, capture_output=True, text=True, cwd=ROOT)
    if run.returncode:
        raise RuntimeError(f"reasoner train-search failed ({run.returncode}): {run.stderr[-2000:]}")
    minutes = (time.perf_counter() - started) / 60
    card = json.loads((SCORER / "search.json").read_text())
    return {"wall_minutes_including_start": round(minutes, 2), "card_total_minutes": round(card["total_seconds"] / 60, 2),
            "scorer_loop_seconds": card["train_seconds"], "transe_seconds": card["graph_embeddings"].get("seconds"),
            "parameters": card["parameters"], "validation": card["validation"], "command": card["command"]}


def cli_batch(questions: Path, out: Path, workdir: Path, *extra: str) -> dict:
    """Run `reasoner batch`; return its summary line, wall time and whether a model server ever ran under it."""
    arguments = ["batch", "--kg", str(METAQA / "kb.txt"), "--questions", str(questions), "--out", str(out),
                 "--traces", str(workdir / f"traces-{out.stem}.sqlite"), *extra]
    servers = set()

    def look(pid: int, seconds: float) -> None:
        servers.update(name for name in _descendant_names(pid) if "vllm" in name.lower())

    summary, seconds = run_watched(arguments, look, every=0.5, env=ENV)
    summary["wall_seconds_including_start"] = round(seconds, 1)
    summary["model_server_seen"] = sorted(servers)
    return summary


def _descendant_names(pid: int) -> list[str]:
    names, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                names.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
            todo.append(child)
    return names


def planner_only(held_out) -> dict:
    """The embedding planner alone, one process: encode the slice's questions, then link and search each."""
    kg = KnowledgeGraph.load(METAQA / "kb.txt")
    planner = EmbeddingPlanner(kg, SCORER)
    started = time.perf_counter()
    planner.prepare([q.question for q in held_out])
    encoded = time.perf_counter()
    for q in held_out:
        links, topics, masked_question = planner.link(q.question)
        planner.propose(masked_question, topics)
    done = time.perf_counter()
    figures = {"questions": len(held_out), "encode_seconds": round(encoded - started, 2),
               "search_ms_per_question": round(1000 * (done - encoded) / len(held_out), 3),
               "questions_per_s": round(len(held_out) / (done - started), 1)}
    agent_figures = HERE / "results" / "agent.json"
    if agent_figures.is_file():  # the model server alone, serving the distilled planner's plan-sized completions
        ceiling = json.loads(agent_figures.read_text())["server_raw_requests_per_s"]
        figures["llm_server_raw_requests_per_s (bench/results/agent.json)"] = ceiling
        figures["speedup_vs_llm_server_ceiling"] = round(figures["questions_per_s"] / ceiling, 1)
    return figures


def planner_record(answers: Path) -> dict:
    """Over all answers: which planner the answers name, and the LLM tokens spent."""
    planners: dict[str, int] = {}
    tokens = 0
    for line in answers.read_text().splitlines():
        record = json.loads(line)
        planners[record["planner"]] = planners.get(record["planner"], 0) + 1
        tokens += sum(record["llm_tokens"].values())
    return {"answers_by_planner": planners, "llm_tokens": tokens}


def ablation(kg: KnowledgeGraph, mined: list[MinedPlan], held_out, workdir: Path, cache: Path) -> dict:
    encoder = TextEncoder()
    figures = {}
    for name, config in ABLATION.items():
        config = config.model_copy(update={"holdout_share": 0.2})
        folder = workdir / name
        card = train_search_planner(kg, mined, folder, config, encoder=encoder, sources=["ablation"], command="bench",
                                    cache_dir=cache, log=lambda _: None)
        agent = Agent({"kg": kg_tool(EmbeddingPlanner(kg, folder, encoder=encoder))})
        summary = run_tool(agent, None, "kg", items(held_out), workdir / f"{name}.jsonl", concurrency=1, workers=2)
        figures[name] = {"parameters": card.parameters, "scorer_loop_seconds": card.train_seconds,
                         "validation_plan_exact": card.validation.get("all", {}).get("plan_exact"),
                         **{k: summary[k] for k in ("hits_at_1", "micro_f1")},
                         **{f"{h}-hop_micro_f1": summary[f"{h}-hop"]["micro_f1"] for h in (1, 2, 3)},
                         "scorer_kb": round((folder / SCORER_FILE).stat().st_size / 1024)}
        print(f"ablation {name}: {json.dumps(figures[name])}", flush=True)
    return figures


def write_questions(path: Path, questions) -> None:
    with path.open("w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps({"id": q.id, "question": q.question, "answers": q.answers, "hops": q.hops}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="store_true", help="retrain the shipped scorer first (timed)")
    parser.add_argument("--ablation", action="store_true", help="retrain and score the graph-feature variants")
    parser.add_argument("--llm-every", type=int, default=7, help="the LLM planner answers every Nth held-out question (0: skip)")
    parser.add_argument("--name", default="search")
    args = parser.parse_args()

    held_out = [q for hops in (1, 2, 3) for q in read_questions(METAQA / f"qa_{hops}hop_dev.txt") if is_held_out(q.id)]
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average_at_start": os.getloadavg(),
                     "scorer": str(SCORER.relative_to(ROOT)), "questions": len(held_out)}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.train:
            figures["training"] = train_shipped(workdir / "fresh-cache")
            print("training:", json.dumps(figures["training"]), flush=True)
        card = json.loads((SCORER / "search.json").read_text())
        figures["parameters"] = card["parameters"]
        figures["training_minutes"] = round(card["total_seconds"] / 60, 2)

        slice_file = workdir / "held_out.jsonl"
        write_questions(slice_file, held_out)
        answers = workdir / "embedding.jsonl"
        figures["batch"] = cli_batch(slice_file, answers, workdir, "--planner", "embedding", "--llm-url", DEAD_LLM)
        figures["batch"] |= planner_record(answers)
        print("batch:", json.dumps(figures["batch"]), flush=True)

        figures["planner_only"] = planner_only(held_out)
        print("planner only:", json.dumps(figures["planner_only"]), flush=True)

        if args.llm_every:
            sample = held_out[:: args.llm_every]
            sample_file = workdir / "sample.jsonl"
            write_questions(sample_file, sample)
            search = cli_batch(sample_file, workdir / "sample-embedding.jsonl", workdir, "--planner", "embedding",
                               "--llm-url", DEAD_LLM)
            llm = cli_batch(sample_file, workdir / "sample-llm.jsonl", workdir, "--planner", "auto", "--concurrency", "64")
            keep = ("n", "questions_per_s", "seconds", "wall_seconds_including_start", "hits_at_1", "micro_f1")
            figures["versus_llm"] = {
                "questions": len(sample), "embedding": {k: search[k] for k in keep}, "llm_distilled": {k: llm[k] for k in keep},
                "speedup_questions_per_s": round(search["questions_per_s"] / llm["questions_per_s"], 1),
                "speedup_wall_including_start": round(llm["wall_seconds_including_start"] / search["wall_seconds_including_start"], 1),
            }
            print("versus LLM:", json.dumps(figures["versus_llm"]), flush=True)

        if args.ablation:
            kg = KnowledgeGraph.load(METAQA / "kb.txt")
            mined = read_mined_plans(PLANS)
            figures["ablation"] = ablation(kg, mined, held_out, workdir, workdir / "cache")
    figures["load_average_at_end"] = os.getloadavg()
    out = HERE / "results" / f"{args.name}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
