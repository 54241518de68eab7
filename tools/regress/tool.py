"""The symbolic regression tool: forms are proposed, their constants fitted, and the best formula checked.

In-Context Symbolic Regression's loop on the tool interface (tools/base.py). Each round pools forms
(expressions over the columns with free constants `c`) from the LLM, sampled under a grammar of such
forms and shown the points and the best forms so far with their R² (OPRO-style), and from the
generator (tools/regress/generator.py: enumerated terms combined linearly, then the best with
constants inside). With both on, the first round is the generator's alone, so a table it solves costs
no model call, and the LLM's first draw sees the generator's closest forms. Executing the pool parses
every form (what does not parse, or names an unknown column, is rejected with the reason), fits its
constants on the training rows (least squares, or `curve_fit` from several starts within a time limit),
makes the constants as plain as the fit allows, and measures it on the validation rows it was not fitted on. The answer is the simplest of the forms
whose validation error is near the best; a form that fits the training rows but not the validation
rows is never the answer. The loop stops when that formula's R² reaches `stop_r2` on both parts, or
after `max_proposals` rounds, answering with the best found and saying it did not reach the stop.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Literal

import numpy as np
import sympy
from pydantic import BaseModel

from tools.base import Attempt, Check, Conclusion, Constraint, LLMCall, LLMUnavailable, Proposal, Refusal, Sampling, Task
from tools.regress import expr as E
from tools.regress import generator
from tools.regress.data import DataError, Dataset, from_columns, from_text
from tools.regress.prompt import form_grammar, form_prompt
from tools.regress.worker import Killed, run_jobs

KEEP = 12  # fits kept as evidence, and carried to the next round (the best by score)
TRIED = 3  # forms shown to the LLM as tried


class Form(BaseModel):
    text: str  # constants as c
    by: Literal["llm", "generator"]
    round: int  # the round it was first proposed in
    kept: bool = False  # carried over from an earlier round


class Pool(BaseModel):
    forms: list[Form]
    round: int


class FitView(BaseModel):
    """One form, fitted (or rejected with the reason), as evidence."""

    form: str
    by: str
    round: int
    expression: str | None = None  # fitted and made plain, sympy-parsable over the columns
    r2_train: float | None = None
    r2_validation: float | None = None
    complexity: int | None = None
    score: float | None = None  # ICSR's, lower is better
    error: str | None = None

    @property
    def nmse_validation(self) -> float:
        return 1 - self.r2_validation if self.r2_validation is not None else math.inf

    @property
    def generalizes(self) -> bool:
        """Better than the mean on both parts, and not much worse on the validation rows than on the training rows
        (a formula that explodes there fails)."""
        if self.r2_train is None or self.r2_validation is None:
            return False
        return self.r2_train > 0 and self.r2_validation > 0 and self.nmse_validation <= max(10 * (1 - self.r2_train), 0.1)


class Curve(BaseModel):
    label: str
    expression: str
    x: list[float]
    y: list[float | None]


class Plot(BaseModel):
    """What the viewer draws: the points and curves over the one variable, or measured against predicted."""

    x: str  # the variable on the x axis, or "predicted"
    y: str
    points: list[tuple[float, float, bool]]  # x, y, validation row
    curves: list[Curve] = []


class RegressResult(BaseModel):
    """The regression tool's evidence: the table, every fitted form of the round (best first), the answer."""

    kind: Literal["regress"] = "regress"
    name: str
    variables: list[str]
    target: str
    rows: int
    train_rows: int
    validation_rows: int
    notes: list[str] = []
    round: int
    fits: list[FitView]  # best first: the answer (when there is one), then by score
    tried: int  # forms fitted this round
    by: dict[str, int]  # forms per proposer
    best: FitView | None = None
    converged: bool = False
    plot: Plot | None = None
    seconds: float = 0.0


