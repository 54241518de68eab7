"""The router on the demo graph with the shipped planner's evidence: every kind of message, explicit
tools and typed inputs, and off-topic messages that name a film title kept away from the KG."""

import pytest

from agent.router import Router
from kg.linking import EntityLinker
from kg.schema import Schema
from tools.base import Task
from tools.kg.checks import AnswerKinds, QuestionForms
from tools.kg.llm_planner import find_distilled
from tools.kg.tool import KGTool
from tools.registry import tool_of_input
from tools.regress.input import numeric_table


class Linking:
    """The part of a KG planner the router uses: linking (no LLM is involved in routing)."""

    name = "llm"
    folder = None

    def __init__(self, kg):
        self.kg, self.schema, self.linker = kg, Schema.derive(kg), EntityLinker(kg)

    def link(self, question):
        return self.linker.frame(question, second=False)


@pytest.fixture(scope="module")
def router(demo_kg):
    folder = find_distilled(demo_kg)
    return Router({"kg": KGTool(Linking(demo_kg), AnswerKinds.load(folder), QuestionForms.load(folder))})


@pytest.mark.parametrize("message, tool", [
    ("who directed [Inception]", "kg"),
    ("Who directed Jurassic Park?", "kg"),
    ("which movies did tom hanks act in", "kg"),
    ("All men are mortal. Socrates is a man. Is Socrates mortal?", "logic"),
    ("Is every man mortal if Socrates is a man?", "logic"),
    ("The cat is big. If something is big then it is red. True or false: the cat is red.", "logic"),
    ("abc -> cba, hello -> olleh, world -> ?", "induce"),
    ('{"train": [{"input": [[0, 1]], "output": [[1, 0]]}], "test": [{"input": [[1, 1]]}]}', "induce"),
    ("x,y\n1,2.1\n2,3.9\n3,6.2\n4,7.8\n5,10.1\nfind a formula for y", "regress"),
    ("hello, how are you today?", "none"),
    ("What's up?", "none"),
    ("what is the capital of France", "none"),
])
def test_each_kind_of_message_goes_to_its_tool(router, message, tool):
    decision = router.route(Task(question=message))
    assert decision.tool == tool, decision
    assert decision.reason and decision.signals


def test_a_kg_route_records_its_checks(router):
    decision = router.route(Task(question="Who directed Jurassic Park?"))
    assert [c.name for c in decision.checks] == ["entity", "question"] and all(c.passed for c in decision.checks)
    weak = router.route(Task(question="If you could travel anywhere, where would you go?"))
    assert weak.tool == "none" and "not a knowledge-graph question" in weak.reason
    # Common words for a title are a weak link, taken when the message reads like the graph's questions.
    fits = router.route(Task(question="who directed bad company"))
    assert fits.tool == "kg" and "weak: common words" in fits.checks[0].detail


def test_an_explicit_tool_or_a_typed_input_wins(router):
    assert router.route(Task(question="hello", tool="regress")).tool == "regress"
    assert router.route(Task(question="decide", input={"premises": ["All men are mortal."], "conclusion": "x"})).tool == "logic"
    assert router.route(Task(question="fit", input={"columns": {"x": [1, 2], "y": [2, 4]}})).tool == "regress"
    assert tool_of_input({"train": [{"input": [1], "output": [2]}]}) == "induce"
    assert tool_of_input({"nonsense": 1}) is None


def test_numeric_tables_are_found_with_or_without_a_header():
    assert numeric_table("t d\n0 0\n1 4.9\n2 19.6\n3 44.1\n4 78.4") == (5, 2)
    assert numeric_table("| x | y |\n|---|---|\n| 1 | 2 |\n| 2 | 4 |") == (2, 2)
    assert numeric_table("who directed [Inception]") is None


@pytest.mark.parametrize("message, tool", [
    ("Anne is kind. Kind people are happy. Is Anne sad?", "logic"),  # no reasoning vocabulary: the learned router decides
    ("I'm tired. My boss is mean. Is that normal?", "none"),  # the same shape, a person's day
    ("x=1 y=2, x=2 y=5, x=3 y=10, x=4 y=17, x=5 y=26", "regress"),  # rows written as assignments
    ("thanks, that was really helpful!", "none"),
])
def test_what_the_rules_leave_the_learned_router_decides(router, message, tool):
    decision = router.route(Task(question=message))
    assert decision.tool == tool, decision
    if tool == "logic":
        assert "learned router" in decision.reason and decision.checks[-1].name == "learned router"
        assert "learned" in decision.signals


def test_the_learned_router_never_sends_to_the_kg_a_message_without_a_linked_entity(router):
    from agent.route_model import RouteModel

    class AlwaysKG(RouteModel):
        def probabilities(self, text):
            return {"kg": 1.0, "logic": 0.0, "induce": 0.0, "regress": 0.0, "none": 0.0}

    head = RouteModel.load()
    always = Router(router.tools, model=AlwaysKG({"labels": head.labels, "weights": head.weights.tolist(),
                                                 "bias": head.bias.tolist(), "thresholds": head.thresholds}))
    assert always.route(Task(question="zzqx plorf?")).tool == "none"
    no_graph = Router({k: v for k, v in router.tools.items() if k != "kg"}, model=always.model)
    assert no_graph.route(Task(question="Who directed Jaws?")).tool != "kg"  # no graph served: nothing is linked
    assert Router(router.tools, model=False).route(Task(question="Anne is kind. Kind people are happy. Is Anne sad?")).tool == "none"
