"""The non-LLM proposer for value tasks: bottom-up enumeration of string/number programs, smallest first.

Programs are built from the primitives of tools/induce/strings.py, size by size, and kept only when
their values on the examples are new (observational equivalence: two programs that agree on every
example are one). The first program whose values are the outputs is the answer. When no single
program fits within the budget, the examples are divided: two programs that each fit part of them,
joined by `ite` on a condition that tells the parts apart (EUSolver's divide and conquer).

The search runs on a few examples and checks its answer on the rest, adding the first example it
gets wrong and searching again (counterexample-guided); that check runs in the sandbox, like every
program the tool verifies.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

from tools.induce import strings
from tools.induce.prompt import run_expressions
from tools.induce.task import InduceTask

S, I, B, C, L = "str", "int", "bool", "const", "list"  # C: a string constant (a pattern or a separator), not any string
OPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("concat", S, (S, S)), ("reverse", S, (S,)), ("reverse", L, (L,)), ("sort", L, (L,)), ("concat", L, (L, L)),
    ("sum", I, (L,)), ("max", I, (L,)), ("min", I, (L,)), ("length", I, (L,)), ("before", S, (S, C)), ("after", S, (S, C)), ("before_last", S, (S, C)),
    ("after_last", S, (S, C)), ("replace", S, (S, C, C)), ("replace_all", S, (S, C, C)), ("upper", S, (S,)),
    ("lower", S, (S,)), ("at", S, (S, I)), ("substr", S, (S, I, I)), ("to_str", S, (I,)),
    ("length", I, (S,)), ("indexof", I, (S, C, I)), ("to_int", I, (S,)), ("count", I, (S, S)), ("plus", I, (I, I)), ("minus", I, (I, I)), ("times", I, (I, I)),
    ("contains", B, (S, S)), ("prefixof", B, (C, S)), ("suffixof", B, (C, S)), ("equals", B, (S, S)),
]
PUNCTUATION = set(" ,.-/()[]<>:;@_+#&'\"|!?$%*=~")
MAX_SIZE = 12  # the time budget usually ends the search first
SUBSET = 6  # examples the search starts from


def _type(value) -> str | None:
    if isinstance(value, bool):
        return B
    if isinstance(value, int):
        return I
    if isinstance(value, str):
        return S
    if isinstance(value, (list, tuple)):
        return L
    return None


def _frozen(value):
    """A value the bank can key on: a list as a tuple (the ops treat both alike)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def constants(task: InduceTask) -> list[str]:
    """String constants worth trying: "", punctuation seen in the examples, and text every output shares
    that no input has."""
    seen = {""}
    texts = [str(v) for ex in task.train for v in [*ex.inputs, ex.output] if isinstance(v, str)]
    seen |= {c for t in texts for c in t if c in PUNCTUATION}
    outputs = [ex.output for ex in task.train if isinstance(ex.output, str)]
    if len(outputs) >= 2 and all(outputs):
        first = outputs[0]
        shared = {first[i:j] for i in range(len(first)) for j in range(i + 2, min(len(first), i + 12) + 1)}
        shared = {s for s in shared if all(s in o for o in outputs[1:])}
        inputs = [v for ex in task.train for v in ex.inputs if isinstance(v, str)]
        seen |= {s for s in shared if not all(s in v for v in inputs)}
    if len(outputs) >= 2:  # words every output has that some input lacks (e.g. "USA")
        words = set.intersection(*(set(o.replace(",", " ").split()) for o in outputs))
        for word in words:
            if 2 <= len(word) <= 12 and not all(word in str(v) for ex in task.train for v in ex.inputs):
                seen |= {word, ", " + word, " " + word}
    return sorted(seen, key=lambda s: (len(s), s))[:40]


class Bank:
    """Programs by type and size, one per distinct tuple of values on the examples."""

    def __init__(self) -> None:
        self.by_size: dict[tuple[str, int], list[tuple[tuple, str]]] = {}
        self.seen: dict[str, dict[tuple, str]] = {S: {}, I: {}, B: {}, C: {}, L: {}}  # values -> the smallest program

    def add(self, kind: str, size: int, values: tuple, expr: str) -> bool:
        if values in self.seen[kind]:
            return False
        self.seen[kind][values] = expr
        self.by_size.setdefault((kind, size), []).append((values, expr))
        return True

    def get(self, kind: str, size: int) -> list[tuple[tuple, str]]:
        return self.by_size.get((kind, size), [])


def search(task: InduceTask, seconds: float = 4.0) -> list[str]:
    """Expressions over `x0, x1, ...` that reproduce the training pairs, best first (at most a few)."""
    ret = _type(task.train[0].output)
    if ret is None or any(_type(ex.output) != ret for ex in task.train):
        return []
    deadline = time.monotonic() + seconds
    subset = list(range(min(SUBSET, len(task.train))))
    for _ in range(4):
        found = _search_on(task, subset, ret, deadline)
        if not found:
            return []
        rest = [i for i in range(len(task.train)) if i not in subset]
        results = run_expressions("values", len(task.train[0].inputs), [found], [task.train[i].inputs for i in rest])[0] if rest else []
        wrong = [i for i, r in zip(rest, results) if r.error is not None or r.value != task.train[i].output]
        if not wrong:
            return [found]
        subset.append(wrong[0])
        if time.monotonic() > deadline:
            return []
    return []


