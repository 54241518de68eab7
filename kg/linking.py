"""Entity linking: find the knowledge-graph entities a question is about.

A bracketed entity (MetaQA marks the topic so) wins. Otherwise every word span of the question is
looked up exactly, then normalised (case, accents, punctuation: "Amelie" finds *Amélie*), then
fuzzily. A link is *weak* when the span is a fuzzy match, or ordinary words rather than a name: a
common word ("Up", "Her", "if" for the film *If....*), or common words not written as the title.
Strong links rank first, names before lower-case keywords (a tag such as "screenplay"), the longest
first ("The Matrix Reloaded" over "The Matrix"), then weak links written as the name. Candidates come
back ranked, with their scores and any weakness, so a caller can show what was considered and ask
more evidence of a weak link.

`frame` turns the links into what a planner reads: the topic entity masked as [ENT] and, for a
conjunctive question ("a player who plays at Forward from Mexico"), a second entity the question
names apart from it masked as [ENT2].
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from pydantic import BaseModel
from wordfreq import zipf_frequency

from kg.names import letters as _letters
from kg.names import normalise
from kg.questions import BRACKETED, MASK, MASK2, masked
from kg.store import KnowledgeGraph

MAX_SPAN_WORDS = 12
FUZZY_CUTOFF = 80.0
_WORD = re.compile(r"\S+")
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have he her his how in is it its of on or she "
    "that the their them they this to was were what when where which who whom whose why with".split()
)

# On wordfreq's Zipf scale (log10 of uses per billion words), 4.5 is about once in 30,000 words:
# "stars", "heat", "comedy", "crash" and every commoner word; "inception", "titanic", "socrates" are rarer.
COMMON_ZIPF = 4.5

Method = Literal["marked", "exact", "normalised", "fuzzy"]
_QUALITY: dict[str, float] = {"marked": 1.0, "exact": 1.0, "normalised": 0.95}


class LinkCandidate(BaseModel):
    entity: str
    span: str  # the words of the question it matched
    method: Method
    score: float  # 1.0 exact; 0.95 normalised; fuzzy similarity in [0, 0.9)
    weak: str | None = None  # why the link is weak, if it is: the span may be ordinary words, not this name


class Framed(NamedTuple):
    """A question as a planner reads it: its link candidates, best first; its topic entities (the one it
    is about, then any second one it names apart from it); the question with them masked."""

    links: list[LinkCandidate]
    topics: list[str]
    masked: str


def weakness(span: str, name: str, method: str) -> str | None:
    """Why linking `span` to `name` is weak evidence that the question is about `name`, or None."""
    if method == "marked":
        return None
    if method == "fuzzy":
        return "a fuzzy match"
    words = normalise(span).split()
    if all(w.isdigit() for w in words):
        return None  # "1999": numbers are written as they are named
    as_written = _letters(span) == _letters(name)
    if all(zipf_frequency(w, "en") >= COMMON_ZIPF for w in words) and not (as_written and len(words) > 1):
        return ("a common word" if len(words) == 1 else "common words") + ("" if as_written else ", not written as the name")
    return None


class EntityLinker:
    """Links over a graph's name index (`kg.name_index`: built once in memory, or the store's own)."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self.names = kg.name_index

    def link(self, question: str, limit: int = 5) -> list[LinkCandidate]:
        marked = BRACKETED.search(question)
        if marked:
            entity = marked.group(1)
            if self.names.has(entity):
                return [LinkCandidate(entity=entity, span=entity, method="marked", score=1.0)]
            return self._link_spans([entity], limit)
        return self._link_spans(_spans(question), limit)

    def frame(self, question: str, *, second: bool = True) -> Framed:
        """Link and mask. The best link is the topic ([ENT]); with `second`, the best other link that is an
        exact or normalised name, written as the name if it is a common word, and apart from the topic's
        words, is a second topic ([ENT2])."""
        links = self.link(question)
        if not links:
            return Framed([], [], question)
        first = links[0]
        masked_question = masked(question, first.span)
        if MASK not in masked_question:
            return Framed(links, [first.entity], f"{masked_question} ({MASK} = {first.entity})")
        topics = [first.entity]
        for c in links[1:] if second and not BRACKETED.search(question) else []:
            if c.entity == first.entity or c.method not in ("exact", "normalised"):
                continue
            if c.weak and _letters(c.span) != _letters(c.entity):
                continue
            place = re.search(r"(?<!\S)" + re.escape(c.span) + r"(?=[\s?!.,;:]|$)", masked_question)
            if place and MASK not in c.span:
                masked_question = masked_question[: place.start()] + MASK2 + masked_question[place.end():]
                topics.append(c.entity)
                break
        return Framed(links, topics, masked_question)

    def _link_spans(self, spans: list[str], limit: int) -> list[LinkCandidate]:
        found: dict[str, LinkCandidate] = {}
        for span in spans:
            if self.names.has(span):
                _keep(found, LinkCandidate(entity=span, span=span, method="exact", score=1.0))
            for name in self.names.named(normalise(span)):
                if name != span:
                    _keep(found, LinkCandidate(entity=name, span=span, method="normalised", score=0.95))
        if not found:
            for span in spans:
                key = normalise(span)
                if len(key) < 4:
                    continue
                for normal, similarity in self.names.fuzzy(key, limit, FUZZY_CUTOFF):
                    for name in self.names.named(normal):
                        _keep(found, LinkCandidate(entity=name, span=span, method="fuzzy", score=0.9 * similarity / 100))
        for candidate in found.values():
            candidate.weak = weakness(candidate.span, candidate.entity, candidate.method)
        # Strong first: names before keywords ("the screenplay for Jaws": "Jaws", not the tag "screenplay"), then
        # the longest ("The Matrix Reloaded" over "The Matrix"); among weak ones, those written as the name
        # ("who stars in Up": "Up", not "stars"); then the better match.
        def rank(c: LinkCandidate) -> tuple:
            weak = c.weak is not None
            return weak, weak and _letters(c.span) != _letters(c.entity), _keyword(c.entity), -len(c.span), -c.score, c.entity

        ranked = sorted(found.values(), key=rank)
        return ranked[:limit]


def _keyword(name: str) -> bool:
    """A name all in lower case, as a graph's tags and keywords are ("screenplay", "nuclear war"), not a name of
    something ("Jaws", "Amélie", "1975")."""
    return name == name.lower() and any(ch.isalpha() for ch in name)


def _keep(found: dict[str, LinkCandidate], candidate: LinkCandidate) -> None:
    best = found.get(candidate.entity)
    # The better match, then the longer span: "The Matrix" (exact) over "The Matrix?" (normalised).
    if best is None or (candidate.score, len(candidate.span)) > (best.score, len(best.span)):
        found[candidate.entity] = candidate


def _spans(question: str) -> list[str]:
    """Every run of up to MAX_SPAN_WORDS words, as written, minus runs made only of stopwords."""
    words = [m for m in _WORD.finditer(question)]
    spans: list[str] = []
    for i in range(len(words)):
        for j in range(i, min(i + MAX_SPAN_WORDS, len(words))):
            text = question[words[i].start() : words[j].end()]
            stripped = text.strip("?!.,;:\"'")
            if stripped and not all(normalise(w) in STOPWORDS for w in stripped.split()):
                spans.extend({stripped, text})  # "Airplane!" is a title; "Matrix?" is not
    return spans
