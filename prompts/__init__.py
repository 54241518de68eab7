"""Prompt templates as data files, one per job, installed with the package."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def read(name: str) -> str:
    """The text of the template `name` (e.g. "kg_plan")."""
    return (FOLDER / f"{name}.txt").read_text(encoding="utf-8")
