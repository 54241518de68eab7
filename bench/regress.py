"""The regression tool beside gplearn and Operon on the same data: exact recovery, test R², complexity, time.

    python bench/regress.py [--sets benchmarks,generated] [--methods generator,llm,both,gplearn,operon] [--limit N]

Tasks:
- benchmarks: ../shared/data/symreg/benchmarks.csv, Nguyen-1..12, 12a and Constant-1..8, each sampled as its
  `train_spec` says (20 uniform points; seed 0). Const-Test-1/2 are left out: their spec, "E":[-1,1,20]
  (evenly spaced from -1 to 1 in steps of 20), gives a single point.
- generated: random expressions from tools/regress/pairs.py's generator with another seed than the proposer's
  training pairs, none of whose forms is a training form; 20 uniform points on each one's range. Seed 8
  is reported; seed 7's set (`--generated-seed 7`) was the one looked at while the tool was built.
Each task's test set is 1,000 fresh points from the same range (seed 1). The tasks are written as CSV
files to bench/out/regress-tasks/<set>/ (what `reasoner regress --tasks` reads); the tool runs on them
through the same code as that command. Budgets: the tool as shipped (3 rounds, 8 LLM samples a round,
20 s of fitting a round); gplearn 1,000 × 20 generations (Koza's functions with exp and sqrt, protected);
Operon 20 s on one thread (the same functions). Scores (SRBench): exact recovery when, after rounding the
model's constants to 3 decimals, model − truth simplifies to a constant or model / truth to a non-zero
constant; the share of test R² > 0.999; the median complexity (sympy nodes of the model as written);
median seconds per problem. Per-problem lines go to bench/out/<stem of --out>/<set>-<method>.jsonl (reused
when present: delete them to rerun); writes --out (bench/results/regress.json), keeping the figures of the
methods not rerun. Measure a candidate proposer with its own --out, e.g.
`--methods llm,both --proposer DIR --out bench/results/regress_round2.json`.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import platform
import random
import signal
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sympy

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from agent.assemble import build_tool, open_backend  # noqa: E402
from agent.batch import run_tool as run_batch  # noqa: E402
from agent.graph import Agent  # noqa: E402
from tools.regress import expr as E  # noqa: E402
from tools.regress.files import read  # noqa: E402
from tools.regress.pairs import random_problem, training_pairs  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "symreg" / "benchmarks.csv"
OUT = HERE / "out"
TEST_POINTS = 1000


# ---- tasks ---------------------------------------------------------------------------------------


PREFIX = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
          "pow": lambda a, b: a ** b, "sin": sympy.sin, "cos": sympy.cos, "exp": sympy.exp, "log": sympy.log,
          "sqrt": sympy.sqrt, "neg": lambda a: -a, "inv": lambda a: 1 / a, "abs": sympy.Abs}


# gplearn's protected functions, as it computes them: sqrt and log of |x| (its division's guard near 0 is left out)
PROTECTED = PREFIX | {"sqrt": lambda a: sympy.sqrt(sympy.Abs(a)), "log": lambda a: sympy.log(sympy.Abs(a))}


def prefix_expression(text: str, names: dict[str, str], functions: dict = PREFIX) -> sympy.Expr:
    """A formula written as calls (the benchmark table's `pow(x1,3)`, gplearn's `add(X0, X1)`), read by walking
    its syntax tree; `names` renames variables (gplearn's X0 -> x1)."""
    def walk(node):
        if isinstance(node, ast.Call):
            return functions[node.func.id](*(walk(a) for a in node.args))
        if isinstance(node, ast.Name):
            return sympy.Symbol(names.get(node.id, node.id), real=True)
        if isinstance(node, ast.Constant):
            return sympy.Float(node.value) if isinstance(node.value, float) else sympy.Integer(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            return {ast.Add: PREFIX["add"], ast.Sub: PREFIX["sub"], ast.Mult: PREFIX["mul"], ast.Div: PREFIX["div"],
                    ast.Pow: PREFIX["pow"]}[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"cannot read {ast.unparse(node)}")
    return walk(ast.parse(text.strip(), mode="eval").body)


def benchmark_tasks() -> list[dict]:
    tasks = []
    for row in csv.DictReader(DATA.open()):
        spec = json.loads(row["train_spec"])["all"]
        if "U" not in spec:
            continue  # Const-Test-1/2: one point (see the module's docstring)
        lo, hi, n = spec["U"]
        d = int(row["variables"])
        names = [f"x{i + 1}" for i in range(d)]
        tasks.append({"name": row["name"], "names": names, "truth": E.show(prefix_expression(row["expression"], {})),
                      "range": [lo, hi], "n": n})
    return tasks


def generated_tasks(count: int, seed: int = 8) -> list[dict]:
    """Generated problems whose forms the proposer never saw (its training pairs are regenerated to check)."""
    trained = {p.target for p in training_pairs(6000, seed=0, log=lambda _: None)[0]}
    rng = random.Random(seed)
    tasks = []
    while len(tasks) < count:
        problem = random_problem(rng)
        if problem is None or problem.form in trained or problem.target != "y" or problem.names[0] != "x1":
            continue
        lo, hi = float(np.min(problem.X)), float(np.max(problem.X))
        tasks.append({"name": f"gen-{len(tasks):02d}", "names": problem.names, "truth": problem.expression,
                      "range": [math.floor(lo), math.ceil(hi)], "n": 20})
    return tasks


def sample(task: dict, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = task["range"]
    X = np.random.default_rng(seed).uniform(lo, hi, (n, len(task["names"])))
    return X, E.predict(E.parse(task["truth"], task["names"]), task["names"], X)


def write_tasks(name: str, tasks: list[dict]) -> Path:
    folder = OUT / "regress-tasks" / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    for task in tasks:
        X, y = sample(task, task["n"], 0)
        rows = [",".join([*task["names"], "y"])] + [",".join(repr(float(v)) for v in (*x, t)) for x, t in zip(X, y)]
        (folder / f"{task['name']}.csv").write_text("\n".join(rows) + "\n")
    return folder


# ---- methods -------------------------------------------------------------------------------------


def run_tool(folder: Path, out: Path, mode: str, proposer: Path | None) -> None:
    files = read(folder)
    with open_backend() as backend:
        tool = build_tool(backend, "regress", adapter=proposer, use_llm=mode != "generator", use_generator=mode != "llm")
        if mode != "generator" and not tool.use_llm:
            raise SystemExit("no formula proposer is shipped: train one with `reasoner distill regress` first")
        if tool.use_llm:
            tool.llm.client()  # start the proposer's server before any clock runs
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            print(f"  {mode}: {done}/{len(files)}", flush=True)

        run_batch(Agent({"regress": tool}), None, "regress", files, out, resume=True, on_done=progress)


def run_baseline(method: str, tasks: list[dict], out: Path) -> None:
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    with out.open("a") as sink:
        for task in tasks:
            if task["name"] in done:
                continue
            X, y = sample(task, task["n"], 0)
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expression = gplearn(X, y, task["names"]) if method == "gplearn" else operon(X, y, task["names"])
            line = {"id": task["name"], "expression": expression, "seconds": round(time.perf_counter() - started, 2)}
            sink.write(json.dumps(line) + "\n")
            sink.flush()
            print(f"  {method} {task['name']}: {expression[:80]} ({line['seconds']} s)", flush=True)


def gplearn(X: np.ndarray, y: np.ndarray, names: list[str]) -> str:
    from gplearn.functions import make_function
    from gplearn.genetic import SymbolicRegressor

    exp = make_function(function=lambda v: np.exp(np.clip(v, -50, 50)), name="exp", arity=1)
    model = SymbolicRegressor(population_size=1000, generations=20, function_set=("add", "sub", "mul", "div", "sin", "cos",
                              "log", "sqrt", exp), random_state=0, n_jobs=1)
    model.fit(X, y)
    return E.show(prefix_expression(str(model._program), {f"X{i}": n for i, n in enumerate(names)}, PROTECTED))


def operon(X: np.ndarray, y: np.ndarray, names: list[str]) -> str:
    from pyoperon.sklearn import SymbolicRegressor

    model = SymbolicRegressor(max_time=20, n_threads=1, random_state=0,
                              allowed_symbols="add,sub,mul,div,constant,variable,sin,cos,exp,log,sqrt")
    model.fit(X, y)
    text = model.get_model_string(model.model_, 6)
    mapped = E.parse(text, [f"X{i + 1}" for i in range(len(names))], max_length=100_000)
    return E.show(mapped.xreplace({sympy.Symbol(f"X{i + 1}", real=True): sympy.Symbol(n, real=True) for i, n in enumerate(names)}))


# ---- scores --------------------------------------------------------------------------------------


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout


def exact(model: sympy.Expr, truth: sympy.Expr, positive: bool = False, seconds: int = 20) -> bool:
    """SRBench's symbolic solution: constants rounded to 3 decimals, then model − truth a constant or
    model / truth a non-zero constant. With `positive` (the task samples no negative values), the variables
    are taken as positive, so that |x| (gplearn's protected sqrt and log) is x there."""
    rounded = model.xreplace({n: sympy.Float(round(float(n), 3)) for n in model.atoms(sympy.Float)})
    if positive:
        as_positive = {s: sympy.Symbol(s.name, positive=True) for s in rounded.free_symbols | truth.free_symbols}
        rounded, truth = rounded.xreplace(as_positive), truth.xreplace(as_positive)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        difference = sympy.simplify(truth - rounded)
        if not difference.free_symbols:
            return True
        ratio = sympy.simplify(rounded / truth)
        return not ratio.free_symbols and ratio != 0
    except Timeout:
        return False
    finally:
        signal.alarm(0)


def score(task: dict, line: dict | None) -> dict:
    if not line or not line.get("expression"):
        return {"exact": False, "r2_test": None, "complexity": None, "seconds": line.get("seconds") if line else None}
    try:
        model = E.parse(line["expression"], task["names"], max_length=100_000)
    except E.FormError as e:  # not a real formula over the columns (e.g. a complex constant)
        print(f"  {task['name']}: cannot score {line['expression'][:80]!r}: {e}", flush=True)
        return {"exact": False, "r2_test": None, "complexity": None, "seconds": line["seconds"]}
    truth = E.parse(task["truth"], task["names"])
    X, y = sample(task, TEST_POINTS, 1)
    r2 = E.r2(y, E.predict(model, task["names"], X))
    return {"exact": exact(model, truth, positive=task["range"][0] >= 0), "r2_test": r2 if math.isfinite(r2) else None,
            "complexity": E.complexity(model), "seconds": line["seconds"]}


def summary(scores: list[dict]) -> dict:
    n = len(scores)
    complexities = [s["complexity"] for s in scores if s["complexity"] is not None]
    return {"n": n, "exact": sum(s["exact"] for s in scores), "exact_rate": round(sum(s["exact"] for s in scores) / n, 4),
            "r2_over_0.999": sum((s["r2_test"] or -1) > 0.999 for s in scores),
            "r2_over_0.999_rate": round(sum((s["r2_test"] or -1) > 0.999 for s in scores) / n, 4),
            "median_complexity": statistics.median(complexities) if complexities else None,
            "median_seconds": round(statistics.median(s["seconds"] or 0 for s in scores), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="benchmarks,generated")
    parser.add_argument("--methods", default="generator,llm,both,gplearn,operon")
    parser.add_argument("--generated", type=int, default=20)
    parser.add_argument("--generated-seed", type=int, default=8)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--proposer", type=Path, help="a distilled proposer folder (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "regress.json")
    args = parser.parse_args()
    lines_dir = OUT / args.out.stem
    lines_dir.mkdir(parents=True, exist_ok=True)
    generated = "generated" if args.generated_seed == 8 else f"generated-seed{args.generated_seed}"
    sets = {"benchmarks": benchmark_tasks, generated: lambda: generated_tasks(args.generated, args.generated_seed)}
    results: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
                     "budgets": {"tool": "3 rounds, 8 LLM samples a round, 20 s of fitting a round",
                                 "gplearn": "population 1000, 20 generations, n_jobs 1",
                                 "operon": "max_time 20 s, 1 thread"}, "sets": {}}
    for name in args.sets.replace("generated", generated).split(","):
        tasks = sets[name]()[: args.limit]
        folder = write_tasks(name, tasks)
        print(f"{name}: {len(tasks)} tasks", flush=True)
        per_method = {}
        for method in args.methods.split(","):
            out = lines_dir / f"{name}-{method}.jsonl"
            if method in ("generator", "llm", "both"):
                run_tool(folder, out, method, args.proposer)
            else:
                run_baseline(method, tasks, out)
            lines = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines() if line.strip()}
            scores = [score(task, lines.get(task["name"])) | {"name": task["name"]} for task in tasks]
            per_method[method] = summary(scores) | {"problems": {s.pop("name"): s for s in scores}}
            print(f"{name} {method}: {json.dumps({k: v for k, v in per_method[method].items() if k != 'problems'})}", flush=True)
        results["sets"][name] = per_method
    path = args.out
    previous = json.loads(path.read_text()) if path.exists() else {}
    for name, per_method in results["sets"].items():  # the methods not rerun keep their figures
        previous.setdefault("sets", {}).setdefault(name, {}).update(per_method)
    path.write_text(json.dumps(results | {"sets": previous["sets"]}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
