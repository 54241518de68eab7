"""Rebuild the demo graph and its questions from a MetaQA folder: `python -m kg.demo METAQA_DIR`."""

import sys
from pathlib import Path

from kg.demo import DEMO_KB, DEMO_QUESTIONS, PEOPLE, SEED_FILMS
from kg.mining import mine_questions
from kg.paths import execute_plan
from kg.questions import read_questions
from kg.store import KnowledgeGraph


def main(metaqa: Path) -> None:
    kg = KnowledgeGraph.load(metaqa / "kb.txt")
    people = {p for film in SEED_FILMS for step in PEOPLE for p in kg.neighbours(film, step)}
    films = set(SEED_FILMS) | {f for p in people for step in PEOPLE for f in kg.neighbours(p, "~" + step)}
    lines = sorted(
        f"{kg.names[h]}|{kg.relations[r]}|{kg.names[t]}"
        for h, r, t in kg.triples.tolist()
        if kg.names[h] in films and (kg.relations[r] != "has_tags" or kg.names[h] in SEED_FILMS)
    )
    DEMO_KB.write_text("\n".join(lines) + "\n", encoding="utf-8")
    demo = KnowledgeGraph.load(DEMO_KB)
    print(f"{DEMO_KB}: {len(lines)} triples, {len(films)} films, {len(demo.names)} entities")

    kept = []
    for hops in (1, 2, 3):
        questions = [q for q in read_questions(metaqa / f"qa_{hops}hop_dev.txt") if q.marked_entity in SEED_FILMS]
        for m in mine_questions(kg, questions, workers=1):
            if m.exact and sorted(execute_plan(demo, [m.topic], m.plan).answers) == sorted(m.answers):
                kept.append(f"{m.question}\t{'|'.join(m.answers)}")
    DEMO_QUESTIONS.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"{DEMO_QUESTIONS}: {len(kept)} questions")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/metaqa"))