@dataclass(eq=False, kw_only=True)
class RegressTool(Sampling):
    name: ClassVar[str] = "regress"
    max_proposals: ClassVar[int] = 3  # rounds

    samples: int = 8
    temperature: float = 0.8
    max_tokens: int = 48
    use_generator: bool = True
    stop_r2: float = 0.99999
    fit_seconds: float = 20.0  # per round, over all its forms
    seed: int = 0

    # ---- frame ------------------------------------------------------------------------------------

    def frame(self, task: Task) -> Dataset | Refusal:
        try:
            if task.input:
                return from_columns(task.input["columns"], task.input.get("target"), seed=self.seed)
            data = from_text(task.question, seed=self.seed)
            if data is None:
                return Refusal(status="undecided", message="cannot find a table of numbers in the message: write a header "
                                                         "line of column names, then one line of numbers per point")
            target = _named_target(task.question, data.variables + [data.target])
            return from_text(task.question, target, seed=self.seed) if target and target != data.target else data
        except DataError as e:
            return Refusal(status="undecided", message=f"cannot fit this table: {e}")

    # ---- propose ----------------------------------------------------------------------------------

    def propose(self, frame: Dataset, attempts: list[Attempt], earlier: list[Proposal]) -> Proposal:
        round_ = len(earlier)
        best = carried(attempts)
        forms: list[Form] = [Form(text=v.form, by=v.by, round=v.round, kept=True) for v in best]
        calls: list[LLMCall] = []
        degraded = None
        # With both on, the generator's first round runs alone: what it solves costs no model call, and what it
        # does not gives the model's first draw the closest forms with their fits. Its later draws follow.
        draw = round_ - 1 if self.use_generator else round_
        if self.use_llm and draw >= 0:
            prompt = form_prompt(frame.variables, frame.target, frame.X, frame.y, tried(best), seed=self.seed + draw)
            try:
                call = self.llm.sample(prompt=prompt, n=self.samples, temperature=self.temperature + 0.1 * draw,
                                       max_tokens=self.max_tokens, model=self.model,
                                       constraint=Constraint(kind="grammar", value=form_grammar(frame.variables)))
            except LLMUnavailable as e:
                degraded = f"the model server is down ({e}): the generator proposes alone"
            else:
                calls.append(call)
                forms += [Form(text=t.strip(), by="llm", round=round_) for t in call.raw if t.strip()]
        if self.use_generator:
            forms += [Form(text=t, by="generator", round=round_) for t in self._generated(frame, round_, best)]
        unique: dict[str, Form] = {}
        for form in forms:
            unique.setdefault(form.text, form)
        pool = Pool(forms=list(unique.values()), round=round_)
        return Proposal(by="+".join(sorted({f.by for f in pool.forms if not f.kept})) or "none",
                        candidates=[pool] if pool.forms else [], calls=calls,
                        raw=[f.text for f in pool.forms if f.by == "llm"], degraded=degraded,
                        seconds=round(sum(c.seconds for c in calls), 4))

    def _generated(self, frame: Dataset, round_: int, kept: list[FitView]) -> list[str]:
        """Round 1: the constant, the linear form, and the enumerated linear combinations (the best by R²,
        the best small ones, and the best small ones with constants inside). Later rounds: the forms carried
        over with constants inside."""
        names = frame.variables
        if round_ == 0:
            rows = min(len(frame.y), 200)
            found = generator.linear_forms(frame.X[:rows], frame.y[:rows], names,
                                           max_size=generator.default_size(len(names)))
            by_r2 = [form for _, _, form, _ in found[:30]]
            families = [form for family in ("single", "product", "sum", "polynomial")
                        for form in [f for _, _, f, fam in found if fam == family][:5]]
            per_size: dict[int, str] = {}
            for _, size, form, _ in found:
                per_size.setdefault(size, form)
            simple = [per_size[size] for size in sorted(per_size) if size <= 10]
            bases = list(dict.fromkeys([f for _, _, f, fam in found if fam in ("single", "product")][:4]
                                       + [f for _, _, f, fam in found if fam == "sum"][:3] + simple))
            inner = [v for form in bases[:10] for v in generator.with_inner_constants(form, names, limit=4)]
            return (["c", "c + " + " + ".join(f"c*{n}" for n in names)] + by_r2 + families + inner
                    + generator.scaled_forms(names))
        return [f for v in kept[:4] for f in generator.with_inner_constants(v.form, names)]

    def describe(self, candidate: Pool) -> str:
        counts = {b: sum(f.by == b and not f.kept for f in candidate.forms) for b in ("llm", "generator")}
        counts["kept"] = sum(f.kept for f in candidate.forms)
        return f"round {candidate.round + 1}: {len(candidate.forms)} forms (" + ", ".join(
            f"{n} {'by the ' + b if b != 'kept' else 'kept from earlier rounds'}" for b, n in counts.items() if n) + ")"

    # ---- execute: fit every form ---------------------------------------------------------------------

    def execute(self, frame: Dataset, candidate: Pool) -> RegressResult:
        started = time.perf_counter()
        names = frame.variables
        # Forms are model output: read, fitted and simplified in a worker a deadline can kill (tools/regress/worker.py).
        fit = partial(_fit_form, names, frame.X, frame.y, self.seed, time.monotonic() + self.fit_seconds)
        outcomes = run_jobs(fit, [(form.text,) for form in candidate.forms], seconds=FORM_SECONDS)
        fitted: list[tuple[FitView, sympy.Expr]] = []
        views: list[FitView] = []
        for form, outcome in zip(candidate.forms, outcomes):
            view = FitView(form=form.text, by=form.by, round=form.round)
            if isinstance(outcome, Killed):
                view.error = f"not fitted: it {outcome.reason}"
            elif outcome == "late":
                view.error = f"not fitted: the round's {self.fit_seconds:.0f} s were spent"
            elif isinstance(outcome, str):
                view.error = f"rejected: {outcome}"
            elif outcome is None:
                view.error = "no finite fit"
            else:
                expr, error = outcome
                _measure(view, expr, error, frame)
                fitted.append((view, expr))
                continue
            views.append(view)
        # the best by score and the closest fits, made plain (constants rounded, zero terms dropped) and measured again
        by_score = sorted(fitted, key=lambda ve: ve[0].score)[:KEEP]
        by_error = sorted(fitted, key=lambda ve: (ve[0].nmse_validation, ve[0].complexity))[:KEEP]
        chosen = list({id(v): (v, e) for v, e in by_score + by_error}.values())
        simpler = run_jobs(partial(_plain, names, frame.X, frame.y), [(e,) for _, e in chosen], seconds=FORM_SECONDS)
        plain: list[FitView] = []
        seen: set[str] = set()
        for (view, expr), simple in zip(chosen, simpler):
            simple = expr if isinstance(simple, Killed) else simple
            _measure(view, simple, E.nmse(frame.y, E.predict(simple, names, frame.X)), frame)
            if view.expression not in seen:
                seen.add(view.expression)
                plain.append(view)
        best = choose(plain)
        ranked = ([best] if best else []) + sorted((v for v in plain if v is not best), key=lambda v: v.score)
        rejected = [v for v in views if v.error and v.by == "llm"][:KEEP]
        converged = bool(best and best.r2_train >= self.stop_r2 and best.r2_validation >= self.stop_r2)
        by = {b: sum(f.by == b and not f.kept for f in candidate.forms) for b in ("llm", "generator")} | {
            "kept": sum(f.kept for f in candidate.forms)}
        return RegressResult(name=frame.name, variables=names, target=frame.target, rows=frame.rows,
                             train_rows=len(frame.y), validation_rows=len(frame.yv), notes=frame.notes(),
                             round=candidate.round, fits=ranked + rejected, tried=len(candidate.forms),
                             by={k: v for k, v in by.items() if v}, best=best, converged=converged,
                             plot=plot(frame, best, ranked), seconds=round(time.perf_counter() - started, 3))

    # ---- check, conclude, abstain ----------------------------------------------------------------

    def check(self, frame: Dataset, candidate: Pool, result: RegressResult) -> list[Check]:
        best = result.best
        if best is None:
            fitted = [v for v in result.fits if v.expression]
            detail = "no form fitted" if not fitted else (
                f"every fitted form fails on the validation rows; the closest, {fitted[0].expression}, has training R² "
                f"{fitted[0].r2_train:.4f} and validation R² {fitted[0].r2_validation:.4f}")
            return [Check(name="validation", passed=False, detail=detail + "; " + carry(result))]
        checks = [Check(name="validation", passed=True,
                        detail=f"R² {best.r2_validation:.6f} on the {result.validation_rows} validation rows (training R² {best.r2_train:.6f})")]
        last = candidate.round + 1 >= self.max_proposals
        if result.converged:
            checks.append(Check(name="converged", passed=True, detail=f"R² ≥ {self.stop_r2} on both parts"))
        else:
            detail = f"R² {min(best.r2_train, best.r2_validation):.6f} < {self.stop_r2}"
            checks.append(Check(name="converged", passed=last,
                                detail=detail + (f" after {candidate.round + 1} rounds: the best found is the answer" if last
                                                 else "; " + carry(result))))
        return checks

    def conclude(self, frame: Dataset, candidate: Pool, result: RegressResult) -> Conclusion:
        best = result.best
        stop = "" if result.converged else f" It did not reach R² {self.stop_r2} in {candidate.round + 1} rounds."
        notes = "".join(f" Note: {n}." for n in result.notes)
        message = (f"{frame.target} = {best.expression} (by the {best.by}, round {best.round + 1} of {candidate.round + 1}): "
                   f"training R² {best.r2_train:.6f} (NMSE {1 - best.r2_train:.2g}), validation R² {best.r2_validation:.6f} "
                   f"(NMSE {best.nmse_validation:.2g}) on {result.validation_rows} held-out rows, {best.complexity} nodes.{stop}{notes}")
        return Conclusion(answers=[best.expression], message=message, evidence=result)

    def abstain(self, frame: Dataset, attempts: list) -> Refusal:
        tried = "; ".join(a.why().split("; best forms: ")[0] for a in attempts[-1:]) or "no form was proposed"
        return Refusal(status="undecided", message=f"No formula fits and holds on the validation rows: {tried}.")


