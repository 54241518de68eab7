"""The formula proposer's training pairs: points in, the form that made them out.

As E2E and NeSymReS pretrain, the pairs are generated: a random expression over one to three
variables (operators + − × ÷, functions sin cos exp log sqrt, squares, cubes and inverses, constants
inside and outside), sampled on a random typical range, shown as points (`form_prompt`) → the
expression's form, its numbers written `c` (`expr.skeleton`). A share of the prompts also lists
forms "tried" with their fitted R², another random form or a mutation of the true one, so that the
model sees the OPRO-style prompt the tool's later rounds send. Nothing from a benchmark is used.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import numpy as np
import sympy
from pydantic import BaseModel

from tools.base import Pair
from tools.regress import expr as E
from tools.regress.prompt import form_prompt

NAME_STYLES = [(["x1", "x2", "x3"], "y"), (["x", "z", "w"], "y"), (["t", "u", "v"], "f")]
RANGES = [(-1, 1), (0, 1), (0, 2), (0, 4), (-2, 2), (-3, 3), (1, 5), (0, 10), (-5, 5)]
UNARY = ["sin", "cos", "exp", "log", "sqrt", "sq", "cube", "inv"]


class Problem(BaseModel):
    """A generated data set: its columns, its points, and the form that made them."""

    names: list[str]
    target: str
    X: list[list[float]]
    y: list[float]
    form: str  # the skeleton, constants as c
    expression: str  # with its numbers


def _constant(rng: random.Random) -> sympy.Expr:
    """A constant as data have them: often a small integer, else a number with two or three digits."""
    if rng.random() < 0.4:
        return sympy.Integer(rng.choice([1, 2, 3, -1, -2, 4, 5]))
    return sympy.Float(round(rng.uniform(-5, 5), rng.choice([1, 2, 3])) or 0.5, 4)


def _leaf(rng: random.Random, symbols: list[sympy.Symbol]) -> sympy.Expr:
    x = rng.choice(symbols)
    roll = rng.random()
    if roll < 0.6:
        return x
    if roll < 0.8:
        return _constant(rng) * x
    return x + _constant(rng)


def _tree(rng: random.Random, symbols: list[sympy.Symbol], depth: int) -> sympy.Expr:
    if depth == 0 or rng.random() < 0.3:
        return _leaf(rng, symbols)
    roll = rng.random()
    if roll < 0.35:
        inner = _tree(rng, symbols, depth - 1)
        op = rng.choice(UNARY)
        return {"sin": sympy.sin, "cos": sympy.cos, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
                "sq": lambda a: a ** 2, "cube": lambda a: a ** 3, "inv": lambda a: 1 / a}[op](inner)
    a, b = _tree(rng, symbols, depth - 1), _tree(rng, symbols, depth - 1)
    op = rng.choices(["+", "-", "*", "/", "pow"], weights=[4, 2, 4, 1.5, 0.5])[0]
    if op == "pow":
        return a ** (b if b.free_symbols and rng.random() < 0.3 else _constant(rng))
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[op]


def random_expression(rng: random.Random, symbols: list[sympy.Symbol]) -> sympy.Expr:
    """A random expression that uses every symbol, with an outer scale and offset half of the time."""
    for _ in range(50):
        e = _tree(rng, symbols, rng.choice([1, 2, 3, 3]))
        if E.complexity(e) < 6 and rng.random() < 0.7:  # fewer of the plainest forms (a line, a scaled variable)
            continue
        if e.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
            continue
        if set(symbols) <= e.free_symbols and 3 <= E.complexity(e) <= 25:
            if rng.random() < 0.5:
                e = _constant(rng) * e + (_constant(rng) if rng.random() < 0.5 else 0)
            return e
    return symbols[0]


def random_problem(rng: random.Random) -> Problem | None:
    """A generated data set, or None when the expression is undefined, flat or huge on its range."""
    d = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    style, target = rng.choice(NAME_STYLES)
    names = style[:d]
    symbols = [sympy.Symbol(n, real=True) for n in names]
    expression = random_expression(rng, symbols)
    lo, hi = rng.choice(RANGES)
    n = rng.choice([20, 30, 50])
    X = np.random.default_rng(rng.randrange(2**32)).uniform(lo, hi, (n, d))
    y = E.predict(expression, names, X)
    if not np.all(np.isfinite(y)) or np.std(y) < 1e-6 or np.max(np.abs(y)) > 1e5:
        return None
    return Problem(names=names, target=target, X=X.round(6).tolist(), y=y.tolist(), form=E.skeleton(expression, names),
                   expression=E.show(expression))


def _wrong_form(rng: random.Random, problem: Problem) -> str:
    """Another form to show as tried: a random one, or the true one with a function or operator changed."""
    symbols = [sympy.Symbol(n, real=True) for n in problem.names]
    if rng.random() < 0.5:
        return E.skeleton(random_expression(rng, symbols), problem.names)
    swaps = [("sin", "cos"), ("cos", "sin"), ("exp", "log"), ("**2", "**3"), ("**3", "**2"), (" + ", " - "), ("*", "/")]
    rng.shuffle(swaps)
    for old, new in swaps:
        if old in problem.form:
            return problem.form.replace(old, new, 1)
    return E.skeleton(random_expression(rng, symbols), problem.names)


def tried_lines(rng: random.Random, problem: Problem, count: int) -> list[tuple[str, float]]:
    """`count` wrong forms with their fitted training R², best last (as the tool shows them)."""
    X, y = np.array(problem.X), np.array(problem.y)
    lines = []
    for _ in range(count):
        form = _wrong_form(rng, problem)
        if form == problem.form:
            continue
        try:
            fitted = E.fit(E.parse(form, problem.names), problem.names, X, y, restarts=2, seconds=0.5)
        except E.FormError:
            continue
        if fitted and 1 - fitted[1] < 0.9999:  # a form that fits as well is the same form, not a wrong one
            lines.append((form, max(-1.0, 1 - fitted[1])))
    return sorted(lines, key=lambda line: line[1])


def training_pairs(count: int, *, seed: int = 0, tried_share: float = 0.4, log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    rng = random.Random(seed)
    pairs: list[Pair] = []
    tally: Counter = Counter()
    while len(pairs) < count:
        problem = random_problem(rng)
        if problem is None:
            tally["undefined or flat"] += 1
            continue
        tried = tried_lines(rng, problem, rng.choice([1, 2])) if rng.random() < tried_share else []
        source = "with tried" if tried else "points"
        prompt = form_prompt(problem.names, problem.target, np.array(problem.X), np.array(problem.y), tried,
                             seed=rng.randrange(2**32))
        pairs.append(Pair(prompt=prompt, target=problem.form, source=source, group=f"{seed}-{len(pairs)}"))
        tally[source] += 1
        if len(pairs) % 500 == 0:
            log(f"generated {len(pairs)}/{count} pairs")
    return pairs, {"pairs": {k: v for k, v in tally.items() if k in ("points", "with tried")},
                   "left_out": {k: v for k, v in tally.items() if k not in ("points", "with tried")}}


def card_intro(card) -> str:
    """The card's title, and its account of the adapter and its data (agent/training.py adds the run and validation)."""
    pairs = ", ".join(f"{k}: {v:,}" for k, v in card.data["pairs"].items())
    return f"""# Distilled formula proposer

A LoRA adapter (rank {card.config.lora_rank}) on {card.base_model}, trained to write the form of the formula behind
a table of points (a header of column names, up to 16 rows, optionally `tried: FORM r2=…` lines, then `formula: `)
as one expression over the column names with its constants written `c`. Decoding is grammar-constrained at inference.

- Data: {pairs} generated pairs ({card.data['train']:,} trained on, {card.data['validation']:,} validation pairs held
  out by this run): random expressions over one to three variables sampled on typical ranges (tools/regress/pairs.py).
  No benchmark data.
"""


def pairs(data, generated: int, seed: int, log: Callable[[str], None] = print) -> tuple[list[Pair], dict]:
    """`generated` generated pairs (no data is read)."""
    return training_pairs(generated, seed=seed, log=log)
