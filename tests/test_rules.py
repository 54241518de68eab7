"""Rules mined from a graph (AMIE's closed path rules, scored by support, head coverage and PCA confidence), and
a missing edge inferred by them with clingo."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg.rules import Rule, mine_rules, read_rules
from kg.store import KnowledgeGraph
from tools.kg.infer import infer

REASONER = str(Path(sys.executable).parent / "reasoner")

# Films by d1 are in English; d2's two films are in French and German; f5 (by d1) has no language. Directors
# write too (enough of them for directors and writers to be one kind of entity).
TRIPLES = [
    ("f1", "directed_by", "d1"), ("f2", "directed_by", "d1"), ("f5", "directed_by", "d1"),
    ("f3", "directed_by", "d2"), ("f4", "directed_by", "d2"),
    ("f1", "in_language", "en"), ("f2", "in_language", "en"), ("f3", "in_language", "fr"), ("f4", "in_language", "de"),
    ("f1", "written_by", "d1"), ("f3", "written_by", "d2"), ("f4", "written_by", "w"),
    ("f6", "directed_by", "d3"), ("f6", "written_by", "d3"),
]
SAME_DIRECTOR = ["directed_by", "~directed_by", "in_language"]


@pytest.fixture(scope="module")
def films():
    return KnowledgeGraph.from_triples(TRIPLES)


def reasoner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([REASONER, *args], capture_output=True, text=True, timeout=300)


def rule(rules: list[Rule], head: str, body: list[str]) -> Rule | None:
    return next((r for r in rules if r.head == head and r.body == body), None)


def test_rules_are_scored_as_amie_scores_them(films):
    rules = mine_rules(films, min_support=1, min_head_coverage=0.0, min_confidence=0.0)
    language = rule(rules, "in_language", SAME_DIRECTOR)
    # f1 and f2 each have the other's language (English): 2 of the 4 language facts. The body also gives f3 German
    # and f4 French (wrong), and f5 English, which PCA does not count against the rule: f5 has no language at all.
    assert (language.support, language.pca_body, language.head_coverage, language.pca_confidence) == (2, 4, 0.5, 0.5)
    assert language.text() == "in_language(X, Y) :- directed_by(X, A), directed_by(B, A), in_language(B, Y)"
    writer = rule(rules, "written_by", ["directed_by"])  # 3 of the 4 films with a writer were written by their director
    assert (writer.support, writer.pca_body, writer.head_coverage, writer.pca_confidence) == (3, 4, 0.75, 0.75)
    # From the person: d1 directed f1, f2, f5 and wrote f1; d2 directed f3, f4 and wrote f3; d3 directed and wrote f6.
    inverse = rule(rules, "~written_by", ["~directed_by"])
    assert (inverse.support, inverse.pca_body, inverse.pca_confidence) == (3, 6, 0.5)


def test_no_variable_binds_the_entity_another_one_does(films):
    rules = mine_rules(films, min_support=1, min_head_coverage=0.0, min_confidence=0.0)
    # With B allowed to be X, every film would have "a film by its director" in its own language: support 4.
    assert rule(rules, "in_language", SAME_DIRECTOR).support == 2
    # directed_by(X, Y) :- directed_by(X, A), directed_by(B, A), directed_by(B, Y) holds only with Y = A: no co-directors here.
    assert rule(rules, "directed_by", ["directed_by", "~directed_by", "directed_by"]) is None
    assert all(not (r.body == [r.head]) for r in rules)


def test_thresholds_drop_weak_rules(films):
    strong = mine_rules(films, min_support=2, min_head_coverage=0.0, min_confidence=0.6)
    assert strong and all(r.support >= 2 and r.pca_confidence >= 0.6 for r in strong)
    assert rule(strong, "in_language", SAME_DIRECTOR) is None
    assert [r.pca_confidence for r in strong] == sorted((r.pca_confidence for r in strong), reverse=True)
    with pytest.raises(ValueError, match="max_body"):
        mine_rules(films, max_body=4)


def test_a_missing_edge_is_inferred_with_the_rule_and_its_facts(films):
    rules = mine_rules(films, min_support=1, min_head_coverage=0.0, min_confidence=0.0)
    inference = infer(films, rules, "in_language", [films.entity_id("f5")], min_confidence=0.5)
    [english] = inference.answers
    assert (english.answer, english.rule, english.rule_confidence) == ("en", rule(rules, "in_language", SAME_DIRECTOR).text(), 0.5)
    # Where it is applied, the rule's neighbours agree: both of d1's other films are in English. Their say moves the
    # rule's confidence on the whole graph (counted as two neighbours): (2 + 2 * 0.5) / (2 + 2).
    assert (english.via, english.neighbours, english.agree, english.confidence) == (["d1"], 2, 2, 0.75)
    paths = [[(e.source, e.relation, e.target) for e in path] for path in english.paths]
    assert paths == [[("f5", "directed_by", "d1"), ("d1", "~directed_by", "f1"), ("f1", "in_language", "en")],
                     [("f5", "directed_by", "d1"), ("d1", "~directed_by", "f2"), ("f2", "in_language", "en")]]
    for path in paths:  # every fact it rests on is in the graph
        for source, step, target in path:
            assert target in films.neighbours(source, step)
    # d2's films disagree (French, German): below a higher threshold nothing is given, and what was found is kept.
    unsure = infer(films, rules, "in_language", [films.entity_id("f5")], min_confidence=0.9)
    assert unsure.answers == [] and unsure.below[0].answer == "en" and unsure.rules_tried


def test_reasoner_kg_rules_writes_them(tmp_path):
    kb = tmp_path / "films.txt"
    kb.write_text("".join(f"{h}|{r}|{t}\n" for h, r, t in TRIPLES))
    out = tmp_path / "rules.jsonl"
    done = reasoner("kg", "rules", str(kb), "--out", str(out), "--min-support", "1", "--min-head-coverage", "0",
                    "--min-confidence", "0.6")
    assert done.returncode == 0, done.stderr
    rules = read_rules(out)
    assert rules and all(r.pca_confidence >= 0.6 for r in rules)
    assert json.loads(out.read_text().splitlines()[0])["head"] == rules[0].head
    assert f"wrote {len(rules)} rules" in done.stderr and "rules by head" in done.stdout
    bad = reasoner("kg", "rules", str(kb), "--out", str(out), "--max-body", "5")
    assert bad.returncode != 0 and "max_body must be 1 to 3" in bad.stderr
