"""The translator's format: one sentence in, one formula (FOL) or one ASP line out.

Each premise is translated on its own, so a problem's sentences go to the model in one batch; the
conclusion is translated after them, shown the names the premises' formulas use, so it speaks their
vocabulary. Decoding is constrained by a grammar (GBNF, as vLLM's structured outputs take it) of the
formula syntax of tools/logic/fol.py in its canonical spelling (`fol.show`), or of the ASP lines an
ordering puzzle needs, so every sample parses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# The name rules of FORMULA_GBNF, which the grammars below narrow.
PRED_RULE = "pred ::= [A-Z] [A-Za-z0-9]{0,30}"
TERM_RULE = "term ::= [a-z] [a-z0-9_]{0,30}"


def conclusion_grammar(names: str) -> str:
    """FOL_GBNF with predicates limited to those in `names` (a `vocabulary` line): for a conclusion re-sampled
    after it used predicates no premise has."""
    predicates = [n.split("/")[0] for n in names.split(", ") if "/" in n]
    if not predicates:
        return FOL_GBNF
    return FOL_GBNF.replace(PRED_RULE, f"pred ::= {_choice(predicates)}")


ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"))


def words_grammar(texts: list[str], grammar: str = FOL_GBNF) -> str:
    """`grammar` with names made of the story's words, so a translation cannot name what the text does not say:
    a predicate is one to six of them capitalised (a word as written, with an `s` or without its ending: `team`
    gives `Teams`, `teams` gives `Team`; after the first, also in lower case or a number), a constant one to six
    in lower case, joined or with underscores (`year1990` where the story has the number). A variable is still
    one letter."""
    found = {w for text in texts for w in re.findall(r"[A-Za-z]+|[0-9]+", re.sub(r"['’]", "", text))}
    numbers = {w for w in found if w.isdigit()}
    forms = {f for w in found - numbers for f in _forms(w)}
    upper = {f[0].upper() + f[1:] for f in forms} | {f[0].upper() + f[1:].lower() for f in forms}
    lower = {f.lower() for f in forms} | ({"year"} if numbers else set())
    if not lower:
        return grammar
    num = f"num ::= {_choice(numbers)}" if numbers else "num ::= [0-9]{1,6}"
    pred = f"pred ::= pword (pword | tword | num){{0,5}}\npword ::= {_choice(upper)}"  # unless the predicates are chosen already
    term = f'term ::= [a-z] | tword ("_"? (tword | num)){{0,5}}\ntword ::= {_choice(lower)}\n{num}'
    return grammar.replace(PRED_RULE, pred).replace(TERM_RULE, term)


def _forms(word: str) -> set[str]:
    out = {word, word + "s"}
    for ending, stem in ENDINGS:
        if word.lower().endswith(ending) and len(word) - len(ending) >= 2:
            out.add(word[: -len(ending)] + stem)
    return out


def _choice(words: Iterable[str]) -> str:
    """GBNF alternatives, longest first."""
    return " | ".join(f'"{w}"' for w in sorted(words, key=lambda w: (-len(w), w)))
