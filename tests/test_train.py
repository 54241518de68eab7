"""`reasoner train` on a graph written for this test (not MetaQA): topics unmarked, a stored inverse, a relation
named by a long property path, spouses (the spouse of X's spouse is X), questions listed once per answer and
conjunctive questions. Trains both planners, serves the LLM planner, and answers unbracketed questions."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from kg.linking import EntityLinker
from kg.mining import mine_questions
from kg.paths import AND, execute_plan
from kg.questions import merge_repeated
from kg.store import KnowledgeGraph

REASONER = str(Path(sys.executable).parent / "reasoner")
FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Dennis", "Radia", "Ken",
         "Hedy", "Claude", "Karen", "Niklaus"]
LAST = ["KING", "TURING", "HOPPER", "DIJKSTRA", "LISKOV", "KNUTH", "ALLEN", "BACKUS", "HAMILTON", "RITCHIE", "PERLMAN",
        "THOMPSON", "LAMARR", "SHANNON", "JONES", "WIRTH"]
CITIES = {"Paris": "France", "Lyon": "France", "Berlin": "Germany", "Munich": "Germany", "Madrid": "Spain", "Seville": "Spain"}
COMPANIES = {"Acme_Corp": "Paris", "Globex": "Berlin", "Initech": "Madrid", "Umbrella_Co": "Lyon"}
HQ = "organization.organization.headquarters..location.mailing_address.citytown"
ASKED = "Grace_HOPPER"  # no question about her is trained on


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, Path, KnowledgeGraph]:
    rng = random.Random(3)
    people = [f"{f}_{s}" for f, s in zip(FIRST, LAST)]
    triples, facts = [], {}
    for i, person in enumerate(people):
        city, employer = rng.choice(sorted(CITIES)), rng.choice(sorted(COMPANIES))
        facts[person] = {"city": city, "employer": employer, "spouse": people[i ^ 1]}
        triples += [(person, "lives_in", city), (city, "lives_in_inverse", person), (person, "works_for", employer),
                    (person, "married_to", people[i ^ 1])]
    triples += [(c, "in_country", country) for c, country in CITIES.items()]
    triples += [(c, HQ, city) for c, city in COMPANIES.items()]
    folder = tmp_path_factory.mktemp("company")
    kb = folder / "kb.tsv"
    kb.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in triples))

    lines = []  # question<TAB>answer, one line per answer for a question with several
    for person, f in facts.items():
        if person == ASKED:
            continue
        lines += [f"where does {person} live ?\t{f['city']}", f"who does {person} work for ?\t{f['employer']}",
                  f"who is {person} married to ?\t{f['spouse']}", f"which country does {person} live in ?\t{CITIES[f['city']]}",
                  f"who is the spouse of the spouse of {person} ?\t{person}"]
    for company_name, city in COMPANIES.items():
        lines.append(f"in which city is {company_name} based ?\t{city}")
        lines += [f"who works for {company_name} ?\t{p}" for p, f in facts.items() if f["employer"] == company_name]
    for city in CITIES:
        for company_name in COMPANIES:
            lines += [f"who lives in {city} and works for {company_name} ?\t{p}" for p, f in facts.items()
                      if f["city"] == city and f["employer"] == company_name]
    questions = folder / "questions.tsv"
    questions.write_text("\n".join(lines) + "\n")
    return kb, questions, KnowledgeGraph.load(kb)


def test_the_graph_conventions_are_found_in_the_data(company):
    kb, questions, kg = company
    assert kg.same_as["lives_in_inverse"] == "~lives_in" and "lives_in_inverse" not in kg.steps
    framed = EntityLinker(kg).frame("who lives in Paris and works for Globex ?")
    assert framed.topics == ["Globex", "Paris"] or framed.topics == ["Paris", "Globex"]
    assert "[ENT]" in framed.masked and "[ENT2]" in framed.masked
    assert EntityLinker(kg).frame("where does Alan Turing live ?").topics == ["Alan_TURING"]  # underscores, case

    from kg.questions import read_questions

    merged, repeated = merge_repeated(read_questions(questions))
    assert repeated > 0 and all(len({q.question for q in merged}) == len(merged) for _ in [0])
    spouse = [q for q in merged if q.question.startswith("who is the spouse of the spouse")]
    mined = mine_questions(kg, spouse[:4], workers=1)
    assert all(not m.plan for m in mined)  # a path that may not come back to its topic cannot answer these
    mined = mine_questions(kg, spouse[:4], workers=1, revisit=True)
    assert all(m.exact and m.plan == ["married_to", "married_to"] for m in mined)

    both = [q for q in merged if " and works for " in q.question]
    mined = mine_questions(kg, both, workers=1)
    assert sum(AND in m.plan for m in mined) >= len(both) // 2 and all(m.f1 == 1.0 for m in mined)
    conj = next(m for m in mined if AND in m.plan)
    result = execute_plan(kg, conj.topics, conj.plan, max_witnesses=1)
    assert set(result.answers) == set(conj.answers)
    assert {path[0].source for path in result.witnesses[result.answers[0]]} == set(conj.topics)  # a path from each


def test_train_stops_with_a_clear_message_when_it_cannot_succeed(company, tmp_path):
    kb, questions, _ = company
    few = tmp_path / "few.tsv"
    few.write_text("\n".join(questions.read_text().splitlines()[:5]) + "\n")
    run = subprocess.run([REASONER, "train", "--kg", str(kb), "--questions", str(few), "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "at least 20 are needed" in run.stderr, run.stderr

    unplanned = tmp_path / "unplanned.tsv"
    people = [f"{f}_{s}" for f, s in zip(FIRST, LAST)]
    unplanned.write_text("".join(f"what is the favourite {thing} of {p} ?\tblue\n" for p in people for thing in ("colour", "hue"))
                         + "".join(f"where does {p} live ?\tParis\n" for p in people[:3]))
    run = subprocess.run([REASONER, "train", "--kg", str(kb), "--questions", str(unplanned), "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "got a relation plan" in run.stderr and "favourite colour" in run.stderr, run.stderr
    assert not (tmp_path / "p").exists()  # nothing written before the stage that failed


@pytest.mark.slow
def test_train_serves_a_planner_that_answers_unbracketed_questions(company, tmp_path):
    kb, questions, _ = company
    out = tmp_path / "planner"
    run = subprocess.run([REASONER, "train", "--kg", str(kb), "--questions", str(questions), "--out", str(out),
                          "--steps", "60", "--epochs", "30"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for stage in ("questions", "conventions", "mining", "planner", "scorer", "rules"):
        assert stage in run.stderr
    card = json.loads((out / "train.json").read_text())
    assert card["conventions"]["revisit"] and card["conventions"]["topic_answers"] >= 15
    assert card["conventions"]["conjunctive"] > 0 and card["conventions"]["merged_lines"] > 0
    assert card["stage_seconds"]["planner"] > 0 and card["peak_rss_mb"] > 0
    assert {"1-hop", "all"} <= set(card["planner"]) and {"1-hop", "all"} <= set(card["scorer"])
    assert card["planner"]["all"]["plan_exact"] >= 0.5, card["planner"]  # the model's greedy plan, unconstrained
    assert (out / "README.md").read_text().startswith("# Trained planner")
    assert (out / "search" / "scorer.npz").is_file() and (out / "conventions.json").is_file()
    assert (out / "rules.jsonl").read_text() == (out / "search" / "rules.jsonl").read_text()  # mined once, shipped with both
    assert card["rules"]["rules"] == len((out / "rules.jsonl").read_text().splitlines())
    from agent.assemble import beside_scorer

    assert beside_scorer(KnowledgeGraph.load(kb), out) == out / "search"  # `serve --planner OUT` serves both planners

    # The LLM planner, served by its own model server: a question about someone never asked about in training.
    asked = subprocess.run([REASONER, "ask", "--kg", str(kb), "--planner", str(out), "--json", "--traces", str(tmp_path / "t.sqlite"),
                            f"who is the spouse of the spouse of {ASKED} ?"], capture_output=True, text=True)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["status"] == "answered" and answer["answers"] == [ASKED], answer
    assert answer["plan"] == ["married_to", "married_to"] and answer["topic"] == ASKED

    # The edge scorer (no model server): a conjunctive question, answered with a witness path from each entity.
    kg = KnowledgeGraph.load(kb)
    expected = execute_plan(kg, ["Paris", "Acme_Corp"], ["~lives_in", AND, "~works_for"]).answers
    asked = subprocess.run([REASONER, "ask", "--kg", str(kb), "--planner", str(out / "search"), "--json", "--traces",
                            str(tmp_path / "t.sqlite"), "who lives in Paris and works for Acme_Corp ?"], capture_output=True, text=True)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["status"] == "answered" and sorted(answer["answers"]) == sorted(expected), answer
    assert AND in answer["plan"]
    for witnesses in answer["evidence"].values():
        assert {path[0]["source"] for path in witnesses} == {"Paris", "Acme_Corp"}


def test_a_conjunctive_plan_has_a_code_and_a_constraint(company):
    import re

    from kg.schema import Schema
    from tools.kg.llm_planner import CompactFormat, conjunctive_alternatives, reading_steps

    _, _, kg = company
    schema = Schema.derive(kg)
    fmt = CompactFormat.for_schema(schema, conjunctive=True)
    plan = ["~lives_in", AND, "~works_for"]
    assert fmt.parse(fmt.render(plan)) == plan and fmt.conjunctive and not CompactFormat.for_schema(schema).conjunctive
    shapes = conjunctive_alternatives(schema, reading_steps(kg, schema, "Paris"), reading_steps(kg, schema, "Acme_Corp"))
    allowed = re.compile(fmt.regex(shapes))
    assert allowed.fullmatch(fmt.render(plan))
    assert not allowed.fullmatch(fmt.render(["~lives_in", AND, HQ]))  # people & cities: the branches end at different kinds
    assert not allowed.fullmatch(fmt.render(["~lives_in", AND]))


def test_a_conjunctive_reading_that_grounds_to_nothing_says_which_branch_or_that_they_never_meet():
    from types import SimpleNamespace

    from kg.schema import Schema
    from tools.kg.llm_planner import RankedPlan
    from tools.kg.tool import KGFrame, KGTool

    kg = KnowledgeGraph.from_triples([("Ann", "lives_in", "Oslo"), ("Bo", "lives_in", "Rome"), ("Ann", "works_for", "Acme"),
                                      ("Bo", "works_for", "Globex"), ("Oslo", "in_country", "Norway"), ("Bergen", "in_country", "Norway")])
    holder = SimpleNamespace(name="embedding", kg=kg, schema=Schema.derive(kg), folder=None)  # what the tool reads of a planner
    tool = KGTool(holder)
    plan = RankedPlan(plan=["~lives_in", AND, "~works_for"], logprob=0.0, votes=1)

    def grounded(topics: list[str]) -> str:
        frame = KGFrame(question="who lives in X and works for Y", topic=topics[0], topics=topics, masked_question="", link_candidates=[])
        checks = tool.check(frame, plan, tool.execute(frame, plan))
        return next(c for c in checks if c.name == "grounded").detail

    assert "both branches" in grounded(["Oslo", "Globex"]) and "reach 1 and 1 entities" in grounded(["Oslo", "Globex"])
    assert grounded(["Bergen", "Globex"]) == "The graph has no `lives_in` edge to Bergen."
    assert grounded(["Oslo", "Bergen"]) == "The graph has no `works_for` edge to Bergen."


@pytest.mark.slow
def test_train_runs_on_a_store_as_on_the_triple_file(company, tmp_path):
    from kg.rdf import load_store

    kb, questions, _ = company
    load_store(kb, tmp_path / "store")
    cards = {}
    for name, graph in (("file", kb), ("store", tmp_path / "store")):
        run = subprocess.run([REASONER, "train", "--kg", str(graph), "--questions", str(questions), "--out", str(tmp_path / name),
                              "--steps", "4", "--epochs", "2"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        cards[name] = json.loads((tmp_path / name / "train.json").read_text())
    assert cards["store"]["conventions"] == cards["file"]["conventions"] and cards["store"]["mining"] == cards["file"]["mining"]
    assert cards["store"]["rules"] == cards["file"]["rules"]
