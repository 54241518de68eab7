"""Questions over a set the graph answers: how many, are all / any / none, and which of them meet a condition.

"Are all the films [Christopher Nolan] directed in English?" is two questions for two tools. The KG tool grounds
the set the question names ("which films [Christopher Nolan] directed", read by the planner like any question),
the graph gives each member's values of the property the condition is about (`in_language`, for a value that is
a language; `release_year`, for "released before 1995"), and clingo (the logic tool's solver) decides the count,
the quantifier or the filter over those facts. The evidence keeps both: the plan with its witness paths, and
the program with what it derived.

The graph is read as it is, open-world: a member with no value of the property is neither a yes nor a no. "All"
is `yes` only when every member is known to meet the condition, `no` when one is known not to, else `unknown`.

`read_query` finds the shape of such a question with a few patterns (English); what is not one of them is an
ordinary question.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import BaseModel

from kg.linking import EntityLinker
from kg.names import normalise
from kg.schema import Schema
from kg.store import KnowledgeGraph, inverse_of
from tools.logic.asp import solve

Aggregate = Literal["list", "count", "all", "any", "none"]
Comparator = Literal["=", "<", ">", "<=", ">="]

_COMPARE = {"before": "<", "earlier than": "<", "prior to": "<", "after": ">", "later than": ">", "since": ">=",
            "until": "<=", "in": "="}
_VERB = r"(?:released|made|filmed|produced|written|directed|published|shot|set|out|dated|came out|come out)"
_YEAR_CONDITION = re.compile(rf"\s+(?:(?:that|which|and)\s+)?(?:(?:are|were|is|was|got|get)\s+)?(?:{_VERB}\s+)?"
                             rf"(?P<op>before|after|earlier than|later than|prior to|since|until|in)\s+(?P<value>\d{{3,4}})\s*$", re.I)
# A named value, after a connective: "in English", "are in French", "that are from France".
_VALUE_CONDITION = re.compile(r"\s+(?:(?:that|which|and)\s+)?(?:(?:are|were|is|was)\s+(?:(?:in|from)\s+)?|(?:in|from)\s+)"
                              r"(?P<value>[^\[\]]+?)\s*", re.I)
_COUNT = re.compile(r"^\s*(?:how many|count the|count|the number of|what is the number of)\s+(?P<rest>.+?)[?.!\s]*$", re.I)
_QUANTIFIER = re.compile(r"^\s*(?:are|were|is|was|do|did)\s+(?P<q>all|any|none|every|each|some|no)\s+(?:of\s+)?(?:the\s+)?"
                         r"(?P<rest>.+?)[?.!\s]*$", re.I)
_WHICH = re.compile(r"^\s*(?:which|what)\s+(?P<rest>.+?)[?.!\s]*$", re.I)
_AGGREGATE = {"all": "all", "every": "all", "each": "all", "any": "any", "some": "any", "none": "none", "no": "none"}


class SetQuery(BaseModel):
    """The shape of a question over a set: the question naming the set, what is asked of it, and a condition."""

    base: str  # the question that names the set, for the planner: "which films [Christopher Nolan] directed"
    aggregate: Aggregate
    condition: str | None = None  # as written: "in English", "released before 1995"
    comparator: Comparator | None = None
    value: str | None = None  # an entity of the graph ("English") or a number ("1995")
    named: bool = False  # the value is an entity of the graph, not a number to compare with


def read_query(question: str, linker: EntityLinker) -> SetQuery | None:
    """The set question `question` asks, or None when it is an ordinary question. A condition is a comparison
    with a number at the end ("released before 1995"), or the name of an entity of the graph at the end, apart
    from the topic ("in English")."""
    count, quantifier, which = _COUNT.match(question), _QUANTIFIER.match(question), _WHICH.match(question)
    match = count or quantifier or which
    if not match:
        return None
    aggregate: Aggregate = "count" if count else _AGGREGATE[quantifier.group("q").lower()] if quantifier else "list"
    rest = match.group("rest")
    condition = _condition(rest, linker)
    if condition is None:
        if aggregate == "list":
            return None  # "which films did [X] direct": an ordinary question
        if aggregate != "count":
            return None  # "are all the films [X] directed": all what?
        return SetQuery(base=f"which {rest}", aggregate="count")
    start, comparator, value, named = condition
    base = f"which {rest[:start].strip()}"
    if "[" in rest and "[" not in base:
        return None  # the condition took the topic
    if "[" not in base and all(link.weak for link in linker.link(base.split(maxsplit=2)[-1])):
        return None  # "which actors star in Alien": past what is asked for, no topic is left but the condition's
    condition = re.sub(r"^(?:(?:that|which|and|are|were|is|was)\s+)+", "", rest[start:].strip(), flags=re.I)
    return SetQuery(base=base, aggregate=aggregate, condition=condition, comparator=comparator, value=value, named=named)


def _condition(rest: str, linker: EntityLinker) -> tuple[int, Comparator, str, bool] | None:
    """Where the condition starts in `rest`, its comparator, its value and whether that is an entity (else a number)."""
    year = _YEAR_CONDITION.search(rest)
    if year:
        return year.start(), _COMPARE[year.group("op").lower()], year.group("value"), False
    after = rest.rfind("]") + 1  # the condition follows the topic
    for space in re.finditer(r"\s+", rest[after:]):  # the longest run of words at the end that names an entity
        found = _VALUE_CONDITION.fullmatch(rest, after + space.start())
        name = _entity(found.group("value"), linker) if found else None
        if name:
            return after + space.start(), "=", name, True
    return None


def _entity(text: str, linker: EntityLinker) -> str | None:
    """The entity `text` names, as written or up to case and accents."""
    if linker.names.has(text):
        return text
    named = linker.names.named(normalise(text))
    return named[0] if named else None


class SetDecision(BaseModel):
    """What clingo decided over the set: the verdict or the members kept, and the facts and program it used."""

    aggregate: Aggregate
    condition: str | None
    step: str | None  # the property's step from the members ("in_language"), if there is a condition
    members: int
    met: list[str]  # members known to meet the condition (all of them, with no condition)
    failed: list[str]  # members known not to meet it
    unknown: list[str]  # members with no value of the property in the graph
    values: dict[str, list[str]]  # member -> its values of the property (for the members shown)
    answer: str  # "yes" | "no" | "unknown" | a count | the kept members' count, for a list
    program: str  # the answer-set program, as solved
    derived: list[str]  # what clingo derived (shown atoms)

    def sentence(self) -> str:
        meet = f"{len(self.met)} of the set's {self.members} member(s)" + (f" meet “{self.condition}”" if self.condition else "")
        unknown = f"; {len(self.unknown)} have no `{self.step}` value in the graph" if self.unknown else ""
        if self.aggregate == "count":
            return f"{meet}{unknown + ' and are not counted' if unknown else ''}."
        if self.aggregate == "list":
            return f"{meet} (by `{self.step}`){unknown}."
        failed = f", {len(self.failed)} do not" + (f" ({', '.join(self.failed[:3])}{', ...' if len(self.failed) > 3 else ''})"
                                                    if self.failed else "")
        return f"{self.answer.capitalize()}: {meet}{failed}{unknown}."


# The quantifiers, read open-world: a member with no value of the property is neither a yes nor a no.
VERDICTS = [
    "some_ok :- ok(_).", "some_failed :- failed(_).", "some_unknown :- unknown(_).",
    "all(no) :- some_failed.", "all(unknown) :- not some_failed, some_unknown.", "all(yes) :- not some_failed, not some_unknown.",
    "any(yes) :- some_ok.", "any(unknown) :- not some_ok, some_unknown.", "any(no) :- not some_ok, not some_unknown.",
    "none(no) :- some_ok.", "none(unknown) :- not some_ok, some_unknown.", "none(yes) :- not some_ok, not some_unknown.",
]


def decide(kg: KnowledgeGraph, schema: Schema, query: SetQuery, members: list[str], last_step: str) -> SetDecision:
    """Decide `query` over `members` (the set the plan ending in `last_step` grounded) with clingo."""
    ids = [kg.entity_id(m) for m in members]
    step, values = (None, {}) if query.comparator is None else _property(kg, schema, query, ids, last_step)
    index = {m: i for i, m in enumerate(ids)}
    lines = [f"member({i})." for i in range(len(ids))]
    for m, vs in values.items():  # entity ids, or numbers for a comparison
        lines += [f"known({index[m]})."] + [f"value({index[m]},{v})." for v in vs]
    if query.comparator is None:
        lines.append("ok(M) :- member(M).")
    elif query.named:
        lines.append(f"ok(M) :- value(M,{kg.entity_id(query.value)}).")
    else:
        lines.append(f"ok(M) :- value(M,V), V {query.comparator} {int(query.value)}.")
    lines += ["failed(M) :- member(M), known(M), not ok(M).", "unknown(M) :- member(M), not known(M), not ok(M).",
              "count(N) :- N = #count { M : ok(M) }.", *VERDICTS, "#show ok/1. #show failed/1. #show unknown/1. #show count/1.",
              f"#show {query.aggregate}/1." if query.aggregate in ("all", "any", "none") else ""]
    program = "\n".join(lines).strip()
    atoms = solve(program, models=1).first
    picked = lambda name: [members[i] for i in sorted(int(a[len(name) + 1 : -1]) for a in atoms if a.startswith(name + "("))]  # noqa: E731
    met, failed, unknown = picked("ok"), picked("failed"), picked("unknown")
    key = "count" if query.aggregate in ("count", "list") else query.aggregate  # the atom that holds the answer
    answer = next(a[len(key) + 1 : -1] for a in atoms if a.startswith(key + "("))
    shown_values = {members[index[m]]: _value_names(kg, vs, query) for m, vs in list(values.items())[:50]}
    return SetDecision(aggregate=query.aggregate, condition=query.condition, step=step, members=len(members), met=met,
                       failed=failed, unknown=unknown, values=shown_values, answer=answer, program=program,
                       derived=sorted(atoms))


def _value_names(kg: KnowledgeGraph, values: list[int], query: SetQuery) -> list[str]:
    if not query.named:
        return [str(v) for v in values]
    return kg.name_of(values)


def _property(kg: KnowledgeGraph, schema: Schema, query: SetQuery, members: list[int], last_step: str
              ) -> tuple[str, dict[int, list[int]]]:
    """The step from the members that the condition is about, and each member's values of it (as entity ids, or as
    numbers for a comparison). For a named value: the step from the members' kind whose edges reach the value
    somewhere in the graph, the one most members take; for a number: the step whose values from the members are
    numbers for most of them."""
    frontier = np.asarray(members, dtype=np.int32)
    best = (0, None, {})
    for step in schema.next_steps(last_step):
        sources, targets = kg.step(step).expand(frontier)
        if query.named:
            target = kg.entity_id(query.value)
            if not len(kg.step(inverse_of(step)).neighbours(target)):
                continue
            values: dict[int, list[int]] = {}
            for s, t in zip(sources.tolist(), targets.tolist()):
                values.setdefault(s, []).append(t)
            score = len(values) + 1  # any step that reaches the value at all beats one that never does
        else:
            names = dict(zip(np.unique(targets).tolist(), kg.name_of(np.unique(targets).tolist())))
            values = {}
            for s, t in zip(sources.tolist(), targets.tolist()):
                if re.fullmatch(r"-?\d+", names[t]):
                    values.setdefault(s, []).append(int(names[t]))
            score = len(values)
        if score > best[0]:
            best = (score, step, values)
    if best[1] is None:
        what = f"{query.value!r}" if query.named else "a number"
        raise ValueError(f"no relation from the set's members reaches {what}: the condition {query.condition!r} is not one the graph can check")
    return best[1], best[2]
