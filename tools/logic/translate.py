"""The translator's format: one sentence in, one formula (FOL) or one ASP line out.

Each premise is translated on its own, so a problem's sentences go to the model in one batch; the
conclusion is translated after them, shown the names the premises' formulas use, so it speaks their
vocabulary. Decoding is constrained by a grammar (GBNF, as vLLM's structured outputs take it) of the
formula syntax of tools/logic/fol.py in its canonical spelling (`fol.show`), or of the ASP lines an
ordering puzzle needs, so every sample parses.
"""

from __future__ import annotations

import prompts
from tools.logic.fol import Node, signature

# One formula, FOLIO's binding order ¬ ∧ ∨ ⊕ → ↔, with every binary sub-formula in parentheses.
FORMULA_GBNF = prompts.read("logic_formula.gbnf")
FOL_GBNF = "root ::= formula\n" + FORMULA_GBNF

# An ordering puzzle's lines: the objects, or a condition on their positions (n: the number of objects).
ASP_GBNF = prompts.read("logic_ordering.gbnf")


def fol_prompt(sentence: str, names: str | None = None) -> str:
    """A sentence to translate into a formula; `names`: the vocabulary to use (for a conclusion)."""
    head = f"Names: {names}\n" if names else ""
    return f"{head}Sentence: {sentence.strip()}\nFOL:\n"


def asp_prompt(sentence: str) -> str:
    return f"Sentence: {sentence.strip()}\nASP:\n"


def vocabulary(formulas: list[Node]) -> str:
    """The names formulas use, for the conclusion's prompt: `Big/1, Chase/2, bob, cat`."""
    symbols: dict[str, int] = {}
    for formula in formulas:
        for key, arity in signature(formula).items():
            symbols.setdefault(key, arity)
    predicates = sorted(f"{key.split(' ', 1)[1]}/{a}" for key, a in symbols.items() if key.startswith("pred "))
    constants = sorted(key.split(" ", 1)[1] for key in symbols if key.startswith("const "))
    return ", ".join(predicates + constants)


def conclusion_grammar(names: str) -> str:
    """FOL_GBNF with predicates limited to those in `names` (a `vocabulary` line): for a conclusion re-sampled
    after it used predicates no premise has."""
    predicates = [n.split("/")[0] for n in names.split(", ") if "/" in n]
    if not predicates:
        return FOL_GBNF
    choice = " | ".join(f'"{p}"' for p in sorted(predicates, key=len, reverse=True))
    return FOL_GBNF.replace("pred ::= [A-Z] [A-Za-z0-9]{0,30}", f"pred ::= {choice}")
