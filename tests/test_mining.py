"""Plan mining: the relation path behind a question, found from its gold answers alone."""

import pytest

from kg.mining import MinedPlan, enumerate_paths, mine_questions, resolve_ties, summarise
from kg.questions import Question, read_questions


def ask(text, answers, hops=None, id="q"):
    return Question(id=id, question=text, answers=answers, hops=hops)


def test_mines_the_path_whose_answers_match(small_kg):
    [m] = mine_questions(small_kg, [ask("when were the films by the director of [Heat] released", ["2004"])], workers=1)
    assert m.plan == ["directed_by", "~directed_by", "release_year"]
    assert (m.f1, m.exact, m.predicted, m.topic) == (1.0, True, 1, "Heat")


def test_ties_go_to_the_shorter_path(small_kg):
    # Heat's director is reachable in one hop, and also in three (via Collateral).
    [m] = mine_questions(small_kg, [ask("who directed [Heat]", ["Michael Mann"])], workers=1)
    assert m.plan == ["directed_by"]
    assert ["directed_by", "~directed_by", "directed_by"] in m.ties


def test_best_partial_match_is_kept_with_its_score(small_kg):
    [m] = mine_questions(small_kg, [ask("who starred in [Heat]", ["Al Pacino", "Someone Not In The Graph"])], workers=1)
    assert m.plan == ["starred_actors"]
    assert m.f1 == pytest.approx(0.5) and not m.exact


def test_unminable_questions_say_why(small_kg):
    mined = mine_questions(
        small_kg,
        [ask("who directed [Heat]", ["Nobody"], id="a"), ask("who is [Nobody]", ["x"], id="b"), ask("[Heat]", None, id="c")],
        workers=1,
    )
    assert [m.note for m in mined] == [
        "no path of up to 3 hops reaches a gold answer",
        "no entity of the graph found in the question",
        "no gold answers",
    ]
    assert all(m.plan == [] for m in mined)


def test_plain_text_questions_are_linked(small_kg):
    [m] = mine_questions(small_kg, [ask("who directed taxi driver", ["Martin Scorsese"])], workers=1)
    assert (m.topic, m.plan) == ("Taxi Driver", ["directed_by"])


def test_question_shape_breaks_ties_towards_what_its_peers_share():
    def mined(question, plan, ties):
        return MinedPlan(id=question, question=question, topic=None, answers=["x"], plan=plan, f1=1.0,
                         exact=True, predicted=1, ties=ties)

    three = ["directed_by", "~directed_by", "release_year"]
    records = [
        mined("when did the films by the director of [A] come out", three, []),
        mined("when did the films by the director of [B] come out", three, []),
        mined("when did the films by the director of [C] come out", ["release_year"], [three]),
    ]
    assert resolve_ties(records) == [records[2]]
    assert records[2].plan == three and records[2].ties == [["release_year"]]


def test_enumeration_skips_final_steps_that_cannot_reach_the_gold(small_kg):
    heat, year = small_kg.ids["Heat"], small_kg.ids["2004"]
    import numpy as np

    paths = enumerate_paths(small_kg, heat, 2, np.array([year], dtype=np.int32))
    assert ("directed_by",) in paths  # shorter paths are all kept
    assert all(p[-1] in ("release_year", "~release_year") for p in paths if len(p) == 2)


def test_parallel_workers_give_the_same_plans(small_kg):
    questions = [ask(f"who starred in [{film}]", small_kg.neighbours(film, "starred_actors"), id=film)
                 for film in ("Heat", "Collateral", "The Irishman", "Taxi Driver")]
    assert mine_questions(small_kg, questions, workers=2) == mine_questions(small_kg, questions, workers=1)


@pytest.mark.metaqa
def test_metaqa_sample_mines_exactly(metaqa, metaqa_kg):
    questions = [q for hops in (1, 2, 3) for q in read_questions(metaqa / f"qa_{hops}hop_dev.txt")[:200]]
    summary = summarise(mine_questions(metaqa_kg, questions))
    assert summary["1-hop"].exact >= 0.9
    assert summary["2-hop"].exact >= 0.98 and summary["3-hop"].exact >= 0.98
    assert summary["3-hop"].plan_lengths.get(3, 0) >= 190
