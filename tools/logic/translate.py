"""The translator's format: a problem in words in, one formula per premise and one for the conclusion out.

The prompt numbers the premises and ends with the conclusion; the model answers one formula per
line, in order, then `conclusion: <formula>`. Decoding is constrained by a grammar built for the
problem (as many premise lines as it has premises, each a formula of tools/logic/fol.py's syntax), so
every sample parses; `read` turns a sample back into formulas, or says what is wrong with it.
"""

from __future__ import annotations

from pydantic import BaseModel

from tools.logic.fol import FormulaError, Node, parse, signature

# GBNF (what vLLM's structured outputs take as `grammar`) for one formula, FOLIO's binding order:
# ¬ ∧ ∨ ⊕ → ↔. Names: predicates capitalised, constants and variables lowercase.
FORMULA_GBNF = r"""
formula ::= implies (" ↔ " implies)*
implies ::= xor (" → " implies)?
xor ::= disj (" ⊕ " disj)*
disj ::= conj (" ∨ " conj)*
conj ::= unary (" ∧ " unary)*
unary ::= "¬" unary | quant var " " unary | atom | "(" formula ")"
quant ::= "∀" | "∃"
var ::= [a-z]
atom ::= pred "(" term (", " term)* ")"
pred ::= [A-Z] [A-Za-z0-9]{0,30}
term ::= [a-z] [a-z0-9_]{0,30}
"""


class Problem(BaseModel):
    premises: list[str]
    conclusion: str


class Translation(BaseModel):
    premises: list[str]
    conclusion: str


def prompt(problem: Problem) -> str:
    lines = [f"{i}. {p.strip()}" for i, p in enumerate(problem.premises, 1)]
    return "Premises:\n" + "\n".join(lines) + f"\nConclusion: {problem.conclusion.strip()}\nFOL:\n"


def grammar(problem: Problem) -> str:
    """The grammar of a translation of `problem`: one formula line per premise, then the conclusion's."""
    lines = " ".join(['formula "\\n"'] * len(problem.premises))
    return f'root ::= {lines} "conclusion: " formula\n' + FORMULA_GBNF


def render(translation: Translation) -> str:
    """A translation as the model writes it (the distillation target)."""
    return "".join(f"{p}\n" for p in translation.premises) + f"conclusion: {translation.conclusion}"


def read(text: str, problem: Problem) -> tuple[list[Node], Node]:
    """A sample's formulas; FormulaError when it is cut short, does not parse, or mixes a name's arities."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) != len(problem.premises) + 1 or not lines[-1].startswith("conclusion:"):
        raise FormulaError(f"expected {len(problem.premises)} premise lines and a conclusion line, got {len(lines)} lines")
    premises = [parse(line) for line in lines[:-1]]
    conclusion = parse(lines[-1].removeprefix("conclusion:"))
    symbols: dict = {}
    for node in [*premises, conclusion]:
        signature(node, out=symbols)
    return premises, conclusion
