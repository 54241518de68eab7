"""Formulas as the tool reads, fits and reports them.

A proposed *form* is an expression over the data's column names with free constants written `c`
(each `c` is its own constant: `c*sin(c*x)` has two). It is read by walking Python's syntax tree
(`ast.parse` only parses) into sympy, accepting numbers, the column names, `c`, the arithmetic
operators and the functions of FUNCTIONS, and nothing else; sympy's own `parse_expr` evaluates its
input with `eval`, which a string from a model must never reach.

A form's constants are fitted by least squares: directly when the form is linear in them (a sum of
`c * term`), else by `scipy.optimize.curve_fit` from several random starts within a time budget.
The fitted formula is then made as plain as the data allows (each constant rounded to the fewest
significant digits that keep the error, zero terms dropped), and measured: NMSE and R² on the
training and validation rows, and complexity as the node count of its sympy tree.
"""

from __future__ import annotations

import ast
import math
import time
import warnings

import numpy as np
import sympy

FUNCTIONS = {"sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp, "log": sympy.log,
             "sqrt": sympy.sqrt, "abs": sympy.Abs, "tanh": sympy.tanh}
CONSTANT = "c"
NAMED = {"pi": sympy.pi, "E": sympy.E}  # as sympy prints them
MAX_CONSTANTS = 8
MAX_LENGTH = 300  # characters of a proposed form
MAX_EXPONENT = 64  # of a number written as an exponent
MAX_DIGITS = 300  # decimal digits of a number a form computes (its powers are checked before they are built)


class FormError(ValueError):
    """A proposal that is not a form over the data's columns; the message says why (it is fed back)."""


def parse(text: str, names: list[str], max_length: int = MAX_LENGTH) -> sympy.Expr:
    """`text` as a sympy expression over `names` (as symbols of those names) and constants `c0, c1, ...`."""
    text = text.strip().replace("^", "**")
    if not text:
        raise FormError("empty")
    if len(text) > max_length:
        raise FormError(f"longer than {max_length} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise FormError(f"does not parse ({e.msg})") from None
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    constants: list[sympy.Symbol] = []

    def walk(node: ast.AST) -> sympy.Expr:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Float(node.value)
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            if node.id in NAMED:
                return NAMED[node.id]
            if node.id == CONSTANT:
                if len(constants) == MAX_CONSTANTS:
                    raise FormError(f"more than {MAX_CONSTANTS} constants")
                constants.append(sympy.Symbol(f"c{len(constants)}", real=True))
                return constants[-1]
            raise FormError(f"unknown name {node.id!r} (the columns are {', '.join(names)}; constants are written c)")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            if name in FUNCTIONS and len(node.args) == 1:
                return FUNCTIONS[name](walk(node.args[0]))
            if name == "pow" and len(node.args) == 2:
                return power(walk(node.args[0]), walk(node.args[1]))
            raise FormError(f"unknown function {name!r} (allowed: {', '.join(sorted(FUNCTIONS))}, pow)")
        raise FormError(f"{ast.unparse(node)!r} is not allowed in a formula")

    try:
        expr = walk(tree)
    except RecursionError:
        raise FormError("nested too deeply") from None
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise FormError("is undefined (divides by zero)")
    return expr


def power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """`base ** exponent`, refused before sympy builds it when it would be a blow-up: a number as exponent over
    MAX_EXPONENT, or a power of numbers over MAX_DIGITS digits (99**(99**6) would hold the process for good)."""
    if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
        raise FormError(f"has an exponent over {MAX_EXPONENT}")
    if base.is_Number and exponent.is_Number and base != 0:
        try:
            digits = abs(float(exponent)) * math.log10(abs(float(base)))
        except (OverflowError, ValueError):
            digits = math.inf
        if digits > MAX_DIGITS:
            raise FormError(f"computes a number of over {MAX_DIGITS} digits")
    return base ** exponent


OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: a / b, ast.Pow: power}


def constants_of(expr: sympy.Expr) -> list[sympy.Symbol]:
    return sorted((s for s in expr.free_symbols if s.name.startswith("c") and s.name[1:].isdigit()),
                  key=lambda s: int(s.name[1:]))


