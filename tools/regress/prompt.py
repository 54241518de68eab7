"""What the LLM is shown and what it may write: points in, one form out.

The prompt lists up to SHOWN points (sorted by the first variable, 3 significant digits) under a
header of the column names, then the best forms tried so far with their training R² (OPRO-style,
best last), then `formula:`. The model writes one form over the column names with its free
constants as `c`, decoded under a grammar of such forms (`form_grammar`), so every sample is made of
the column names, `c`, numbers, the operators and the functions tools/regress/expr.py accepts.
"""

from __future__ import annotations

import numpy as np

import prompts

SHOWN = 16
FUNCTIONS = ["sin", "cos", "exp", "log", "sqrt", "tanh", "tan", "abs"]


def show_number(value: float) -> str:
    return f"{value:.3g}"


def form_prompt(names: list[str], target: str, X: np.ndarray, y: np.ndarray, tried: list[tuple[str, float]] = (),
                shown: int = SHOWN, seed: int = 0) -> str:
    """The points (`shown` of them at most, an even spread of the rows) and the forms tried, best last."""
    rows = np.arange(len(y))
    if len(rows) > shown:
        rows = np.random.default_rng(seed).choice(rows, shown, replace=False)
    rows = rows[np.argsort(X[rows, 0], kind="stable")]
    lines = [" ".join([*names, target])]
    lines += [" ".join(show_number(v) for v in (*X[i], y[i])) for i in rows]
    lines += [f"tried: {form} r2={r2:.4f}" for form, r2 in tried]
    return "\n".join(lines) + "\nformula: "


def form_grammar(names: list[str]) -> str:
    """GBNF of the forms over `names`."""
    return prompts.render("regress_form.gbnf", name=prompts.choice(names), functions=prompts.choice(FUNCTIONS, longest_first=False))
