"""A small demo graph bundled with the project: MetaQA triples around a dozen well-known films.

`movies.txt` holds every triple of the seed films and of the films that share a director, writer
or actor with them (tags only for the seeds, to keep it small), so most 1- to 3-hop questions
about the seeds answer exactly as on the full graph.
`questions.txt` holds MetaQA dev questions about the seeds whose answers the demo graph gives in full.
Rebuild both with `python -m kg.demo ../shared/data/metaqa`.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
DEMO_KB = DEMO_DIR / "movies.txt"
DEMO_QUESTIONS = DEMO_DIR / "questions.txt"

SEED_FILMS = [
    "The Matrix", "Pulp Fiction", "The Godfather", "Forrest Gump", "Titanic", "Jurassic Park",
    "Casablanca", "The Dark Knight", "Inception", "Amélie", "Spirited Away", "Alien", "Fight Club",
    "The Shawshank Redemption", "Back to the Future", "Toy Story",
]
PEOPLE = ("directed_by", "written_by", "starred_actors")