def complexity(expr: sympy.Expr) -> int:
    """Nodes of the expression tree (SRBench's model size)."""
    return sum(1 for _ in sympy.preorder_traversal(expr))


def skeleton(expr: sympy.Expr, names: list[str]) -> str:
    """`expr` with its numbers written `c` (its form), in the proposal language. Whole-number exponents
    (squares, roots, inverses) are part of the form and stay."""
    placeholder = sympy.Symbol(CONSTANT)

    def walk(e: sympy.Expr) -> sympy.Expr:
        if e.is_Number:
            return placeholder
        if e.is_Pow and e.exp.is_Rational:
            return sympy.Pow(walk(e.base), e.exp)
        if not e.args:
            return e
        return e.func(*(walk(a) for a in e.args))

    return show(walk(expr))


def show(expr: sympy.Expr) -> str:
    """Python-style text sympy and this module's `parse` both read."""
    return sympy.sstr(expr, full_prec=False).replace("Abs(", "abs(")


# ---- numbers -----------------------------------------------------------------------------------


def nmse(y: np.ndarray, predicted: np.ndarray, variance: float | None = None) -> float:
    """Mean squared error over the target's variance (1 for predicting the mean), or over `variance` when
    given (the whole target's, for a few held-out rows); inf when not finite."""
    if predicted.shape != y.shape or not np.all(np.isfinite(predicted)):
        return math.inf
    with np.errstate(all="ignore"):
        variance = float(np.var(y)) if variance is None else variance
        error = float(np.mean((y - predicted) ** 2))
    return error / variance if variance > 0 else (0.0 if error == 0 else math.inf)


def r2(y: np.ndarray, predicted: np.ndarray, variance: float | None = None) -> float:
    return 1.0 - nmse(y, predicted, variance)


def evaluator(expr: sympy.Expr, names: list[str]):
    """A numpy function of (columns, constants) for `expr`."""
    columns = [sympy.Symbol(n, real=True) for n in names]
    return sympy.lambdify([columns, constants_of(expr)], expr, modules="numpy")


def predict(expr: sympy.Expr, names: list[str], X: np.ndarray) -> np.ndarray:
    """`expr` (no free constants left) on the rows of X; non-finite where it is undefined."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = evaluator(expr, names)(list(X.T), [])
        except (ZeroDivisionError, OverflowError, ValueError, TypeError, AttributeError, KeyError, NameError):
            return np.full(len(X), np.nan)
    value = np.asarray(value, dtype=float) if np.isrealobj(value) else np.full(len(X), np.nan)
    return np.broadcast_to(value, (len(X),)).astype(float) if value.ndim == 0 else value


def score(nmse_train: float, nodes: int) -> float:
    """ICSR's score, lower is better: 1 / (1/(1+NMSE) + λ·exp(−nodes/30)), λ = 0.05."""
    accuracy = 1.0 / (1.0 + nmse_train) if math.isfinite(nmse_train) else 0.0
    return 1.0 / (accuracy + 0.05 * math.exp(-nodes / 30))


def fit(form: sympy.Expr, names: list[str], X: np.ndarray, y: np.ndarray, *,
        restarts: int = 5, seconds: float = 2.0, seed: int = 0) -> tuple[sympy.Expr, float] | None:
    """The form's constants fitted on (X, y): the fitted expression and its training NMSE, or None when no
    start gives a finite fit."""
    constants = constants_of(form)
    if not constants:
        return form, nmse(y, predict(form, names, X))
    linear = _linear_parts(form, constants)
    if linear is not None:
        values = _fit_linear(linear, names, X, y)
    else:
        values = _fit_nonlinear(form, constants, names, X, y, restarts=restarts, seconds=seconds, seed=seed)
    if values is None:
        return None
    fitted = form.xreplace({c: sympy.Float(v) for c, v in zip(constants, values)})
    error = nmse(y, predict(fitted, names, X))
    return (fitted, error) if math.isfinite(error) else None