def _search_on(task: InduceTask, subset: list[int], ret: str, deadline: float) -> str | None:
    examples = [task.train[i] for i in subset]
    target = tuple(_frozen(ex.output) for ex in examples)
    n = len(examples)
    bank = Bank()
    longest = max(len(str(v)) for ex in task.train for v in [*ex.inputs, ex.output]) * 2 + 10
    for k in range(len(examples[0].inputs)):
        values = tuple(_frozen(ex.inputs[k]) for ex in examples)
        kind = _type(values[0])
        if kind and all(_type(v) == kind for v in values):
            bank.add(kind, 1, values, f"x{k}")
    for c in constants(task):
        bank.add(C, 1, (c,) * n, repr(c))
        bank.add(S, 1, (c,) * n, repr(c))
    for i in (0, 1, 2, 3, -1):
        bank.add(I, 1, (i,) * n, str(i))
    if target in bank.seen[ret]:
        return bank.seen[ret][target]
    for size in range(2, MAX_SIZE + 1):
        for name, kind, args in OPS:
            fn = getattr(strings, name)
            for values, expr in _combine(bank, fn, name, args, size - 1, n, deadline):
                if kind in (S, L) and any(len(v) > longest for v in values):
                    continue
                if bank.add(kind, size, values, expr) and kind == ret and values == target:
                    return expr
            if time.monotonic() > deadline:
                break
        if ret == S:
            joined = _pieces(bank, target, deadline)
            if joined:
                return joined
        if time.monotonic() > deadline:
            break
    return _divide(bank, ret, target)


def _pieces(bank: Bank, target: tuple, deadline: float, depth: int = 4) -> str | None:
    """The outputs as a concatenation of programs already in the bank: a program whose values begin every
    output, then the rest the same way (FlashFill's decomposition of an output into parts)."""
    known = bank.seen[S]
    parts = [(v, e) for v, e in known.items() if any(v) and all(p in t for t, p in zip(target, v))]  # may be a piece
    parts.sort(key=lambda ve: (-sum(map(len, ve[0])), len(ve[1])))
    failed: set[tuple] = set()

    def split(rest: tuple, depth: int) -> str | None:
        if rest in known:
            return known[rest]
        if depth == 0 or rest in failed or time.monotonic() > deadline:
            return None
        for values, expr in parts:
            if all(t.startswith(p) for t, p in zip(rest, values)):
                tail = split(tuple(t[len(p):] for t, p in zip(rest, values)), depth - 1)
                if tail is not None:
                    return f"concat({expr}, {tail})"
        failed.add(rest)
        return None

    return split(target, depth)


def _combine(bank: Bank, fn, name: str, args: tuple[str, ...], budget: int, n: int, deadline: float) -> Iterator[tuple[tuple, str]]:
    """Every application of `fn` to programs whose sizes add up to `budget`, with its values."""
    for sizes in _splits(budget, len(args)):
        if any(a == C and s != 1 for a, s in zip(args, sizes)):
            continue
        pools = [bank.get(a, s) for a, s in zip(args, sizes)]
        if not all(pools):
            continue
        for count, combo in enumerate(itertools.product(*pools)):
            if count % 2000 == 0 and time.monotonic() > deadline:
                return
            try:
                values = tuple(_frozen(fn(*(c[0][j] for c in combo))) for j in range(n))
            except (TypeError, ValueError, OverflowError):
                continue
            yield values, f"{name}({', '.join(c[1] for c in combo)})"


def _splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        if total >= 1:
            yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in _splits(total - first, parts - 1):
            yield (first, *rest)


def _divide(bank: Bank, ret: str, target: tuple) -> str | None:
    """ite(condition, a, b): a and b each right on part of the examples, the condition true where only a is, and each
    branch taken on two examples at least."""
    everything = (1 << len(target)) - 1
    terms: dict[int, tuple[int, str]] = {}  # examples covered (bit mask) -> the smallest program covering them
    conditions: dict[int, tuple[int, str]] = {}  # examples where it holds -> the smallest condition, two each way at least
    for (kind, size), entries in sorted(bank.by_size.items(), key=lambda kv: kv[0][1]):
        for values, expr in entries:
            if kind == ret:
                mask = sum(1 << j for j, (v, t) in enumerate(zip(values, target)) if v == t)
                if mask and mask not in terms:
                    terms[mask] = (size, expr)
            if kind == B:
                mask = sum(1 << j for j, v in enumerate(values) if v)
                if 2 <= mask.bit_count() <= len(target) - 2:  # a branch taken on one example alone memorises it
                    conditions.setdefault(mask, (size, expr))
    best = None
    masks = sorted(terms, key=lambda m: terms[m][0])[:400]
    for a, b in itertools.combinations(masks, 2):
        if a | b != everything or min(a.bit_count(), b.bit_count()) < 2:
            continue  # a branch that explains one example alone is that example memorised, not a rule
        for mask, (size, cond) in conditions.items():
            for then, other, holds in ((a, b, mask), (b, a, everything & ~mask)):
                need_true, need_false = then & ~other, other & ~then
                if holds & need_true == need_true and holds & need_false == 0:
                    total = terms[then][0] + terms[other][0] + size + 1
                    if best is None or total < best[0]:
                        cond_text = cond if holds == mask else f"not {cond}"
                        best = (total, f"ite({cond_text}, {terms[then][1]}, {terms[other][1]})")
    return best[1] if best else None