# ---- helpers -------------------------------------------------------------------------------------


FORM_SECONDS = 10.0  # for reading, fitting or simplifying one form, before its worker is killed


def _fit_form(names: list[str], X: np.ndarray, y: np.ndarray, seed: int, deadline: float,
              text: str) -> tuple[sympy.Expr, float] | str | None:
    """In the worker: `text` read and fitted, or why it was not ("late": past the round's `deadline`;
    else the reason it was rejected); None when no start gives a finite fit."""
    if time.monotonic() > deadline:
        return "late"
    try:
        parsed = E.parse(text, names)
    except E.FormError as e:
        return str(e)
    if len(E.constants_of(parsed)) >= len(y):
        return f"{len(E.constants_of(parsed))} constants for {len(y)} training rows"
    return E.fit(parsed, names, X, y, seed=seed, seconds=min(2.0, max(0.1, deadline - time.monotonic())))


def _plain(names: list[str], X: np.ndarray, y: np.ndarray, expr: sympy.Expr) -> sympy.Expr:
    return E.plain(expr, names, X, y)


def _measure(view: FitView, expr: sympy.Expr, error: float, frame: Dataset) -> None:
    view.expression = E.show(expr)
    view.r2_train = _finite(1 - error)
    # against the spread of the whole target: two or three held-out rows have hardly any spread of their own
    view.r2_validation = _finite(E.r2(frame.yv, E.predict(expr, frame.variables, frame.Xv), float(np.var(frame.y_all))))
    view.complexity = E.complexity(expr)
    view.score = E.score(error, view.complexity)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -1e300


