"""Entity linking: bracketed topic, then exact, normalised and fuzzy matches, longest first."""

import pytest

from kg.demo import DEMO_KB
from kg.linking import EntityLinker, normalise
from kg.store import KnowledgeGraph


@pytest.fixture
def linker(small_kg):
    return EntityLinker(small_kg)


def test_bracketed_entity_wins(linker):
    [candidate] = linker.link("who directed [Heat]")
    assert (candidate.entity, candidate.method, candidate.score) == ("Heat", "marked", 1.0)


def test_exact_match_in_plain_text(linker):
    assert linker.link("what films did Michael Mann direct?")[0].entity == "Michael Mann"


def test_normalised_match_ignores_case_accents_and_punctuation(linker):
    best = linker.link("who directed amelie")[0]
    assert (best.entity, best.method) == ("Amélie", "normalised")
    assert normalise("Jean-Pierre  JEUNET") == "jean pierre jeunet"


def test_ordinary_words_are_a_weak_link_and_rank_after_a_name(linker):
    ranked = linker.link("did michael mann direct heat")
    assert ranked[0].entity == "Michael Mann" and ranked[0].weak is None
    heat = next(c for c in ranked if c.entity == "Heat")
    assert heat.weak == "a common word, not written as the name"
    assert linker.link("who directed Amelie")[0].weak is None  # a name, only its accent left out
    assert linker.link("films by Micheal Man")[0].weak == "a fuzzy match"


def test_longest_match_wins(linker):
    # "Taxi Driver" beats any shorter span; "Martin Scorsese" is a longer match than "Taxi" alone would be.
    ranked = linker.link("was martin scorsese in taxi driver")
    assert [c.entity for c in ranked[:2]] == ["Martin Scorsese", "Taxi Driver"]


def test_a_name_ranks_before_a_longer_keyword():
    # The demo graph tags Inception with "screenplay": the question is about Jaws, however it is written.
    linker = EntityLinker(KnowledgeGraph.load(DEMO_KB))
    assert linker.link("Who wrote the screenplay for Jaws?")[0].entity == "Jaws"
    assert linker.link("who wrote the screenplay for jaws")[0].entity == "Jaws"
    assert linker.link("which movies are tagged screenplay")[0].entity == "screenplay"


def test_fuzzy_match_for_misspellings(linker):
    best = linker.link("films by Micheal Man")[0]
    assert (best.entity, best.method) == ("Michael Mann", "fuzzy")
    assert 0 < best.score < 0.95


def test_bracketed_name_not_in_graph_falls_back_to_matching(linker):
    assert linker.link("who directed [heat]")[0].entity == "Heat"


def test_no_entity(linker):
    assert linker.link("what is the meaning of it all") == []


@pytest.mark.metaqa
def test_metaqa_questions_link_without_brackets(metaqa_kg):
    linker = EntityLinker(metaqa_kg)
    assert linker.link("what movies did Temuera Morrison act in")[0].entity == "Temuera Morrison"
    assert linker.link("who starred in the shawshank redemption")[0].entity == "The Shawshank Redemption"
