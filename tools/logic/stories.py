"""Stories in free English generated from random first-order formulas: training pairs for the translator that
name one concept one way across a whole story.

A story draws a handful of concepts from a lexicon (adjectives, nouns, verb phrases, relations between two
people) and a few people, writes random formulas over them in the shapes FOLIO's premises take (all / no /
some, conditions with and / or / either-or / neither-nor, relative clauses, negation inside and outside, facts
about people), and renders each in one of several English wordings. A predicate's name is the concept's words
(`DrinkTea` for "drinks tea" and "people who drink tea"), so the names a
story's sentences need are the same in every sentence: what a translator must learn to do.

A story is kept only when the prover finds its premises consistent and settles its conclusion (True, False or
Unknown, none timed out). Its pairs: each premise prompted with the story's names (`Names: …`), and each
without; the conclusion prompted with the names.

The lexicon is written here by hand; no sentence is taken from FOLIO. `leakage` measures how close generated
sentences come to a set of sentences (the benchmark's held-out FOLIO stories).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tools.base import Pair
from tools.logic.fol import parse, show
from tools.logic.prover import consistent, decide
from tools.logic.translate import fol_prompt, vocabulary


@dataclass(frozen=True)
class Concept:
    name: str  # the predicate
    kind: str  # adj, noun, verb
    word: str  # adj "happy"; noun "student" ; verb "drinks coffee" (third person)
    plural: str = ""  # noun "students"; verb "drink coffee"

    def is_(self, subject: str) -> str:  # "Rina is happy", "Rina is a student", "Rina drinks coffee"
        if self.kind == "adj":
            return f"{subject} is {self.word}"
        if self.kind == "noun":
            return f"{subject} is {_article(self.word)}"
        return f"{subject} {self.word}"

    def is_not(self, subject: str) -> str:
        if self.kind == "verb":
            return f"{subject} does not {self.plural}"
        return self.is_(subject).replace(" is ", " is not ", 1)

    def who(self, negated: bool = False) -> str:  # "who is happy", "who is a student", "who drinks coffee"
        if self.kind == "verb":
            return f"who {'does not ' + self.plural if negated else self.word}"
        return "who " + self.is_("").strip().replace("is ", "is not " if negated else "is ", 1)

    def people(self) -> str:  # "happy people", "students", "people who drink coffee"
        if self.kind == "adj":
            return f"{self.word} people"
        if self.kind == "noun":
            return self.plural
        return f"people who {self.plural}"

    def are(self, negated: bool = False) -> str:  # "are happy", "are students", "drink coffee"
        if self.kind == "adj":
            return f"are {'not ' if negated else ''}{self.word}"
        if self.kind == "noun":
            return f"are {'not ' if negated else ''}{self.plural}"
        return f"{'do not ' if negated else ''}{self.plural}"


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _adj(word: str) -> Concept:
    return Concept(word.title().replace(" ", ""), "adj", word)


def _noun(word: str, plural: str | None = None) -> Concept:
    return Concept("".join(w.title() for w in word.split()), "noun", word, plural or word + "s")


def _verb(third: str, base: str) -> Concept:
    return Concept("".join(w.title() for w in base.split() if w not in ("a", "an", "the")), "verb", third, base)


LEXICON = [
    *map(_adj, ["happy", "tall", "busy", "curious", "honest", "quiet", "brave", "hungry", "famous", "patient", "wealthy",
                "creative", "sleepy", "careful", "lucky", "polite"]),
    _noun("teacher"), _noun("student"), _noun("doctor"), _noun("musician"), _noun("engineer"), _noun("athlete"),
    _noun("painter"), _noun("farmer"), _noun("pilot"), _noun("chef"), _noun("writer"), _noun("gardener"), _noun("nurse"),
    _noun("lawyer"), _noun("scientist"), _noun("baker"),
    _verb("drinks tea", "drink tea"), _verb("plays chess", "play chess"), _verb("owns a car", "own a car"),
    _verb("lives in the city", "live in the city"), _verb("reads novels", "read novels"), _verb("speaks French", "speak French"),
    _verb("works at night", "work at night"), _verb("rides a bike", "ride a bike"), _verb("sings in a choir", "sing in a choir"),
    _verb("grows vegetables", "grow vegetables"), _verb("travels often", "travel often"), _verb("keeps a diary", "keep a diary"),
    _verb("wears glasses", "wear glasses"), _verb("eats meat", "eat meat"), _verb("swims daily", "swim daily"),
    _verb("has a pet", "have a pet"),
]
RELATIONS = [("Knows", "knows"), ("Admires", "admires"), ("Helps", "helps"), ("Trusts", "trusts"), ("Teaches", "teaches"),
             ("Visits", "visits")]
PEOPLE = ["Ada", "Bruno", "Carla", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena", "Milo",
          "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Stefan", "Tomas", "Uma", "Viktor", "Wanda", "Yusuf", "Zoe"]


# ---- formulas and their wordings --------------------------------------------------------------------

def _general(rng: random.Random, a: Concept, b: Concept, c: Concept) -> tuple[str, str]:
    """A sentence about everyone, and its formula."""
    shape = rng.randrange(8)
    if shape == 0:  # all A are B
        text = rng.choice([f"All {a.people()} {b.are()}", f"Every {_one(a)} {_sg(b.are())}",
                           f"If someone {_sg_is(a)}, then they {_they(b)}", f"Anyone {a.who()} {_sg(b.are())}",
                           f"{a.people().capitalize()} {b.are()}", f"Everyone {a.who()} {_sg(b.are())}"])
        return text, f"∀x ({a.name}(x) → {b.name}(x))"
    if shape == 1:  # no A is B
        text = rng.choice([f"No {_one(a)} {_sg(b.are())}", f"{a.people().capitalize()} {b.are(negated=True)}",
                           f"If someone {_sg_is(a)}, then they {_they(b, negated=True)}", f"Nobody {a.who()} {_sg(b.are())}"])
        return text, f"∀x ({a.name}(x) → ¬{b.name}(x))"
    if shape == 2:  # A and B are C
        text = rng.choice([f"All {a.people()} {b.who().replace('who is', 'who are').replace('who ', 'who ', 1) if b.kind != 'verb' else 'who ' + b.plural} {c.are()}",
                           f"Everyone {a.who()} and {b.who()[4:]} {_sg(c.are())}",
                           f"If someone {_sg_is(a)} and {_sg_is(b)}, then they {_they(c)}"])
        return text, f"∀x (({a.name}(x) ∧ {b.name}(x)) → {c.name}(x))"
    if shape == 3:  # A are either B or C
        text = rng.choice([f"Every {_one(a)} {_either(b, c)}", f"Everyone {a.who()} {_either(b, c)}",
                           f"If someone {_sg_is(a)}, then they {_either(b, c, 'they')}"])
        return text, f"∀x ({a.name}(x) → ({b.name}(x) ⊕ {c.name}(x)))"
    if shape == 4:  # A or B implies C
        text = rng.choice([f"Anyone {a.who()} or {b.who()[4:]} {_sg(c.are())}",
                           f"If someone {_sg_is(a)} or {_sg_is(b)}, then they {_they(c)}"])
        return text, f"∀x (({a.name}(x) ∨ {b.name}(x)) → {c.name}(x))"
    if shape == 5:  # some A are B
        text = rng.choice([f"Some {a.people()} {b.are()}", f"There is {_article(_one(a)) if a.kind != 'verb' else 'someone'} "
                           f"{'' if a.kind != 'verb' else a.who() + ' and '}{b.who() if a.kind != 'verb' else b.who()[4:]}",
                           f"At least one {_one(a)} {_sg(b.are())}"])
        return text, f"∃x ({a.name}(x) ∧ {b.name}(x))"
    if shape == 6:  # A are not B unless C: ¬C → ¬B for A; written as A ∧ ¬C → ¬B
        text = rng.choice([f"Every {_one(a)} {_who_not(c)} {_sg(b.are(negated=True))}",
                           f"If someone {_sg_is(a)} and {_sg_is_not(c)}, then they {_they(b, negated=True)}"])
        return text, f"∀x (({a.name}(x) ∧ ¬{c.name}(x)) → ¬{b.name}(x))"
    text = rng.choice([f"Everyone is either {_either_words(a, b)}", f"People {_either(a, b, 'people')}"])
    return text, f"∀x ({a.name}(x) ⊕ {b.name}(x))"


def _fact(rng: random.Random, person: str, a: Concept, b: Concept, other: str, relation: tuple[str, str]) -> tuple[str, str]:
    """A sentence about one person (or two), and its formula."""
    p = person.lower()
    shape = rng.randrange(7)
    if shape == 0:
        return a.is_(person), f"{a.name}({p})"
    if shape == 1:
        return a.is_not(person), f"¬{a.name}({p})"
    if shape == 2:
        return f"{a.is_(person)} and {b.is_('').strip().removeprefix('is ') if b.kind != 'verb' else b.word}", \
            f"{a.name}({p}) ∧ {b.name}({p})"
    if shape == 3:
        return f"{person} {_either(a, b)}", f"{a.name}({p}) ⊕ {b.name}({p})"
    if shape == 4:
        if a.kind != "verb" and b.kind != "verb":
            return f"{person} is neither {_bare(a)} nor {_bare(b)}", f"¬({a.name}({p}) ∨ {b.name}({p}))"
        return f"{person} neither {_sg_is(a)} nor {_sg_is(b)}", f"¬({a.name}({p}) ∨ {b.name}({p}))"
    if shape == 5:
        return f"If {a.is_(person)}, then {b.is_('they').replace('they is', 'they are')}" if b.kind != "verb" else \
            f"If {a.is_(person)}, then {person} {b.word}", f"{a.name}({p}) → {b.name}({p})"
    return f"{person} {relation[1]} {other}", f"{relation[0]}({p}, {other.lower()})"


def _one(c: Concept) -> str:
    return {"adj": f"{c.word} person", "noun": c.word, "verb": f"person {c.who()}"}[c.kind]


def _sg(plural_predicate: str) -> str:
    """ "are happy" -> "is happy"; "drink coffee" -> "drinks coffee"; "do not drink" -> "does not drink"."""
    if plural_predicate.startswith("are "):
        words = plural_predicate[4:]
        negated = words.startswith("not ")
        rest = words[4:] if negated else words
        for concept in LEXICON:
            if concept.kind == "noun" and rest == concept.plural:
                rest = _article(concept.word)
        return "is " + ("not " if negated else "") + rest
    if plural_predicate.startswith("do not "):
        return "does not " + plural_predicate[7:]
    for concept in LEXICON:
        if concept.kind == "verb" and plural_predicate == concept.plural:
            return concept.word
    return plural_predicate


def _sg_is(c: Concept) -> str:
    return c.is_("").strip()


def _sg_is_not(c: Concept) -> str:
    return c.is_not("").strip()


def _bare(c: Concept) -> str:
    return c.word if c.kind == "adj" else _article(c.word)


def _who_not(c: Concept) -> str:
    return c.who(negated=True)


def _either_words(a: Concept, b: Concept) -> str:
    return f"{_bare(a) if a.kind != 'verb' else 'someone who ' + a.word} or {_bare(b) if b.kind != 'verb' else 'someone who ' + b.word}"


def _either(a: Concept, b: Concept, subject: str = "one") -> str:
    """After one person: "is either happy or a student"; after "they": "are either happy or a student";
    after "people": "are either happy or students"; with a verb: "either drinks tea or is tall"."""
    def noun_phrase(c: Concept) -> str:
        return c.plural if subject == "people" and c.kind == "noun" else _bare(c)

    def part(c: Concept) -> str:
        if c.kind == "verb":
            return c.word if subject == "one" else c.plural
        return ("is " if subject == "one" else "are ") + noun_phrase(c)
    if a.kind != "verb" and b.kind != "verb":
        return f"{'is' if subject == 'one' else 'are'} either {noun_phrase(a)} or {noun_phrase(b)}"
    return f"either {part(a)} or {part(b)}"


def _they(c: Concept, negated: bool = False) -> str:
    """After a singular "they": "are a student", "are not happy", "drink tea"."""
    if c.kind == "verb":
        return c.are(negated)
    return "are " + ("not " if negated else "") + _bare(c)


# ---- stories ---------------------------------------------------------------------------------------

def story(rng: random.Random) -> tuple[list[tuple[str, str]], tuple[str, str], str] | None:
    """(premises as (sentence, formula), the conclusion, its label), or None when the prover rejects the story."""
    concepts = rng.sample(LEXICON, rng.randint(3, 6))
    people = rng.sample(PEOPLE, rng.randint(1, 2))
    relation = rng.choice(RELATIONS)
    premises = []
    for _ in range(rng.randint(2, 4)):
        premises.append(_general(rng, *rng.sample(concepts, 3)))
    for _ in range(rng.randint(1, 3)):
        a, b = rng.sample(concepts, 2)
        premises.append(_fact(rng, rng.choice(people), a, b, people[-1] if people[-1] != people[0] else rng.choice(PEOPLE), relation))
    rng.shuffle(premises)
    a, b = rng.sample(concepts, 2)
    person = rng.choice(people)
    conclusion = _fact(rng, person, a, b, rng.choice(PEOPLE), relation) if rng.random() < 0.8 else _general(rng, *rng.sample(concepts, 3))
    try:
        formulas = [parse(f) for _, f in premises]
        goal = parse(conclusion[1])
    except Exception:  # noqa: BLE001 - a wording bug in this generator drops the story, it does not end the run
        return None
    if consistent(formulas, 2.0).status == "Unsatisfiable":
        return None
    verdict = decide(formulas, goal, 2.0)
    if any(c.status not in ("Theorem", "CounterSatisfiable") for c in verdict.calls):
        return None  # not settled: the story is left out
    return [(s + ".", show(f)) for (s, _), f in zip(premises, formulas)], (conclusion[0] + ".", show(goal)), verdict.label


def story_pairs(count: int, seed: int = 0, tally: Counter | None = None) -> list[Pair]:
    """Pairs from `count` generated stories that the prover accepts."""
    rng = random.Random(seed)
    tally = Counter() if tally is None else tally
    pairs = []
    for index in range(count):
        made = story(rng)
        if made is None:
            tally["generated story rejected by the prover"] += 1
            continue
        premises, (conclusion, goal), label = made
        tally[f"generated story {label}"] += 1
        names = vocabulary([parse(f) for _, f in premises])
        group = f"story-{seed}-{index}"
        for sentence, formula in premises:
            prompt = fol_prompt(sentence, names) if rng.random() < 0.5 else fol_prompt(sentence)
            pairs.append(Pair(prompt=prompt, target=formula, source="generated", kind="premise", group=group))
        pairs.append(Pair(prompt=fol_prompt(conclusion, names), target=goal, source="generated", kind="conclusion", group=group))
    return pairs


def leakage(pairs: list[Pair], sentences: list[str], near: float = 90.0) -> dict:
    """How many generated sentences equal, or come within `near` (rapidfuzz ratio) of, one of `sentences`."""
    generated = sorted({p.prompt.rsplit("Sentence: ", 1)[-1].split("\nFOL:")[0] for p in pairs})
    exact = len(set(generated) & set(sentences))
    close = [s for s in generated if process.extractOne(s, sentences, scorer=fuzz.ratio, score_cutoff=near)]
    return {"generated_sentences": len(generated), "compared_with": len(sentences), "equal": exact, f"within_{near:g}": len(close),
            "examples": close[:3]}