def _linear_parts(form: sympy.Expr, constants: list[sympy.Symbol]) -> tuple[list[sympy.Expr], sympy.Expr] | None:
    """(term per constant, rest) when form = Σ c_i·term_i + rest with no constant inside a term; else None."""
    terms = [sympy.diff(form, c) for c in constants]
    if any(t.has(*constants) for t in terms):
        return None
    rest = form.xreplace({c: 0 for c in constants})
    return terms, rest


def _fit_linear(parts, names, X, y) -> np.ndarray | None:
    terms, rest = parts
    columns = [np.broadcast_to(predict(t, names, X), (len(X),)) for t in terms]
    offset = predict(rest, names, X) if rest != 0 else np.zeros(len(X))
    A = np.column_stack(columns)
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(offset))):
        return None
    values, *_ = np.linalg.lstsq(A, y - offset, rcond=None)
    return values


def _fit_nonlinear(form, constants, names, X, y, *, restarts: int, seconds: float, seed: int) -> np.ndarray | None:
    from scipy.optimize import curve_fit

    f = evaluator(form, names)
    columns = list(X.T)

    def model(_, *c):
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(f(columns, list(c)), dtype=float), y.shape)
        return np.where(np.isfinite(value), value, 1e150)

    rng = np.random.default_rng(seed)
    deadline = time.perf_counter() + seconds
    best, best_error = None, math.inf
    # from all ones, then random starts of either sign, then positive ones (an argument of log or sqrt stays defined)
    starts = [np.ones(len(constants))] + [rng.uniform(-2, 2, len(constants)) if k % 2 == 0 else rng.uniform(0.1, 5, len(constants))
                                          for k in range(restarts - 1)]
    for start in starts:
        if time.perf_counter() > deadline:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values, _ = curve_fit(model, None, y, p0=start, maxfev=400 * (len(constants) + 1))
            except (RuntimeError, ValueError, TypeError, ZeroDivisionError, OverflowError, FloatingPointError):
                continue
            error = float(np.mean((model(None, *values) - y) ** 2))
        if math.isfinite(error) and error < best_error:
            best, best_error = values, error
        if best_error <= 1e-24 * max(float(np.var(y)), 1e-300):
            break
    return best


# ---- plain answers -----------------------------------------------------------------------------


def plain(expr: sympy.Expr, names: list[str], X: np.ndarray, y: np.ndarray, tolerance: float = 1e-12) -> sympy.Expr:
    """`expr` with each constant as plain as the fit allows: 0, else an integer, else the fewest significant
    digits (up to 6) whose training NMSE stays within `tolerance` (absolute, or 1% relative) of the exact
    fit's; then simplified when that does not make it longer."""
    base = nmse(y, predict(expr, names, X))
    allowed = max(base * 1.01, base + tolerance)
    for number in sorted({a for a in sympy.preorder_traversal(expr) if isinstance(a, sympy.Float)}, key=abs):
        for rounded in _roundings(float(number)):
            candidate = expr.xreplace({number: _number(rounded)})
            if nmse(y, predict(candidate, names, X)) <= allowed:
                expr = candidate
                break
    simpler = _simplify(expr)
    if complexity(simpler) <= complexity(expr) and _readable(simpler, names) and nmse(y, predict(simpler, names, X)) <= allowed:
        return simpler
    return expr


def _readable(expr: sympy.Expr, names: list[str]) -> bool:
    """Whether the printed formula reads back (simplification can bring in functions the forms do not have)."""
    try:
        parse(show(expr), names)
        return True
    except FormError:
        return False


def _simplify(expr: sympy.Expr) -> sympy.Expr:
    try:
        return sympy.simplify(expr) if complexity(expr) <= 40 else expr
    except Exception:  # noqa: BLE001 - sympy's simplification can fail in many ways; the unsimplified form stands
        return expr


def _roundings(value: float) -> list[float]:
    """Plainer numbers near `value`, plainest first: 0, the nearest integer, then 1 to 6 significant digits."""
    if not math.isfinite(value):
        return []
    return list(dict.fromkeys([0.0, float(round(value))] + [float(f"{value:.{d}g}") for d in range(1, 7)]))


def _number(value: float) -> sympy.Expr:
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, 6)
