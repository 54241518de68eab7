"""Prompt templates and decoding grammars as data files, named by tool (`kg_plan.txt`, `logic_formula.gbnf`),
installed with the package. `$name` in a file is filled by `render`."""

from __future__ import annotations

from pathlib import Path
from string import Template

FOLDER = Path(__file__).resolve().parent


def read(name: str) -> str:
    """The text of the file `name` (e.g. "kg_plan.txt")."""
    return (FOLDER / name).read_text(encoding="utf-8")


def render(name: str, /, **values: str) -> str:
    """The file `name` with each `$key` replaced by `values[key]`; a key left unfilled is an error."""
    return Template(read(name)).substitute(values)


def choice(words: list[str], longest_first: bool = True) -> str:
    """A GBNF alternation of the literal `words` (longest first, so no word is cut at a shorter one's end)."""
    ordered = sorted(words, key=len, reverse=True) if longest_first else words
    return " | ".join(f'"{w}"' for w in ordered)
