"""The trace viewer in real headless Chromium: ask through the page's form, watch the run finish,
open it, and read the answer, the step tree, the routing decision and the tool's evidence."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots kept for a person to look at
ARTIFACTS.mkdir(exist_ok=True)

# Pairs of relation labels in the graph whose boxes overlap (by more than half a pixel).
OVERLAPPING_LABELS = """() => {
  const boxes = [...document.querySelectorAll("#graph text.rel")].map((t) => [t.textContent, t.getBoundingClientRect()]);
  const pairs = [];
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (Math.min(p.right, q.right) - Math.max(p.left, q.left) > 0.5 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 0.5) pairs.push([a, b]);
  }));
  return pairs;
}"""
# Text nodes of the evidence and routing cards that read "null" (a null child passed to the DOM).
NULL_TEXTS = """() => [...document.querySelectorAll("#evidence, #routing")].flatMap((card) => {
  const walk = document.createTreeWalker(card, NodeFilter.SHOW_TEXT), found = [];
  while (walk.nextNode()) if (walk.currentNode.textContent.trim() === "null") found.push(card.id);
  return found;
})"""


def ask(page, service: str, question: str, status: str = "answered", planner: str | None = None) -> None:
    page.goto(service + "/")
    if planner:
        page.select_option("#planner", planner)
    page.fill("#question", question)
    page.click("#ask button")
    expect(page.locator("#run-status")).to_have_text(status, timeout=90_000)


def test_ask_through_the_form_and_see_answer_steps_and_graph(page, service):
    ask(page, service, "the films that share directors with [Inception] were released in which years")
    expect(page.locator("#answer")).to_contain_text("2008")
    expect(page.locator("#runs li.selected")).to_contain_text("[Inception]")
    expect(page.locator("#runs li.selected .status")).to_have_text("answered")
    expect(page.locator("#runs li.selected .tool")).to_have_text("kg")
    expect(page.locator("#run .meta")).to_contain_text("tool kg · llm planner")
    nodes = [page.locator("#steps [data-node]").nth(i).get_attribute("data-node")
             for i in range(page.locator("#steps [data-node]").count())]
    assert nodes[:2] == ["route", "frame"] and nodes[-1] == "answer" and {"plan", "ground", "check"} <= set(nodes)
    expect(page.locator("#steps [data-node=route] > details > summary")).to_contain_text("-> kg: the message marks its topic entity")
    expect(page.locator("#steps [data-node=frame] > details > summary")).to_contain_text("topic: Inception")
    expect(page.locator("#steps [data-node=plan] > details > summary").first).to_contain_text("(LLM call)")
    expect(page.locator("#steps [data-node=ground] > details > summary").first).to_contain_text("evidence edges")
    # The routing decision is one closed line when there is evidence to show.
    expect(page.locator("#routing")).to_contain_text("Routing: → kg")
    expect(page.locator("#routing")).not_to_have_attribute("open", "")
    # The graph: the topic at the left, the answers, relation labels on the edges.
    expect(page.locator("#evidence")).to_have_attribute("data-kind", "kg")
    graph = page.locator("#graph")
    expect(graph.locator("g.topic")).to_have_attribute("data-name", "Inception")
    expect(graph.locator("g.ans[data-name='2008']")).to_have_count(1)
    assert int(graph.get_attribute("data-edges")) >= 3
    expect(graph.locator("text.rel", has_text="directed_by").first).to_be_visible()
    # The raw LLM prompt and output, on demand.
    page.locator("#steps [data-node=plan] summary").first.click()
    page.get_by_role("button", name="Show the LLM prompt and output").first.click()
    expect(page.locator("pre.llm").first).to_contain_text("[model output")
    expect(page.locator("pre.llm").first).to_contain_text("completion tokens]")
    page.screenshot(path=ARTIFACTS / "viewer.png")
    graph.screenshot(path=ARTIFACTS / "viewer-graph.png")


def test_a_big_grounding_is_limited_with_more_on_demand(page, service):
    ask(page, service, "the films that share actors with the film [Titanic] are written by who")
    note = page.locator(".graph-note")
    expect(note).to_contain_text("Witness paths of 20 of")
    drawn = int(page.locator("#graph").get_attribute("data-edges"))
    page.click("#graph-more")
    expect(note).to_contain_text("Witness paths of 40 of")
    assert int(page.locator("#graph").get_attribute("data-edges")) > drawn
    assert page.evaluate(OVERLAPPING_LABELS) == []
    page.locator("#graph").screenshot(path=ARTIFACTS / "viewer-big-graph.png")


def test_the_evidence_panel_fits_each_kind_of_run(page, service):
    # A KG answer whose grounding has parallel edges (Tim Robbins directed and wrote his films, so
    # ~directed_by and written_by join the same entities) and fans from one source: the labels
    # were drawn on top of each other, and a stray "null" above the graph.
    ask(page, service, "who wrote the films directed by the director of [Bob Roberts]", planner="embedding")
    run_id = page.evaluate("location.hash").removeprefix("#run=")
    evidence = page.request.get(f"{service}/api/runs/{run_id}").json()["result"]["grounding"]
    edges = {(e["source"], e["relation"], e["target"]) for paths in evidence["witnesses"].values() for path in paths for e in path}
    between = {}
    for source, relation, target in edges:
        between.setdefault(frozenset((source, target)), set()).add(relation)
    assert any(len(relations) > 1 for relations in between.values()), "the grounding should join two entities by two relations"
    graph = page.locator("#evidence[data-kind=kg] #graph")
    expect(graph.locator("g.topic")).to_have_attribute("data-name", "Bob Roberts")
    expect(graph.locator("g.ans[data-name='Helen Prejean']")).to_have_count(1)
    for relation in ("directed_by", "~directed_by", "written_by"):
        expect(graph.locator("text.rel", has_text=relation).first).to_be_visible()
    assert page.evaluate(OVERLAPPING_LABELS) == []
    assert page.evaluate(NULL_TEXTS) == []
    graph.screenshot(path=ARTIFACTS / "viewer-graph-parallel-edges.png")

    # A message no tool serves: routed to none, with the reason and what the service can do instead.
    ask(page, service, "hello, how are you today?", status="no_tool")
    expect(page.locator("#run-tool")).to_have_text("none")
    routing = page.locator("#routing")
    expect(routing).to_have_attribute("open", "")
    expect(routing).to_contain_text("Routing: → none")
    expect(routing).to_contain_text("no tool fits this message")
    expect(routing.locator(".checks li.fail").first).to_contain_text("✗")
    expect(routing.locator("tr[data-tool=kg]")).to_contain_text("questions about the entities of the knowledge graph")
    expect(routing.locator("tr[data-tool=regress]")).to_contain_text("explained by a fitted formula")
    expect(page.locator("#answer")).to_contain_text("This service answers")
    expect(page.locator("#graph")).to_have_count(0)
    expect(page.locator("#evidence")).to_have_count(0)
    expect(page.locator("#steps [data-node]")).to_have_count(2)  # route, answer
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-routed-to-none.png")

    # Examples: the table of examples, each program run in the sandbox with pass/fail per example, the winner.
    ask(page, service, "f(1)=2, f(2)=4, f(3)=6. What is f(4)?", status="answered")
    expect(page.locator("#run-tool")).to_have_text("induce")
    expect(page.locator("#answer")).to_contain_text("8")
    card = page.locator("#evidence[data-kind=induce]")
    expect(card.locator("#examples tr")).to_have_count(4)  # the header and three examples
    expect(card.locator("#programs tr.winner td.pass")).to_have_count(3)
    expect(card.locator("#winner code")).to_have_text("plus(x0, x0)")
    expect(card.locator("#predictions")).to_contain_text("8")
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-routed-to-induce.png")

    # An ARC grid task: the grids are drawn as coloured cells.
    arc = {"train": [{"input": [[0, 3, 3, 0, 0]], "output": [[0, 0, 3, 3, 0]]}, {"input": [[5, 0, 0, 0, 0]], "output": [[0, 5, 0, 0, 0]]}],
           "test": [{"input": [[0, 0, 7, 0, 0]]}]}
    ask(page, service, json.dumps(arc), status="answered")
    card = page.locator("#evidence[data-kind=induce]")
    expect(card.locator("#examples table.grid").first).to_be_visible()
    expect(card.locator("#winner code")).to_have_text("shift(x, 1)")
    predicted = card.locator("#predictions tr").nth(1).locator("table.grid").nth(1)  # beside the test input
    expect(predicted.locator("td").nth(3)).to_have_attribute("title", "7")
    page.screenshot(path=ARTIFACTS / "viewer-induce-grid.png")

    # A table of numbers: the points and the fitted curve drawn, the formula, every fitted form with its R².
    table = "x y\n" + "\n".join(f"{x} {3 * x * x + 1}" for x in range(-4, 6)) + "\nfind a formula for y"
    ask(page, service, table, status="answered")
    expect(page.locator("#run-tool")).to_have_text("regress")
    card = page.locator("#evidence[data-kind=regress]")
    expect(card.locator("#formula code")).to_have_text("3*x**2 + 1")
    expect(card.locator("#plot circle")).to_have_count(10)
    expect(card.locator("#plot circle.validation")).to_have_count(2)
    expect(card.locator("#plot path.curve.answer")).to_have_count(1)
    assert card.locator("#plot path.curve.answer").get_attribute("d").count("L") > 50  # drawn across the range
    expect(card.locator("#curves li").first).to_contain_text("answer: 3*x**2 + 1")
    expect(card.locator("#fits tr.winner")).to_contain_text("3*x**2 + 1")
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-routed-to-regress.png")

    # A logic problem: each premise beside its formula, every translation's checks and verdict, the vote, the proof.
    ask(page, service, "The cat is big. If something is big then it is red. "
                       "Is the following statement true, false, or unknown? The cat is red.", status="answered")
    expect(page.locator("#run-tool")).to_have_text("logic")
    expect(routing).to_contain_text("the message gives premises and a question")
    card = page.locator("#evidence[data-kind=logic]")
    expect(card.locator("#formulas tr")).to_have_count(4)  # the header, two premises, the conclusion
    expect(card.locator("#formulas")).to_contain_text("Big(cat)")
    expect(card.locator("#formulas tr.conclusion")).to_contain_text("Red(cat)")
    expect(card.locator("#votes")).to_contain_text("True")
    expect(card.locator("#samples tr[data-verdict=True]").first).to_contain_text("✓ consistency")
    card.locator("#proof summary").click()
    expect(card.locator("#proof pre")).to_contain_text("SZS output start")
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-routed-to-logic.png")


def test_the_run_list_searches_and_filters(page, service):
    page.goto(service + "/")
    runs = page.locator("#runs li")
    expect(runs.filter(has_not_text="Titanic")).not_to_have_count(0)  # the first page, unfiltered
    page.fill("#search", "Titanic")
    expect(runs.filter(has_not_text="Titanic")).to_have_count(0)
    expect(runs).not_to_have_count(0)
    page.fill("#search", "")
    statuses = page.locator("#status option").all_text_contents()
    assert statuses[1:] == ["running", "answered", "inferred", "not_in_graph", "undecided", "no_entity", "no_plan", "no_tool", "error"]
    page.select_option("#tool", "logic")
    expect(runs.locator(".tool").filter(has_not_text="logic")).to_have_count(0)
    expect(runs).not_to_have_count(0)
    page.select_option("#tool", "")
    page.select_option("#status", "no_tool")
    expect(runs.locator(".status").filter(has_not_text="no_tool")).to_have_count(0)
    expect(runs.locator(".tool", has_text="none")).not_to_have_count(0)


def test_the_form_can_ask_the_embedding_planner(page, service):
    ask(page, service, "what movies did [Christopher Nolan] direct", planner="embedding")
    expect(page.locator("#run .meta")).to_contain_text("embedding planner")
    expect(page.locator("#answer")).to_contain_text("Inception")
    expect(page.locator("#steps [data-node=plan] > details > summary").first).to_contain_text("(embedding search")


def test_a_fact_the_graph_lacks_shows_the_reading_and_the_missing_edge(page, service):
    ask(page, service, "what language is [Inception] in", status="not_in_graph")  # the demo graph has no language for it
    expect(page.locator("#answer")).to_contain_text("The graph has no `in_language` edge from Inception")
    missing = page.locator("#evidence[data-kind=kg] #missing")
    expect(missing).to_contain_text("The question was read as in_language from Inception")
    expect(missing).to_contain_text("No answer is given")
    expect(page.locator("#graph")).to_have_count(0)
    expect(page.locator("#steps [data-node=check] .node.fail").first).to_be_visible()  # grounded: failed
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-not-in-graph.png")


def test_an_inferred_answer_shows_its_rule_and_the_facts_it_rests_on(page, service):
    # The demo graph has no writer for Physical Evidence; its director wrote his other films (MetaQA's facts).
    ask(page, service, "who wrote [Physical Evidence]", status="inferred")
    expect(page.locator("#answer")).to_contain_text("Inferred, not in the graph: Michael Crichton")
    card = page.locator("#evidence[data-kind=kg]")
    expect(card.locator("h3").first).to_have_text("Inferred, not in the graph")
    expect(card.locator("#inferred tbody tr").first).to_contain_text("written_by(X, Y) :- directed_by(X, Y)")
    expect(card.locator("#inferred tbody tr").first).to_contain_text("Michael Crichton")
    expect(card.locator("#graph [data-name='Michael Crichton']")).to_have_count(1)
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-inferred.png")


def test_a_question_over_a_set_shows_what_clingo_decided_above_the_set(page, service):
    ask(page, service, "How many films did [Christopher Nolan] direct?")
    decision = page.locator("#evidence[data-kind=kg] #decision")
    expect(decision.locator("h3")).to_contain_text("Decided over the set by clingo:")
    decision.locator("summary").click()
    expect(decision.locator("pre").first).to_contain_text("count(N) :- N = #count")
    expect(page.locator("#graph [data-name='Inception']")).to_have_count(1)  # the set's witness paths
    assert page.evaluate(NULL_TEXTS) == []
    page.screenshot(path=ARTIFACTS / "viewer-set-question.png")


def test_a_replan_shows_as_a_second_attempt_with_its_reason(page, service):
    page.goto(service + "/")
    page.fill("#question", "who wrote [1997]")  # the first plan reaches films, not writers: the answer-kind check fails
    page.click("#ask button")
    expect(page.locator("#run-status")).not_to_have_text("running", timeout=90_000)
    expect(page.locator("#steps summary", has_text="attempt 2: replan after ~release_year: answer_kind")).to_have_count(1)
    expect(page.locator("#steps [data-node=check] .node.fail").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "viewer-replan.png")
