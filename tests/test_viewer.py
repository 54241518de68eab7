"""The trace viewer in real headless Chromium: ask through the page's form, watch the run finish,
open it, and read the answer, the step tree and the drawn grounding graph."""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; `make test` installs it
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots kept for a person to look at
# Headless, and nothing that reaches for the network on its own (this machine's network is closed).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    assert CHROMIUM.exists(), "Debian's chromium is not installed: `make test` installs it with apt-get"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS,
                                    env={"HOME": str(tmp_path_factory.mktemp("chromium-home"))})
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


def ask(page, service: str, question: str) -> None:
    page.goto(service + "/")
    page.fill("#question", question)
    page.click("#ask button")
    expect(page.locator("#run-status")).to_have_text("answered", timeout=90_000)


def test_ask_through_the_form_and_see_answer_steps_and_graph(page, service):
    ask(page, service, "the films that share directors with [Inception] were released in which years")
    expect(page.locator("#answer")).to_contain_text("2008")
    expect(page.locator("#runs li.selected")).to_contain_text("[Inception]")
    expect(page.locator("#runs li.selected .status")).to_have_text("answered")
    nodes = [page.locator("#steps [data-node]").nth(i).get_attribute("data-node")
             for i in range(page.locator("#steps [data-node]").count())]
    assert nodes[0] == "link" and nodes[-1] == "answer" and {"plan", "ground", "check"} <= set(nodes)
    # The graph: the topic at the left, the answers, relation labels on the edges.
    graph = page.locator("#graph")
    expect(graph.locator("g.topic")).to_have_attribute("data-name", "Inception")
    expect(graph.locator("g.ans[data-name='2008']")).to_have_count(1)
    assert int(graph.get_attribute("data-edges")) >= 3
    expect(graph.locator("text.rel", has_text="directed_by").first).to_be_visible()
    # The raw LLM prompt and output, on demand.
    page.locator("#steps [data-node=plan] summary").first.click()
    page.get_by_role("button", name="Show the LLM prompt and output").first.click()
    expect(page.locator("pre.llm").first).to_contain_text("[model output")
    ARTIFACTS.mkdir(exist_ok=True)
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
    page.locator("#graph").screenshot(path=ARTIFACTS / "viewer-big-graph.png")


def test_the_run_list_searches(page, service):
    page.goto(service + "/")
    runs = page.locator("#runs li")
    expect(runs.filter(has_not_text="Titanic")).not_to_have_count(0)  # the first page, unfiltered
    page.fill("#search", "Titanic")
    expect(runs.filter(has_not_text="Titanic")).to_have_count(0)
    expect(runs).not_to_have_count(0)


def test_the_form_can_ask_the_embedding_planner(page, service):
    page.goto(service + "/")
    page.select_option("#planner", "embedding")
    page.fill("#question", "what movies did [Christopher Nolan] direct")
    page.click("#ask button")
    expect(page.locator("#run-status")).to_have_text("answered", timeout=90_000)
    expect(page.locator("#run .meta")).to_contain_text("embedding planner")
    expect(page.locator("#answer")).to_contain_text("Inception")


def test_a_replan_shows_as_a_second_attempt_with_its_reason(page, service):
    page.goto(service + "/")
    page.fill("#question", "who wrote [1997]")  # the first plan reaches films, not writers: the answer-kind check fails
    page.click("#ask button")
    expect(page.locator("#run-status")).not_to_have_text("running", timeout=90_000)
    expect(page.locator("#steps summary", has_text="attempt 2: replan after ~release_year: answer_kind")).to_have_count(1)
    expect(page.locator("#steps [data-node=check] .node.fail").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "viewer-replan.png")
