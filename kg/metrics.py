"""Answer metrics, defined once for benchmarks and batch runs.

Hits@1: the top-ranked answer is in the gold set. Micro-F1: precision and recall over all
(question, answer) pairs pooled. Macro-F1: the mean of per-question F1. Exact match: the answer
set equals the gold set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel


class AnswerScores(BaseModel):
    n: int
    hits_at_1: float
    micro_f1: float
    macro_f1: float
    exact_match: float


def f1(predicted: set[str], gold: set[str]) -> float:
    hits = len(predicted & gold)
    return 0.0 if hits == 0 else 2 * hits / (len(predicted) + len(gold))


def score_answers(pairs: Iterable[tuple[Sequence[str], Sequence[str]]]) -> AnswerScores:
    """Score (ranked predicted answers, gold answers) pairs."""
    n = hits_at_1 = exact = tp = n_pred = n_gold = 0
    macro = 0.0
    for predicted, gold in pairs:
        p, g = set(predicted), set(gold)
        n += 1
        hits_at_1 += bool(predicted) and predicted[0] in g
        exact += p == g
        tp += len(p & g)
        n_pred += len(p)
        n_gold += len(g)
        macro += f1(p, g)
    micro = 0.0 if tp == 0 else 2 * tp / (n_pred + n_gold)
    if n == 0:
        return AnswerScores(n=0, hits_at_1=0.0, micro_f1=0.0, macro_f1=0.0, exact_match=0.0)
    return AnswerScores(
        n=n, hits_at_1=round(hits_at_1 / n, 4), micro_f1=round(micro, 4), macro_f1=round(macro / n, 4),
        exact_match=round(exact / n, 4),
    )
