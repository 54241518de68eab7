"""Relation-path execution: answers, witness paths, returning to the topic only when allowed, conjunctions,
reported cuts."""

import pytest

from kg.paths import AND, execute_plan
from kg.store import KnowledgeGraph


def test_answers_come_with_witness_paths(small_kg):
    result = execute_plan(small_kg, ["Heat"], ["directed_by", "~directed_by", "release_year"])
    assert result.answers == ["2004"]  # Collateral; Heat itself is never revisited
    [witness] = result.witnesses["2004"]
    assert [(e.source, e.relation, e.target) for e in witness] == [
        ("Heat", "directed_by", "Michael Mann"),
        ("Michael Mann", "~directed_by", "Collateral"),
        ("Collateral", "release_year", "2004"),
    ]
    assert result.frontier_sizes == [1, 1, 1] and result.truncated_at_hop is None
    assert result.evidence_edges == 3


def test_a_path_never_returns_to_the_topic(small_kg):
    co_stars = execute_plan(small_kg, ["Robert De Niro"], ["~starred_actors", "starred_actors"])
    assert "Robert De Niro" not in co_stars.answers
    assert sorted(co_stars.answers) == ["Al Pacino", "Martin Scorsese"]
    assert co_stars.support == {"Al Pacino": 2, "Martin Scorsese": 1}
    assert co_stars.answers[0] == "Al Pacino"  # two films together: the better-supported answer first


def test_a_path_may_return_to_the_topic_when_the_graph_allows_it(small_kg):
    result = execute_plan(small_kg, ["Robert De Niro"], ["~starred_actors", "starred_actors"], revisit=True)
    assert "Robert De Niro" in result.answers and result.support["Robert De Niro"] == 3  # one path per film


def test_a_conjunctive_plan_intersects_its_branches_with_a_witness_from_each_topic(small_kg):
    result = execute_plan(small_kg, ["Al Pacino", "Crime"], ["~starred_actors", AND, "~has_genre"], max_witnesses=2)
    assert result.answers == ["Heat"]  # The Irishman has no genre in this graph
    assert [[(e.source, e.relation, e.target) for e in path] for path in result.witnesses["Heat"]] == [
        [("Al Pacino", "~starred_actors", "Heat")], [("Crime", "~has_genre", "Heat")]]
    assert result.frontier_sizes == [2, 1, 3]  # Al Pacino's films; AND starts from Crime; the crime films
    none = execute_plan(small_kg, ["Al Pacino", "French"], ["~starred_actors", AND, "~in_language"])
    assert none.answers == [] and none.frontier_sizes == [2, 1, 1]
    with pytest.raises(ValueError, match="2 branches needs as many topic entities"):
        execute_plan(small_kg, ["Al Pacino"], ["~starred_actors", AND, "~has_genre"])
    with pytest.raises(ValueError, match="at least one relation in each branch"):
        execute_plan(small_kg, ["Al Pacino", "Crime"], ["~starred_actors", AND])


def test_a_relation_stored_as_another_inverse_is_planned_as_that_inverse():
    kg = KnowledgeGraph.from_triples([("Ann", "lives_in", "Oslo"), ("Oslo", "lives_in_inverse", "Ann"),
                                      ("Bo", "lives_in", "Oslo"), ("Oslo", "lives_in_inverse", "Bo"), ("Bo", "likes", "Oslo")])
    assert kg.same_as == {"lives_in_inverse": "~lives_in", "~lives_in_inverse": "lives_in"}
    assert kg.steps == ["lives_in", "~lives_in", "likes", "~likes"]
    assert execute_plan(kg, ["Oslo"], ["lives_in_inverse"]).answers == execute_plan(kg, ["Oslo"], ["~lives_in"]).answers


def test_several_witnesses_when_asked(small_kg):
    result = execute_plan(small_kg, ["Al Pacino"], ["~starred_actors", "starred_actors"], max_witnesses=5)
    assert result.answers == ["Robert De Niro"]
    assert sorted(path[0].target for path in result.witnesses["Robert De Niro"]) == ["Heat", "The Irishman"]


def test_empty_plan_result_and_dead_ends(small_kg):
    assert execute_plan(small_kg, ["Amélie"], ["starred_actors", "~starred_actors"]).answers == []


def test_frontier_cut_is_reported(small_kg):
    result = execute_plan(small_kg, ["Crime"], ["~has_genre", "starred_actors"], max_frontier=2)
    assert result.truncated_at_hop == 1
    assert result.frontier_sizes[0] == 2


def test_unknown_names_are_clear_errors(small_kg):
    with pytest.raises(KeyError, match="entity not in the knowledge graph: 'Hea'"):
        execute_plan(small_kg, ["Hea"], ["directed_by"])
    with pytest.raises(KeyError, match="unknown relation 'directed'"):
        execute_plan(small_kg, ["Heat"], ["directed"])
    with pytest.raises(ValueError, match="at least one relation"):
        execute_plan(small_kg, ["Heat"], [])


@pytest.mark.metaqa
def test_metaqa_three_hop_matches_gold(metaqa_kg):
    # "the films that share actors with the film [The Harvey Girls] were in which genres"
    result = execute_plan(metaqa_kg, ["The Harvey Girls"], ["starred_actors", "~starred_actors", "has_genre"])
    gold = "Mystery|Family|Horror|Crime|Drama|Fantasy|War|Western|Music|Comedy|Musical|Thriller".split("|")
    assert sorted(result.answers) == sorted(gold)
    for answer in result.answers:
        path = result.witnesses[answer][0]
        assert path[0].source == "The Harvey Girls" and path[-1].target == answer
        assert all(e.target != "The Harvey Girls" for e in path)
