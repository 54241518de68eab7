"""One vocabulary for a whole translation, before it is proved.

A translator that writes a problem sentence by sentence names one concept several ways (`Joke`, `Jokes`,
`Joking`) and misspells names (`raina` for Rina); the prover then sees unrelated symbols and proves nothing.
Before a translation is checked, its symbols are made one vocabulary:

- constants: one that is not a name of the problem's text but is close to one in spelling (`raina`, Rina) is
  that name;
- predicates of one arity spelt alike but for case (`StoneFish`, `Stonefish`), or whose words have the same
  stems (`Joke`, `Jokes`, `Joking`), are one predicate, and
  so are those that share a stem and whose glosses the sentence embedder (all-MiniLM-L6-v2) finds near-synonyms
  (`DrinksCoffee`, `CoffeeDrinker`). Each group takes its most used name.

Words that merely resemble each other are left apart: `Big` and `Small` share no stem, whatever their embeddings.

With `properties`, before predicates are grouped, a relation whose second place always holds a thing, not a name of
the text, is read as a property where that meets another sentence's reading: `Love(x, animals)` is
`LoveAnimals(x)` when another line wrote `LoveAnimals(nancy)` (or `LovesAnimal`), or `Love(x)`, which clashed with
it. Nothing quantifies over that place, so the two readings prove the same things.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

from rapidfuzz import fuzz, process

from tools.logic.fol import Node

NEAR_SYNONYM = 0.75  # cosine of the glosses, for predicates that share a stem
NAME_SPELLING = 80  # rapidfuzz ratio between a constant and a name of the text
_STOP = {"a", "an", "the", "of", "on", "in", "to", "is", "are", "be", "at", "by", "for", "with", "and", "or", "not"}


def unify(formulas: list[Node], text: str, embed=None, *, properties: bool = False) -> tuple[list[Node], dict[str, str]]:
    """The formulas with one vocabulary, and what was renamed (old name -> new name; `Love(·, animals)` -> `LoveAnimals`
    for a relation read as a property)."""
    renames: dict[str, str] = {}
    constants = Counter(_walk(formulas, "name"))
    names = _text_names(text)
    for constant in constants:
        if constant in names or len(constant) == 1:
            continue  # a name of the text, or a variable
        found = process.extractOne(constant, names, scorer=fuzz.ratio, score_cutoff=NAME_SPELLING) if names else None
        if found:
            renames[constant] = found[0]
    if properties:
        renames |= _properties(formulas, set(names) | set(renames))
    predicates = Counter(_walk([rename(f, renames) for f in formulas] if renames else formulas, "pred"))
    renames |= _merged(predicates, embed)
    if not renames:
        return formulas, {}
    return [rename(f, renames) for f in formulas], renames


def _properties(formulas: list[Node], names: set[str]) -> dict[str, str]:
    """Relations read as properties: `Love(·, animals)` -> `LoveAnimals`, for a two-place predicate whose second place
    is, in every use, a constant that is not a name of the text (nor misspells one), where the reading meets another:
    a property of the same stems (`LoveAnimals`, `LovesAnimal`), or the predicate used with one place (`Love(x)`)."""
    uses: dict[str, list[str | None]] = {}  # two-place predicate -> its second arguments (None: a variable or a term)
    for node, bound in _nodes(formulas):
        if node.op == "eq":
            return {}  # with equality two things may be one: read nothing as a property
        if node.op == "pred" and len(node.args) == 3:
            last = node.args[2]
            free = last.op == "name" and last.args[0] not in bound and len(last.args[0]) > 1
            uses.setdefault(node.args[0], []).append(last.args[0] if free and last.args[0] not in names else None)
    taken = set(_walk(formulas, "pred"))
    properties = {_stems(p.split("/")[0]) for p in taken if p.endswith("/1")}
    renames = {}
    for predicate, things in uses.items():
        if None in things:
            continue
        for thing in set(things):
            new = predicate + "".join(w.capitalize() for w in re.split(r"[_\W]+", thing) if w)
            if f"{predicate}/1" in taken or _stems(new) in properties:
                renames[_property_key(predicate, thing)] = new
    return renames


def _property_key(predicate: str, thing: str) -> str:
    return f"{predicate}(·, {thing})"


def _merged(predicates: Counter, embed) -> dict[str, str]:
    """Predicate renames: each group (same stems, or a shared stem and near-synonym glosses) to its most used name."""
    keys = {name: _stems(name.split("/")[0]) for name in predicates}
    groups: list[list[str]] = []
    for name in sorted(predicates, key=lambda n: (-predicates[n], n)):
        group = next((g for g in groups if g[0].split("/")[1] == name.split("/")[1]
                      and (keys[g[0]] == keys[name] or g[0].lower() == name.lower())), None)
        if group is None:
            groups.append([name])
        else:
            group.append(name)
    if embed is not None and len(groups) > 1:
        heads = [g[0] for g in groups]
        vectors = embed([_gloss(h.split("/")[0]) for h in heads])
        for i in range(len(heads)):
            for j in range(i):
                a, b = heads[i], heads[j]
                if (groups[i] and groups[j] and a.split("/")[1] == b.split("/")[1] and keys[a] & keys[b]
                        and float(vectors[i] @ vectors[j]) >= NEAR_SYNONYM):
                    groups[j] += groups[i]
                    groups[i] = []
                    break
    renames = {}
    for group in groups:
        for name in group[1:]:
            renames[name.split("/")[0]] = group[0].split("/")[0]
    return renames


def _walk(formulas: list[Node], kind: str) -> list[str]:
    """Every constant (`name`, unbound) or predicate (`pred`, as `Name/arity`) used, once per use."""
    if kind == "pred":
        return [f"{node.args[0]}/{len(node.args) - 1}" for node, _ in _nodes(formulas) if node.op == "pred"]
    return [node.args[0] for node, bound in _nodes(formulas) if node.op == "name" and node.args[0] not in bound]


def _nodes(formulas: list[Node]):
    """Every node of the formulas, with the variables bound where it stands."""

    def walk(node: Node, bound: frozenset[str]):
        yield node, bound
        if node.op in ("forall", "exists"):
            yield from walk(node.args[1], bound | {node.args[0]})
        else:
            for a in node.args:
                if isinstance(a, Node):
                    yield from walk(a, bound)

    for formula in formulas:
        yield from walk(formula, frozenset())


def rename(node: Node, renames: dict[str, str], bound: frozenset[str] = frozenset()) -> Node:
    """The formula with its predicates and constants renamed (old name -> new name); bound variables stay."""
    if node.op in ("forall", "exists"):
        return Node(node.op, (node.args[0], rename(node.args[1], renames, bound | {node.args[0]})))
    if node.op == "pred":
        name, terms = node.args[0], node.args[1:]
        if len(terms) == 2 and terms[1].op == "name" and terms[1].args[0] not in bound:
            key = _property_key(name, terms[1].args[0])
            if key in renames:  # a relation read as a property
                name, terms = renames[key], terms[:1]
        return Node("pred", (renames.get(name, name), *(rename(a, renames, bound) for a in terms)))
    if node.op == "name":
        name = node.args[0]
        return node if name in bound else Node("name", (renames.get(name, name),))
    return Node(node.op, tuple(rename(a, renames, bound) if isinstance(a, Node) else a for a in node.args))


def _text_names(text: str) -> list[str]:
    """The names a text gives (capitalised words and runs of them, not at a sentence's start unless seen elsewhere
    too), as the translator spells constants: `Rina` -> rina, `James Cameron` -> james_cameron."""
    runs = re.findall(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*", text)
    names = set()
    for run in runs:
        words = [w for w in run.split() if w.lower() not in _STOP]
        if words:
            names.add("_".join(re.sub(r"[^a-z0-9]", "", w.lower()) for w in words))
            names.update(re.sub(r"[^a-z0-9]", "", w.lower()) for w in words)
    return sorted(n for n in names if n)


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def _gloss(name: str) -> str:
    return " ".join(_words(name))


def _stems(name: str) -> frozenset[str]:
    return frozenset(_stemmer().stemWords([w for w in _words(name) if w not in _STOP]))


_LOCAL = threading.local()  # a Snowball stemmer is not safe to share between threads


def _stemmer():
    if not hasattr(_LOCAL, "stemmer"):
        import snowballstemmer

        _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return _LOCAL.stemmer
