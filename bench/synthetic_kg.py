"""A synthetic movie graph shaped like MetaQA's, of any size: MetaQA's nine relations, movies at the head of
every one, and skewed degrees for people, tags and languages, so a few entities have huge fan-outs.

    python bench/synthetic_kg.py --triples 100000000 --out /tmp/kg100m.txt

Also writes MetaQA-style questions of 1, 2 and 3 hops over it (`--questions`), with their gold answers, for
`reasoner batch`. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# relation: (mean edges per movie, the pool its tails come from, skew): a tail's rank is pool * u**skew for a uniform u,
# so with skew k the entity of rank r is drawn in proportion to r**(1/k - 1) (1: uniform; 2: the top person of 2.5M
# about 1,600 times as often as the median one)
RELATIONS = {
    "directed_by": (1.1, "Person", 2),
    "written_by": (1.5, "Person", 2),
    "starred_actors": (3.0, "Person", 2),
    "release_year": (1.0, "Year", 1),
    "in_language": (1.0, "Language", 3),
    "has_tags": (1.6, "Tag", 2),
    "has_genre": (1.0, "Genre", 1.5),
    "has_imdb_votes": (0.45, "Votes", 1),
    "has_imdb_rating": (0.45, "Rating", 1),
}
FIXED_POOLS = {"Year": 120, "Language": 150, "Genre": 24, "Votes": 3, "Rating": 90}
EDGES_PER_MOVIE = sum(r[0] for r in RELATIONS.values())
BLOCK = 200_000  # movies per written block

# (plan, question template): MetaQA's kinds of question
QUESTIONS = {
    1: [(["directed_by"], "who directed [{}]"), (["~starred_actors"], "what films did [{}] act in"),
        (["release_year"], "when was [{}] released"), (["has_genre"], "what genre is [{}]")],
    2: [(["~directed_by", "starred_actors"], "who acted in the movies directed by [{}]"),
        (["starred_actors", "~starred_actors"], "which movies share actors with [{}]"),
        (["~written_by", "release_year"], "when were the movies written by [{}] released")],
    3: [(["directed_by", "~directed_by", "has_genre"], "what genres are the films by the director of [{}]"),
        (["written_by", "~written_by", "in_language"], "what languages are the movies by the writer of [{}] in"),
        (["starred_actors", "~starred_actors", "directed_by"], "who directed the movies that share actors with [{}]")],
}


def name(pool: str, i: int) -> str:
    return f"{pool} {i}" if pool != "Year" else str(1900 + i)


def pools(movies: int) -> dict[str, int]:
    return {"Person": max(10, int(movies * 0.25)), "Tag": max(10, int(movies * 0.02)), **FIXED_POOLS}


def _tails(rng: np.random.Generator, size: int, pool: int, skew: float) -> np.ndarray:
    ranks = (pool * rng.random(size) ** skew).astype(np.int64)
    return (ranks * 2_654_435_761) % pool  # scatter the popular ones over the id range


def generate(triples: int, out: Path, seed: int = 0) -> dict:
    """Write about `triples` lines of `Movie i|relation|tail`; return the graph's sizes."""
    rng = np.random.default_rng(seed)
    movies = int(triples / EDGES_PER_MOVIE)
    sizes = pools(movies)
    written = 0
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as f:
        for start in range(0, movies, BLOCK):
            block = np.arange(start, min(start + BLOCK, movies))
            lines: list[str] = []
            for relation, (mean, pool, skew) in RELATIONS.items():
                counts = rng.poisson(mean, len(block))
                heads = np.repeat(block, counts)
                tails = _tails(rng, len(heads), sizes[pool], skew)
                lines += [f"Movie {h}|{relation}|{name(pool, t)}\n" for h, t in zip(heads.tolist(), tails.tolist())]
            f.writelines(lines)
            written += len(lines)
            print(f"\r{written:,} triples", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    partial.replace(out)
    return {"triples_written": written, "movies": movies, "pools": sizes}


def questions(triples: int, per_hop: int, seed: int = 1) -> list[tuple[int, list[str], str, str]]:
    """(hops, plan, topic, question) with topics drawn at random: a movie or a person as the plan starts."""
    rng = np.random.default_rng(seed)
    movies = int(triples / EDGES_PER_MOVIE)
    people = pools(movies)["Person"]
    found = []
    for hops, kinds in QUESTIONS.items():
        for i in range(per_hop):
            plan, template = kinds[i % len(kinds)]
            topic = name("Person", int(rng.integers(people))) if plan[0].startswith("~") else name("Movie", int(rng.integers(movies)))
            found.append((hops, plan, topic, template.format(topic)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=100_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(generate(args.triples, args.out, args.seed))


if __name__ == "__main__":
    main()
