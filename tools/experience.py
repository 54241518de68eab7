"""One expert-iteration round's gathering, shared by the tools that have one (tools/induce/iterate.py,
tools/regress/iterate.py): each task's lessons drawn `concurrency` at a time, with progress in the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.base import Pair


def gather(items: Sequence[Any], lesson: Callable[[Any], tuple[list[Pair], Counter]], *, concurrency: int, unit: str,
           log: Callable[[str], None], every: int = 50) -> tuple[list[Pair], dict]:
    """The pairs every item teaches, and what they are: items, outcomes, pairs per source."""
    pairs: list[Pair] = []
    tally: Counter = Counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for done, (found, counts) in enumerate(pool.map(lesson, items), 1):
            pairs += found
            tally.update(counts)
            if done % every == 0:
                log(f"experience: {done} of {len(items)} {unit}: {dict(tally)}")
    by_source = Counter(p.source for p in pairs)
    log(f"experience: {dict(tally)}; pairs {dict(by_source)}")
    return pairs, {"tasks": len(items), "outcomes": dict(tally), "pairs": dict(by_source)}
