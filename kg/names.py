"""A graph's names, for entity linking: looked up exactly, by normal form (case, accents, punctuation), or fuzzily.

A graph in memory indexes its names in dictionaries. A graph in a store (`kg.rdf`) keeps them in a SQLite
file beside it (ids, names and normal forms, with a trigram index for the fuzzy lookups), so linking a
question reads a few rows and nothing of the graph is held in memory. Its fuzzy lookup scores only the names
that share one of the key's rarest trigrams (at most CANDIDATES of them), not every name: it finds typos
and near spellings, and may miss a far match the in-memory index scores ("teen" for "steven").
"""

from __future__ import annotations

import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from rapidfuzz import fuzz, process

CANDIDATES = 2_000  # names read from the trigram index per fuzzy lookup, then scored
RARE_TRIGRAMS = 6  # a fuzzy lookup asks the index for names sharing one of the key's rarest trigrams


def normalise(text: str) -> str:
    return letters(text).casefold()


def letters(text: str) -> str:
    """The words of `text` without accents, punctuation or underscores ("Alan_PULIDO" is "Alan PULIDO"), case kept."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


class NameIndex(Protocol):
    def has(self, name: str) -> bool: ...

    def named(self, normal: str) -> list[str]:
        """The names whose normal form is `normal`."""
        ...

    def fuzzy(self, key: str, limit: int, cutoff: float) -> list[tuple[str, float]]:
        """Up to `limit` normal forms like `key` (similarity 0-100, at least `cutoff`), the most alike first."""
        ...


class MemoryNames:
    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        self.by_normal: dict[str, list[str]] = {}
        for name in ids:
            self.by_normal.setdefault(normalise(name), []).append(name)
        self.normals = list(self.by_normal)

    def has(self, name: str) -> bool:
        return name in self.ids

    def named(self, normal: str) -> list[str]:
        return self.by_normal.get(normal, [])

    def fuzzy(self, key: str, limit: int, cutoff: float) -> list[tuple[str, float]]:
        return [(n, s) for n, s, _ in process.extract(key, self.normals, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)]


class SqliteNames:
    """The names of a stored graph: `names(id, name, normal)` and a trigram index of the normal forms."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"name index not found: {path}")
        self.path = path
        self._opened: tuple[int, sqlite3.Connection] | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection of this process's own (a forked worker opens another)."""
        if self._opened is None or self._opened[0] != os.getpid():
            self._opened = (os.getpid(), sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False))
        return self._opened[1]

    @classmethod
    def build(cls, path: Path, names: Iterable[tuple[int, str]], progress: Callable[[int], None] | None = None) -> SqliteNames:
        """Write the index of `names`, (id, name) pairs in any order, to `path`, replacing any there."""
        path.unlink(missing_ok=True)
        db = sqlite3.connect(path)
        db.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
            CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL, normal TEXT NOT NULL);
            CREATE VIRTUAL TABLE normals USING fts5(normal, tokenize = 'trigram');
            CREATE VIRTUAL TABLE trigrams USING fts5vocab(normals, 'row');
        """)
        batch: list[tuple[int, str, str]] = []
        for i, name in names:
            batch.append((i, name, normalise(name)))
            if len(batch) == 100_000:
                _insert(db, batch, progress)
        _insert(db, batch, progress)
        db.executescript("""
            CREATE UNIQUE INDEX names_name ON names(name);
            CREATE INDEX names_normal ON names(normal);
            INSERT INTO normals(normal) SELECT DISTINCT normal FROM names WHERE length(normal) >= 3;
        """)
        db.commit()
        db.close()
        return cls(path)

    def has(self, name: str) -> bool:
        return self.id_of(name) is not None

    def id_of(self, name: str) -> int | None:
        row = self.db.execute("SELECT id FROM names WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def name_of(self, ids: list[int]) -> list[str]:
        found: dict[int, str] = {}
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            found.update(self.db.execute(f"SELECT id, name FROM names WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return [found[i] for i in ids]

    def names(self) -> Iterable[str]:
        return (name for (name,) in self.db.execute("SELECT name FROM names ORDER BY id"))

    def named(self, normal: str) -> list[str]:
        return [name for (name,) in self.db.execute("SELECT name FROM names WHERE normal = ? ORDER BY id", (normal,))]

    def fuzzy(self, key: str, limit: int, cutoff: float) -> list[tuple[str, float]]:
        grams = sorted({key[i : i + 3] for i in range(len(key) - 2)})
        if not grams:
            return []
        counts = dict(self.db.execute(f"SELECT term, doc FROM trigrams WHERE term IN ({','.join('?' * len(grams))})", grams))
        rare = sorted((g for g in grams if g in counts), key=counts.get)[:RARE_TRIGRAMS]
        if not rare:
            return []
        query = " OR ".join('"' + g.replace('"', '""') + '"' for g in rare)
        candidates = [n for (n,) in self.db.execute("SELECT normal FROM normals WHERE normals MATCH ? LIMIT ?", (query, CANDIDATES))]
        return [(n, s) for n, s, _ in process.extract(key, candidates, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)]


def _insert(db: sqlite3.Connection, batch: list[tuple[int, str, str]], progress: Callable[[int], None] | None) -> None:
    db.executemany("INSERT INTO names VALUES (?, ?, ?)", batch)
    if progress:
        progress(len(batch))
    batch.clear()
