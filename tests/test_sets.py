"""Questions over a set the graph answers: the KG tool grounds the set, clingo decides the count, the quantifier
or the filter over it, and the answer carries both."""

import httpx
import pytest

from agent.runner import answer_question
from kg.linking import EntityLinker
from kg.store import KnowledgeGraph
from tools.kg.sets import SetQuery, decide, read_query

FILMS = [("a", "directed_by", "D"), ("b", "directed_by", "D"), ("c", "directed_by", "D"),
         ("a", "in_language", "English"), ("b", "in_language", "French"),
         ("a", "release_year", "1990"), ("b", "release_year", "2001"), ("c", "release_year", "2005"),
         ("x", "in_language", "English"), ("x", "in_language", "German"), ("x", "directed_by", "E"), ("x", "release_year", "1990"),
         ("D", "born_in", "Paris")]


@pytest.fixture(scope="module")
def films():
    return KnowledgeGraph.from_triples(FILMS)


@pytest.mark.parametrize(("question", "expected"), [
    ("How many films did [Sofia Coppola] write?", SetQuery(base="which films did [Sofia Coppola] write", aggregate="count")),
    ("Are all the films [Christopher Nolan] directed in English?",
     SetQuery(base="which films [Christopher Nolan] directed", aggregate="all", condition="in English", comparator="=", value="English",
              named=True)),
    ("Which films starring [Tom Hanks] were released before 1995?",
     SetQuery(base="which films starring [Tom Hanks]", aggregate="list", condition="released before 1995", comparator="<", value="1995")),
    ("which films did [Tom Hanks] make in 1994",  # a year compared as a number, whether or not the graph names it
     SetQuery(base="which films did [Tom Hanks] make", aggregate="list", condition="in 1994", comparator="=", value="1994")),
    ("were any of the movies written by [Woody Allen] released after 2010",
     SetQuery(base="which movies written by [Woody Allen]", aggregate="any", condition="released after 2010", comparator=">", value="2010")),
    ("is any film directed by [Christopher Nolan] in German?",
     SetQuery(base="which film directed by [Christopher Nolan]", aggregate="any", condition="in German", comparator="=", value="German",
              named=True)),
])
def test_the_shape_of_a_question_over_a_set_is_read(metaqa_kg, question, expected):
    assert read_query(question, EntityLinker(metaqa_kg)) == expected


@pytest.mark.parametrize("question", ["which films did [Tom Hanks] act in", "what movies was [Tom Hanks] in", "who directed [Heat]",
                                      "what genres are the movies written by [Tom Hanks] in", "are all the films [Tom Hanks] directed",
                                      "Which actors star in Alien?"])
def test_ordinary_questions_are_not_read_as_questions_over_a_set(metaqa_kg, question):
    assert read_query(question, EntityLinker(metaqa_kg)) is None


def test_clingo_decides_over_the_set_reading_the_graph_open_world(films):
    members = ["a", "b", "c"]  # D's films; c has no language in the graph
    english = SetQuery(base="", aggregate="all", condition="in English", comparator="=", value="English", named=True)
    decision = decide(films, _schema(films), english, members, "~directed_by")
    assert (decision.answer, decision.step, decision.met, decision.failed, decision.unknown) == ("no", "in_language", ["a"], ["b"], ["c"])
    assert "member(0)." in decision.program and "failed(1)" in decision.derived
    german = english.model_copy(update={"aggregate": "any", "value": "German", "condition": "in German"})
    assert decide(films, _schema(films), german, members, "~directed_by").answer == "unknown"  # only c could be
    before = SetQuery(base="", aggregate="list", condition="released before 2002", comparator="<", value="2002")
    assert decide(films, _schema(films), before, members, "~directed_by").met == ["a", "b"]
    count = SetQuery(base="", aggregate="count", condition="released after 2000", comparator=">", value="2000")
    in_2001 = SetQuery(base="", aggregate="list", condition="in 2001", comparator="=", value="2001")  # compared as a number
    assert decide(films, _schema(films), in_2001, members, "~directed_by").met == ["b"]
    assert decide(films, _schema(films), count, members, "~directed_by").answer == "2"
    assert decide(films, _schema(films), SetQuery(base="", aggregate="count"), members, "~directed_by").answer == "3"
    nowhere = SetQuery(base="", aggregate="all", condition="in Paris", comparator="=", value="Paris", named=True)  # people are born there
    with pytest.raises(ValueError, match="no relation from the set's members reaches 'Paris'"):
        decide(films, _schema(films), nowhere, members, "~directed_by")


def _schema(kg):
    from kg.schema import derive_schema

    return derive_schema(kg)


def test_the_agent_answers_a_question_over_a_set_with_both_tools_evidence(search_agent, demo_kg):
    films = demo_kg.neighbours("Christopher Nolan", "~directed_by")
    count = answer_question(search_agent, None, "How many films did [Christopher Nolan] direct?")
    assert (count.tool, count.status, count.answers, count.plan) == ("kg", "answered", [str(len(films))], ["~directed_by"])
    assert count.grounding.decision.aggregate == "count" and "decided by clingo" in count.message
    assert set(count.evidence) == set(films)  # the set's witness paths are the evidence
    later = [f for f in films if any(y.isdigit() and int(y) > 2005 for y in demo_kg.neighbours(f, "release_year"))]
    which = answer_question(search_agent, None, "Which movies directed by [Christopher Nolan] were released after 2005?")
    assert which.status == "answered" and sorted(which.answers) == sorted(later) and which.grounding.decision.step == "release_year"
    assert which.checks[-1].name == "condition" and which.checks[-1].passed


def test_chat_says_what_clingo_decided(service):
    reply = httpx.post(service + "/v1/chat/completions", timeout=120,
                       json={"messages": [{"role": "user", "content": "How many films did [Christopher Nolan] direct?"}]})
    assert reply.status_code == 200, reply.text
    text = reply.json()["choices"][0]["message"]["content"]
    assert "Decided by clingo over the set" in text and "Plan: ~directed_by from Christopher Nolan" in text
