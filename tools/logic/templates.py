"""ProofWriter's templated English to FOL, by rules: training targets for the translator, never answers.

ProofWriter writes facts and rules from a small grammar ("Bob is not red.", "The cat chases the dog.",
"If someone is big and they chase the cat then the cat is red.", "All red, cold things are round.").
These rules turn such sentences into formulas in the logic tool's syntax; a problem is kept as a
training example only when the prover, given them, reproduces the gold label (tools/logic/pairs.py).
A sentence outside the grammar raises `Untranslatable`, and the problem is left out.
"""

from __future__ import annotations

import re

VARIABLE = "x"
_PRONOUNS = {"someone", "something", "they", "them", "it", "he", "she", "him", "her"}
_BASE = {"chases": "chase", "eats": "eat", "likes": "like", "needs": "need", "sees": "see", "visits": "visit"}
_BASE |= {base: base for base in list(_BASE.values())}
_VERB_WORDS = "|".join(_BASE)
# Who a clause is about: a pronoun, "the" and one or two words ("the bald eagle"), or a capitalised name.
_ENTITY = r"(?:[Ss]ome(?:one|thing)|[Tt]hey|[Tt]hem|[Ii]t|[Tt]he [a-z]+(?: [a-z]+)?|[A-Z][a-z]+)"
_NEGATED_VERB = re.compile(rf"^(?P<subj>{_ENTITY}) (?:does|do) not (?P<verb>{_VERB_WORDS}) (?P<obj>{_ENTITY})$")
_VERB = re.compile(rf"^(?P<subj>{_ENTITY}) (?P<verb>{_VERB_WORDS}) (?P<obj>{_ENTITY})$")
_IS = re.compile(rf"^(?P<subj>{_ENTITY}) (?:is|are) (?P<neg>not )?(?P<adj>[a-z]+)$")
_ALL = re.compile(r"^(?:all )?(?P<adjs>[a-z]+(?:,? [a-z]+)*) (?:things|people) are (?P<neg>not )?(?P<adj>[a-z]+)$")


class Untranslatable(ValueError):
    pass


def term(words: str) -> str:
    """An entity or the variable: "the bald eagle" -> bald_eagle, "Bob" -> bob, "someone" -> x."""
    words = words.strip().lower()
    if words in _PRONOUNS:
        return VARIABLE
    return re.sub(r"^the ", "", words).replace(" ", "_")


def _predicate(word: str) -> str:
    return word[:1].upper() + word[1:]


def clause(text: str) -> str:
    """One atomic statement, possibly negated: "Bob is not red" -> ¬Red(bob)."""
    text = text.strip().rstrip(".")
    for pattern, negated in ((_NEGATED_VERB, True), (_VERB, False)):
        match = pattern.match(text)
        if match:
            atom = f"{_predicate(_BASE[match['verb']])}({term(match['subj'])}, {term(match['obj'])})"
            return ("¬" if negated else "") + atom
    match = _IS.match(text)
    if match:
        return ("¬" if match["neg"] else "") + f"{_predicate(match['adj'])}({term(match['subj'])})"
    raise Untranslatable(f"no rule for the statement {text!r}")


def _conjuncts(text: str) -> list[str]:
    """ "X is big and they are red" -> two clauses; "X is quiet and cold" -> the second said of X too."""
    clauses, subject = [], None
    for part in (p.strip() for p in re.split(r"\band\b", text)):
        try:
            clauses.append(clause(part))
        except Untranslatable:
            if subject is None:
                raise
            clauses.append(clause(f"{subject} is {part}"))  # "something is quiet and cold": cold is said of it too
        found = re.match(rf"^(.+?) (?:is|are|does|do|{_VERB_WORDS}) ", part)
        subject = found.group(1) if found else subject
    return clauses


def sentence(text: str) -> str:
    """One ProofWriter sentence as a formula."""
    text = text.strip().rstrip(".")
    lower = text[:1].lower() + text[1:]
    if lower.startswith("if "):
        condition, sep, conclusion = lower[3:].partition(" then ")
        if not sep:
            raise Untranslatable(f"an 'if' without 'then': {text!r}")
        body = " ∧ ".join(_conjuncts(condition))
        head = " ∧ ".join(_conjuncts(conclusion))
        formula = f"({body}) → ({head})"
        return f"∀{VARIABLE} ({formula})" if re.search(rf"\b{VARIABLE}\b", formula) else formula
    match = _ALL.match(lower)
    if match:
        adjs = [a for a in re.split(r",? ", match["adjs"]) if a]
        body = " ∧ ".join(f"{_predicate(a)}({VARIABLE})" for a in adjs)
        return f"∀{VARIABLE} ({body} → {'¬' if match['neg'] else ''}{_predicate(match['adj'])}({VARIABLE}))"
    return clause(text)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text.strip()) if s.strip()]