def choose(fits: list[FitView], tolerance: float = 0.5, floor: float = 1e-9) -> FitView | None:
    """The answer: among the fits that hold on the validation rows, the simplest of those whose validation
    NMSE is within `tolerance` (relative) or `floor` (absolute) of the best."""
    holding = [v for v in fits if v.generalizes]
    if not holding:
        return None
    best = min(v.nmse_validation for v in holding)
    near = [v for v in holding if v.nmse_validation <= best * (1 + tolerance) + floor]
    return min(near, key=lambda v: (v.complexity, v.nmse_validation))


def best_fits(result: RegressResult) -> list[FitView]:
    """The best fitted forms of a round, best first: what the next round starts from."""
    return [v for v in result.fits if v.expression and v.r2_train is not None][:KEEP]


def tried(best: list[FitView]) -> list[tuple[str, float]]:
    """The forms the LLM is shown as tried, with their training R², best last."""
    return [(v.form, v.r2_train) for v in sorted(best[:TRIED], key=lambda v: v.r2_train)]


def carry(result: RegressResult) -> str:
    """The best forms so far, in words: the check's detail (the next round reads them from the result, `carried`)."""
    return "best forms: " + " | ".join(f"{v.form} [r2 {v.r2_train:.6f}, round {v.round}, by {v.by}]" for v in best_fits(result))


