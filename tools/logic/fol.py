"""First-order logic formulas: the one syntax the logic tool reads, and its TPTP rendering for a prover.

The syntax is FOLIO's: `∀x (Dog(x) → Animal(x))`, `∃x ∃y (Likes(x, y) ∧ ¬Likes(y, x))`, connectives
¬ ∧ ∨ ⊕ (exclusive or) → ↔, binding in that order, predicates and functions applied to terms, `=`. A single lowercase
letter (optionally followed by digits) is a variable where a quantifier binds it; every other name is
a constant. The grammar is written for lark, so the same text can later constrain decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lark import Lark, Transformer, UnexpectedInput

GRAMMAR = r"""
?formula: iff
?iff: implies ("↔" implies)*                 -> iff
?implies: xor ("→" implies)?                  -> implies
?xor: disj ("⊕" disj)*                        -> xor
?disj: conj ("∨" conj)*                       -> disj
?conj: unary ("∧" unary)*                     -> conj
?unary: "¬" unary                             -> neg
      | QUANT VAR unary                       -> quantified
      | atom
      | "(" formula ")"
atom: NAME "(" term ("," term)* ")"           -> predicate
    | term "=" term                           -> equal
    | term "≠" term                           -> unequal
    | NAME                                    -> proposition
?term: NAME "(" term ("," term)* ")"          -> function
     | NAME                                   -> name
