"""The non-LLM proposer: forms found by enumerating terms bottom-up and combining them linearly.

1. Terms: every expression up to `max_size` nodes over the columns and the number 1, with the unary
   functions sin, cos, exp, log, sqrt, square, cube and 1/t and the binary + − × ÷ and power, built
   bottom-up on the data's rows and kept once per distinct column of values (observational
   equivalence, as in the induce tool's value search); undefined or constant columns are dropped.
2. Linear combinations, each fitted by least squares: `c + c·t` for every term, `c + c·u·v` for
   pairs of small terms, and two or three terms grown greedily from the best (a new term is scored
   by its correlation with what the chosen ones leave unexplained, which is the least-squares
   answer); sparse polynomials (monomials up to a degree, pruned).
3. The best structures again with free constants inside (x → c·x, x → x + c, 1 → c, t → t**c),
   fitted by `curve_fit` in the caller.

Each form comes out as text in the proposal language (constants as `c`), so the tool fits, scores
and reports it exactly as it does the LLM's.
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np

UNARY = {
    "sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "sq": np.square, "cube": lambda v: v ** 3, "inv": lambda v: 1.0 / v,
}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "pow": np.power}
COMMUTATIVE = {"+", "*"}


class Terms:
    """Distinct terms up to a size: their trees (tuples) and their values on every row."""

    def __init__(self, X: np.ndarray, max_size: int, *, limit: int = 30000, deadline: float | None = None) -> None:
        self.trees: list[tuple] = []
        self.sizes: list[int] = []
        columns: list[np.ndarray] = []
        seen: set[bytes] = set()
        by_size: dict[int, list[int]] = {}
        n = len(X)

        def add(tree: tuple, size: int, values: np.ndarray) -> None:
            if len(self.trees) >= limit or values.shape != (n,) or not np.all(np.isfinite(values)):
                return
            if np.max(np.abs(values)) > 1e8:
                return
            key = np.round(values, 9).tobytes()
            if key in seen:
                return
            seen.add(key)
            self.trees.append(tree)
            self.sizes.append(size)
            columns.append(values)
            by_size.setdefault(size, []).append(len(self.trees) - 1)

        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add(("1",), 1, np.ones(n))
            for i in range(X.shape[1]):
                add(("x", i), 1, X[:, i].astype(float))
            for size in range(2, max_size + 1):
                if deadline and time.perf_counter() > deadline:
                    break
                for index in list(by_size.get(size - 1, [])):
                    for name, f in UNARY.items():
                        add((name, self.trees[index]), size, f(columns[index]))
                for left_size in range(1, size - 1):
                    right_size = size - 1 - left_size
                    for a in list(by_size.get(left_size, [])):
                        for b in list(by_size.get(right_size, [])):
                            for name, f in BINARY.items():
                                if name in COMMUTATIVE and left_size == right_size and b < a:
                                    continue
                                add((name, self.trees[a], self.trees[b]), size, f(columns[a], columns[b]))
        self.values = np.array(columns) if columns else np.zeros((0, n))
        # As regressors, terms equal up to scale and offset are one (a·t + b is fitted anyway): keep the smallest.
        usable, affine = [], set()
        for k in np.argsort(self.sizes, kind="stable"):
            v = self.values[k]
            spread = v.std()
            if spread <= 1e-12 * (1 + np.abs(v).max()):
                continue
            z = (v - v.mean()) / spread
            z = z if z[np.flatnonzero(np.abs(z) > 1e-9)[0]] > 0 else -z
            key = np.round(z, 7).tobytes()
            if key not in affine:
                affine.add(key)
                usable.append(int(k))
        self.usable = np.array(sorted(usable), dtype=int)  # indices of the terms worth fitting


def text(tree: tuple, names: list[str]) -> str:
    """A term in the proposal language."""
    head = tree[0]
    if head == "1":
        return "1"
    if head == "x":
        return names[tree[1]]
    if head in UNARY:
        inner = text(tree[1], names)
        return {"sq": f"({inner})**2", "cube": f"({inner})**3", "inv": f"1/({inner})"}.get(head, f"{head}({inner})")
    left, right = text(tree[1], names), text(tree[2], names)
    return f"({left})**({right})" if head == "pow" else f"({left}) {head} ({right})"


def _linear_form(trees: list[tuple], names: list[str]) -> str:
    return "c + " + " + ".join(f"c*({text(t, names)})" for t in trees)


def _r2_of(y: np.ndarray, A: np.ndarray) -> np.ndarray:
    """R² of the best fit y ≈ a + b·A[k] for every row k of A at once."""
    yc = y - y.mean()
    Ac = A - A.mean(axis=1, keepdims=True)
    num = (Ac @ yc) ** 2
    den = (Ac * Ac).sum(axis=1) * (yc @ yc)
    with np.errstate(all="ignore"):
        r = np.where(den > 0, num / den, 0.0)
    return np.nan_to_num(r, nan=0.0)


def _residual(y: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """What least squares on `basis` (rows are regressors) leaves of y (or of each row of a matrix y)."""
    B = basis.T
    coef, *_ = np.linalg.lstsq(B, y.T, rcond=None)
    return (y.T - B @ coef).T


def linear_forms(X: np.ndarray, y: np.ndarray, names: list[str], *, max_size: int, top: int = 40, seconds: float = 10.0,
                 ) -> list[tuple[float, int, str, str]]:
    """Forms `c + Σ c·term` from enumerated terms, as (training R², size, text, family), best first; the
    family is single, product, sum (of two or three terms) or polynomial."""
    deadline = time.perf_counter() + seconds
    terms = Terms(X, max_size, deadline=deadline)
    usable = terms.usable
    A = terms.values[usable]
    sizes = np.array(terms.sizes)[usable]
    found: dict[str, tuple[float, int, str]] = {}
    if not len(usable):
        return []
    single = _r2_of(y, A)
    order = np.argsort(-single + 1e-6 * sizes)
    for k in order[:top]:
        found[_linear_form([terms.trees[usable[k]]], names)] = (float(single[k]), int(sizes[k]) + 3, "single")
    # products of two small terms
    small = np.flatnonzero(sizes <= 3)
    if len(small) and len(small) ** 2 <= 400_000:
        products = (A[small][:, None, :] * A[small][None, :, :]).reshape(-1, A.shape[1])
        scores = _r2_of(y, products)
        for flat in np.argsort(-scores)[:top]:
            i, j = divmod(int(flat), len(small))
            if j < i:
                continue
            a, b = usable[small[i]], usable[small[j]]
            form = f"c + c*({text(terms.trees[a], names)})*({text(terms.trees[b], names)})"
            found.setdefault(form, (float(scores[flat]), int(sizes[small[i]] + sizes[small[j]]) + 4, "product"))
    # two and three terms, grown greedily from the best
    ones = np.ones((1, A.shape[1]))
    frontier = [[int(k)] for k in dict.fromkeys([*order[:3 * top], *np.flatnonzero(sizes <= 3)])]
    for width in (2, 3):
        grown: list[tuple[float, list[int]]] = []
        for chosen in frontier:
            if time.perf_counter() > deadline:
                break
            basis = np.vstack([ones, A[chosen]])
            ry = _residual(y, basis)
            if ry @ ry < 1e-30 * (y @ y + 1e-300):
                continue
            RA = _residual(A, basis)
            gain = _r2_of(ry, RA)
            gain[chosen] = 0
            for k in np.argsort(-gain + 1e-6 * sizes)[:6]:
                total = 1 - (1 - gain[k]) * (ry @ ry) / ((y - y.mean()) @ (y - y.mean()) + 1e-300)
                grown.append((float(total), sorted(chosen + [int(k)])))
        grown = sorted({tuple(c): (r, c) for r, c in grown}.values(), key=lambda rc: -rc[0])[:3 * top]
        for r, chosen in grown:
            trees = [terms.trees[usable[k]] for k in chosen]
            found.setdefault(_linear_form(trees, names), (r, int(sum(sizes[k] for k in chosen)) + 1 + 2 * len(chosen), "sum"))
        frontier = [c for _, c in grown[:top]]
    found.update(polynomial_forms(X, y, names))
    return sorted(((r, size, form, family) for form, (r, size, family) in found.items()), key=lambda t: (-round(t[0], 9), t[1]))


def polynomial_forms(X: np.ndarray, y: np.ndarray, names: list[str], max_degree: int = 6) -> dict[str, tuple[float, int, str]]:
    """Sparse polynomials: monomials up to a total degree (6 in one variable, 4 in two, 3 in up to five,
    else 1) chosen one at a time, each the one that best explains what the chosen leave (orthogonal
    matching pursuit); every prefix is a form."""
    d = X.shape[1]
    degree = max_degree if d == 1 else 4 if d == 2 else 3 if d <= 5 else 1
    exponents = [e for total in range(1, degree + 1) for e in _compositions(total, d)]
    with np.errstate(all="ignore"):
        M = np.array([np.prod(X ** np.array(e), axis=1) for e in exponents])
    if not np.all(np.isfinite(M)):
        return {}
    found = {}
    yc = (y - y.mean()) @ (y - y.mean()) + 1e-300
    chosen: list[int] = []
    ones = np.ones((1, len(y)))
    for _ in range(min(8, len(y) - 3, len(exponents))):
        basis = np.vstack([ones, M[chosen]])
        ry = _residual(y, basis)
        if ry @ ry < 1e-28 * yc:
            break
        gain = _r2_of(ry, _residual(M, basis))
        gain[chosen] = -1
        chosen.append(int(np.argmax(gain)))
        r = _residual(y, np.vstack([ones, M[chosen]]))
        ordered = sorted(chosen, key=lambda k: (sum(exponents[k]), exponents[k][::-1]))
        form = "c + " + " + ".join(f"c*{_monomial(exponents[k], names)}" for k in ordered)
        found[form] = (float(1 - (r @ r) / yc), 2 + 4 * len(chosen), "polynomial")
    return found


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    return [e for e in itertools.product(range(total + 1), repeat=parts) if sum(e) == total]


def _monomial(exponent: tuple[int, ...], names: list[str]) -> str:
    return "*".join(names[i] if e == 1 else f"{names[i]}**{e}" for i, e in enumerate(exponent) if e)


def with_inner_constants(form: str, names: list[str], limit: int = 6) -> list[str]:
    """Variants of a form with free constants inside its terms: a column x as c*x or (x + c), a 1 as c,
    a square root as a power c."""
    variants = []
    for name in names:
        for replacement in (f"(c*{name})", f"({name} + c)"):
            variants.append(_replace_name(form, name, replacement))
    if len(names) > 1:
        scaled = form
        for name in names:
            scaled = _replace_name(scaled, name, f"(c*{name})")
        variants.append(scaled)
    if "(1)" in form:
        variants.append(form.replace("(1)", "(c)"))
    if "sqrt(" in form:
        variants.append(_sqrt_as_power(form))
    return [v for v in dict.fromkeys(variants) if v != form][:limit]


SCALED = ["sin", "cos", "exp", "log", "sqrt", ""]


def scaled_forms(names: list[str]) -> list[str]:
    """Forms with constants inside, by structure alone (no fitting needed to list them): with one variable,
    c·f(c·x + c) + c; with two, c·f(c·x)·g(c·z) + c and c·f(c·x) + c·g(c·z) + c, for f and g among
    sin, cos, exp, log, sqrt and the identity (and with one variable also c·x + c·f(c·x + c) + c)."""
    if len(names) == 1:
        x = names[0]
        return [f"c*{f}(c*{x} + c) + c" for f in SCALED if f] + [f"c*{x} + c*{f}(c*{x} + c) + c" for f in SCALED if f]
    if len(names) != 2:
        return []
    x, z = names
    forms = []
    for f in SCALED:
        for g in SCALED:
            if f or g:
                forms.append(f"c*{f}(c*{x})*{g}(c*{z}) + c")
                forms.append(f"c*{f}(c*{x}) + c*{g}(c*{z}) + c")
    return forms


def _replace_name(form: str, name: str, replacement: str) -> str:
    import re

    return re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w(])", replacement, form)


def _sqrt_as_power(form: str) -> str:
    """sqrt(u) written (u)**c, for the first square root."""
    start = form.index("sqrt(")
    depth, i = 0, start + 4
    for i in range(start + 4, len(form)):
        depth += form[i] == "("
        depth -= form[i] == ")"
        if depth == 0:
            break
    return form[:start] + f"({form[start + 5:i]})**c" + form[i + 1:]


def default_size(columns: int) -> int:
    """How deep to enumerate terms for this many input columns: smaller with more columns."""
    return 5 if columns <= 2 else 4 if columns <= 4 else 3