def context(text: str) -> list[str]:
    """Every sentence of a ProofWriter context, as formulas."""
    return [sentence(s) for s in sentences(text)]


def asked(question: str) -> str:
    """The statement a ProofWriter question asks about ("... true, false, or unknown? Bob is red.")."""
    return question.rsplit("?", 1)[-1].strip()


def statement(question: str) -> str:
    """The formula of the statement a ProofWriter question asks about."""
    return sentence(asked(question))


# ---- BIG-bench logical deduction: ordering puzzles as answer-set programs -------------------------

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7}
# Position 1 is the end these words point to; their opposites count from the other end.
_RELATIONS = {"to the left of": "<", "above": "<", "newer than": "<", "more expensive than": "<",
              "to the right of": ">", "below": ">", "older than": ">", "less expensive than": ">"}
_ENDS = {"leftmost": "first", "newest": "first", "most expensive": "first",
         "rightmost": "last", "oldest": "last", "cheapest": "last"}
_STATEMENT = re.compile(r"^(?P<subj>.+?) (?:is|are|finished) (?P<rest>.+)$")
_FROM = re.compile(r"^(?P<ord>\w+) from the (?P<side>left|right)$")
_COUNTED = re.compile(r"^(?P<ord>\w+)-(?P<word>to-last|newest|oldest|most expensive|cheapest)$")


def _object(words: str) -> str:
    words = re.sub(r"^(?:the|a|an) ", "", words.strip().lower())
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_")


def _position(phrase: str) -> str:
    """ "the third from the right" -> n-2; "second-to-last" -> n-1; "the cheapest" -> n (n: the number of objects)."""
    phrase = re.sub(r"^the ", "", phrase)
    if phrase in _ORDINALS:
        return str(_ORDINALS[phrase])
    if phrase == "last":
        return "n"
    if phrase in _ENDS:
        return "1" if _ENDS[phrase] == "first" else "n"
    if match := _FROM.match(phrase):
        k = _ORDINALS.get(match["ord"])
        if k:
            return str(k) if match["side"] == "left" else _from_end(k)
    if match := _COUNTED.match(phrase):
        k = _ORDINALS.get(match["ord"])
        if k:
            return str(k) if _ENDS.get(match["word"], "last") == "first" else _from_end(k)
    raise Untranslatable(f"no rule for the position {phrase!r}")


def _from_end(k: int) -> str:
    return "n" if k == 1 else f"n-{k - 1}"


def ordering_condition(text: str) -> str:
    """A statement about the order as an ASP rule body that holds when it is true:
    "The owl is the leftmost." -> `at(owl, 1)`; "The robin is left of the raven." -> `at(robin, P), at(raven, Q), P < Q`."""
    match = _STATEMENT.match(text.strip().rstrip("."))
    if not match:
        raise Untranslatable(f"no rule for the statement {text!r}")
    subject, rest = _object(match["subj"]), match["rest"]
    for words, order in _RELATIONS.items():
        if rest.startswith(words + " "):
            return f"at({subject}, P), at({_object(rest[len(words) + 1:])}, Q), P {order} Q"
    return f"at({subject}, {_position(rest)})"


def ordering_objects(text: str) -> str:
    """The sentence listing the objects as an ASP fact: "... there are three birds: a quail, an owl, and a robin." ->
    `obj(quail; owl; robin)`."""
    listing = text.partition(":")[2].strip().rstrip(".")
    if not listing:
        raise Untranslatable("the puzzle does not list its objects after a colon")
    return "obj(" + "; ".join(_object(o) for o in re.split(r",\s*(?:and\s+)?|\s+and\s+", listing) if o.strip()) + ")"


def ordering_sentences(context_text: str) -> list[str]:
    """A puzzle's sentences after its preamble: the listing of the objects first, then the statements."""
    return sentences(context_text.split("\n\n", 1)[-1])


def option_text(option: str) -> tuple[str, str]:
    """ "A) The quail is the rightmost." -> ("A", "The quail is the rightmost.")."""
    letter, _, text = option.partition(") ")
    return letter.strip(), text.strip()


def ordering(context_text: str, options: list[str]) -> tuple[list[str], dict[str, str]]:
    """A logical-deduction puzzle by rules: the ASP line of each sentence, and each option's condition by letter."""
    lines = ordering_sentences(context_text)
    targets = [ordering_objects(lines[0])] + [ordering_condition(s) for s in lines[1:]]
    return targets, {letter: ordering_condition(text) for letter, text in map(option_text, options)}
