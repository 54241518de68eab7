"""The schema derived from the data: relations with inverses, entity kinds at each end, chaining."""

import pytest

from kg.schema import Schema


def test_kinds_are_inferred_from_shared_entities(small_kg):
    schema = Schema.derive(small_kg)
    directed, starred = schema.relation("directed_by"), schema.relation("starred_actors")
    assert directed.head_kind == starred.head_kind == "subject"  # the films
    assert schema.relation("release_year").tail_kind == "year"
    assert schema.relation("has_genre").tail_kind == "genre"
    assert schema.relation("~directed_by").head_kind == directed.tail_kind
    assert schema.relation("~directed_by").inverse == "directed_by"


def test_next_steps_and_chains_follow_kinds(small_kg):
    schema = Schema.derive(small_kg)
    after_year = schema.next_steps("release_year")
    assert after_year == ["~release_year"]
    assert schema.chains(["directed_by", "~directed_by", "release_year"])
    assert not schema.chains(["release_year", "directed_by"])
    assert "directed_by: subject -> " in schema.describe()


def test_unknown_relation_lists_the_known_ones(small_kg):
    with pytest.raises(KeyError, match="known relations: directed_by"):
        Schema.derive(small_kg).relation("acted_in")


@pytest.mark.metaqa
def test_metaqa_schema(metaqa_kg):
    schema = Schema.derive(metaqa_kg)
    assert len(schema.relations) == 18
    people = {schema.relation(r).tail_kind for r in ("directed_by", "written_by", "starred_actors")}
    assert len(people) == 1, "directors, writers and actors are one kind of entity"
    movie = schema.relation("directed_by").head_kind
    assert all(r.head_kind == movie for r in schema.relations if not r.name.startswith("~"))
    assert schema.relation("release_year").tail_kind == "year"
    assert len({schema.relation(r).tail_kind for r in ("has_genre", "in_language", "release_year", "has_tags")}) == 4
    assert schema.chains(["starred_actors", "~directed_by", "in_language"])
    assert not schema.chains(["release_year", "has_genre"])  # a year is not a movie, even if one film is "1984"