def carried(attempts: list[Attempt]) -> list[FitView]:
    """The best fitted forms of the last round (`best_fits`)."""
    for attempt in reversed(attempts):
        if isinstance(attempt.result, RegressResult):
            return best_fits(attempt.result)
    return []


def _named_target(question: str, columns: list[str]) -> str | None:
    """The column a message asks a formula for ("... for y", "y as a function of ...")."""
    for pattern in (r"\bfor (\w+)", r"\b(\w+) as a function of", r"\bpredicts? (\w+)"):
        m = re.search(pattern, question)
        if m and m.group(1) in columns:
            return m.group(1)
    return None


def plot(frame: Dataset, best: FitView | None, ranked: list[FitView], steps: int = 80, limit: int = 400) -> Plot:
    """The points, and with one variable the answer's curve and each round's best (kept) curve over its range;
    with several, measured against the answer's prediction."""
    X, y = frame.X_all, frame.y_all
    validation = np.arange(len(y)) >= len(frame.y)
    rows = np.arange(len(y)) if len(y) <= limit else np.random.default_rng(0).choice(len(y), limit, replace=False)
    names = frame.variables
    if len(names) == 1:
        points = [(float(X[i, 0]), float(y[i]), bool(validation[i])) for i in rows]
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), steps)[:, None]
        curves = []
        by_round: dict[int, FitView] = {}
        for view in ranked:
            by_round.setdefault(view.round, view)
        chosen = ([("answer", best)] if best else []) + [(f"best of round {r + 1}", v) for r, v in sorted(by_round.items())
                                                          if v is not best]
        for label, view in chosen:
            values = E.predict(E.parse(view.expression, names), names, grid) if view.expression else np.full(steps, np.nan)
            curves.append(Curve(label=label, expression=view.expression or "", x=grid[:, 0].round(6).tolist(),
                                y=[float(v) if np.isfinite(v) else None for v in values]))
        return Plot(x=names[0], y=frame.target, points=points, curves=curves)
    predicted = E.predict(E.parse(best.expression, names), names, X) if best else np.full(len(y), np.nan)
    points = [(float(predicted[i]), float(y[i]), bool(validation[i])) for i in rows if np.isfinite(predicted[i])]
    return Plot(x="predicted", y=frame.target, points=points)