QUANT: "∀" | "∃"
VAR: /[a-z][0-9]*/
NAME: /[A-Za-z0-9_][A-Za-z0-9_\-.']*/
%import common.WS
%ignore WS
"""


class FormulaError(ValueError):
    """A formula that does not parse, or uses a name inconsistently."""


# Model output is read, so it is bounded before anything recursive (signature, TPTP, show) walks it.
MAX_CHARS = 2000
MAX_DEPTH = 64


@dataclass(frozen=True)
class Node:
    op: str  # not and or implies iff xor forall exists pred eq fn name prop
    args: tuple  # sub-nodes, or (name, args...) for predicates and functions


class _Build(Transformer):
    def neg(self, c): return Node("not", (c[0],))
    def conj(self, c): return _chain("and", c)
    def disj(self, c): return _chain("or", c)
    def implies(self, c): return _chain("implies", c)
    def iff(self, c): return _chain("iff", c)
    def xor(self, c): return _chain("xor", c)
    def quantified(self, c): return Node("forall" if c[0] == "∀" else "exists", (str(c[1]), c[2]))
    def predicate(self, c): return Node("pred", (str(c[0]), *c[1:]))
    def proposition(self, c): return Node("pred", (str(c[0]),))
    def equal(self, c): return Node("eq", tuple(c))
    def unequal(self, c): return Node("not", (Node("eq", tuple(c)),))
    def function(self, c): return Node("fn", (str(c[0]), *c[1:]))
    def name(self, c): return Node("name", (str(c[0]),))


def _chain(op: str, children: list) -> Node:
    return children[0] if len(children) == 1 else Node(op, tuple(children))


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, start="formula", parser="lalr", transformer=_Build())


def parse(text: str) -> Node:
    """A formula's tree; FormulaError with the position when it does not parse."""
    cleaned = text.strip().rstrip(".")
    if len(cleaned) > MAX_CHARS:
        raise FormulaError(f"is {len(cleaned)} characters long: at most {MAX_CHARS} are read")
    try:
        node = _parser().parse(cleaned)
    except UnexpectedInput as e:
        raise FormulaError(f"does not parse at column {e.column}: {cleaned[:200]!r}") from None
    if depth(node) > MAX_DEPTH:
        raise FormulaError(f"nests deeper than {MAX_DEPTH} levels")
    return node


def depth(node: Node) -> int:
    """How deeply `node` nests (walked without recursion: it is checked before anything recursive reads it)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack += [(a, level + 1) for a in node.args if isinstance(a, Node)]
    return deepest


def signature(node: Node, bound: frozenset[str] = frozenset(), out: dict | None = None) -> dict[str, int]:
    """Every predicate and function symbol with its arity (`P/2`), and constants (`c/0`); raises
    FormulaError when one name is used with two arities."""
    out = {} if out is None else out

    def note(key: str, arity: int) -> None:
        if out.setdefault(key, arity) != arity:
            raise FormulaError(f"{key} is used with {out[key]} and with {arity} arguments")

    if node.op in ("forall", "exists"):
        signature(node.args[1], bound | {node.args[0]}, out)
    elif node.op in ("pred", "fn"):
        note(("pred " if node.op == "pred" else "fn ") + node.args[0], len(node.args) - 1)
        for term in node.args[1:]:
            signature(term, bound, out)
    elif node.op == "name":
        if node.args[0] not in bound:
            note("const " + node.args[0], 0)
    else:
        for child in node.args:
            signature(child, bound, out)
    return out


# ---- TPTP (first-order form) for E and other provers ------------------------------------------

_TPTP_OP = {"and": "&", "or": "|", "implies": "=>", "iff": "<=>", "xor": "<~>"}


def tptp(node: Node, bound: frozenset[str] = frozenset()) -> str:
    if node.op in ("and", "or"):
        return "(" + f" {_TPTP_OP[node.op]} ".join(tptp(a, bound) for a in node.args) + ")"
    if node.op in _TPTP_OP:  # binary in TPTP: a chain `A ⊕ B ⊕ C` is read from the left, ((A ⊕ B) ⊕ C)
        text = tptp(node.args[0], bound)
        for arg in node.args[1:]:
            text = f"({text} {_TPTP_OP[node.op]} {tptp(arg, bound)})"
        return text
    if node.op == "not":
        return f"~{tptp(node.args[0], bound)}"
    if node.op in ("forall", "exists"):
        var, body = node.args
        return f"({'!' if node.op == 'forall' else '?'} [{_var(var)}] : {tptp(body, bound | {var})})"
    if node.op == "eq":
        return f"({tptp(node.args[0], bound)} = {tptp(node.args[1], bound)})"
    if node.op in ("pred", "fn"):
        name, *args = node.args
        symbol = ("p_" if node.op == "pred" else "f_") + _symbol(name)
        return symbol + (f"({', '.join(tptp(a, bound) for a in args)})" if args else "")
    if node.op == "name":
        return _var(node.args[0]) if node.args[0] in bound else "c_" + _symbol(node.args[0])
    raise FormulaError(f"cannot render {node.op}")


def _var(name: str) -> str:
    return "X_" + name


def _symbol(name: str) -> str:
    """A TPTP lower word for any name (TPTP names start lowercase and hold [A-Za-z0-9_])."""
    return re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", name)


def problem(premises: list[Node], goal: Node | None) -> str:
    """A TPTP problem: the premises as axioms, and the goal as the conjecture (none: check consistency)."""
    lines = [f"fof(p{i}, axiom, {tptp(p)})." for i, p in enumerate(premises)]
    if goal is not None:
        lines.append(f"fof(goal, conjecture, {tptp(goal)}).")
    return "\n".join(lines) + "\n"


def negate(node: Node) -> Node:
    return Node("not", (node,))



# ---- the translator's canonical text ----------------------------------------------------------

_SHOW_OP = {"and": " ∧ ", "or": " ∨ ", "implies": " → ", "iff": " ↔ ", "xor": " ⊕ "}


def show(node: Node, bound: frozenset[str] = frozenset()) -> str:
    """A formula in the one spelling the translator writes (translate.FORMULA_GBNF): every binary
    sub-formula in parentheses, predicates capitalised, constants lowercase_with_underscores.
    FormulaError for what that spelling lacks (function terms, names it cannot hold)."""
    if node.op in _SHOW_OP:
        return _SHOW_OP[node.op].join(_operand(a, bound) for a in node.args)
    if node.op == "not":
        return "¬" + _operand(node.args[0], bound)
    if node.op in ("forall", "exists"):
        var, body = node.args
        if not re.fullmatch(r"[a-z]", var):
            raise FormulaError(f"variable {var!r} is not a single letter")
        return ("∀" if node.op == "forall" else "∃") + var + " " + _operand(body, bound | {var})
    if node.op == "eq":
        return f"{_term(node.args[0], bound)} = {_term(node.args[1], bound)}"
    if node.op == "pred":
        name, *args = node.args
        text = re.sub(r"[^A-Za-z0-9]", "", name)
        text = text[:1].upper() + text[1:]
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]{0,30}", text):
            raise FormulaError(f"predicate {name!r} has no canonical spelling")
        return text + (f"({', '.join(_term(a, bound) for a in args)})" if args else "")
    raise FormulaError(f"{node.op} is outside the translator's syntax")


def _operand(node: Node, bound: frozenset[str]) -> str:
    text = show(node, bound)
    return f"({text})" if node.op in _SHOW_OP else text


def _term(node: Node, bound: frozenset[str]) -> str:
    if node.op != "name":
        raise FormulaError("function terms are outside the translator's syntax")
    name = node.args[0]
    if name in bound:
        return name
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", text):
        raise FormulaError(f"constant {name!r} has no canonical spelling")
    return text
