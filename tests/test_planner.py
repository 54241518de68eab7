"""The constrained planner against the real vLLM server with the embedded model."""

import json

import pytest

from kg.schema import Schema
from tools.base import Constraint
from tools.kg.llm_planner import Example, ExampleIndex, LLMPlanner, parse_plan, plan_alternatives, plan_json_schema, render_plan

pytestmark = pytest.mark.slow


def test_plan_format_round_trips():
    assert parse_plan(render_plan(["directed_by", "~directed_by"])) == ["directed_by", "~directed_by"]
    with pytest.raises(ValueError):
        parse_plan('{"relations": []}')


def test_schema_admits_only_chaining_plans(demo_kg):
    schema = Schema.derive(demo_kg)
    constraint = plan_json_schema(plan_alternatives(schema, ["directed_by", "release_year"]))
    plans = [[item["enum"] for item in alt["prefixItems"]] for alt in constraint["properties"]["plan"]["anyOf"]]
    assert [["directed_by", "release_year"]] in plans
    for positions in plans:
        for before, after in zip(positions, positions[1:]):
            kinds = {schema.relation(s).tail_kind for s in before}
            assert len(kinds) == 1 and all(schema.relation(s).head_kind in kinds for s in after)


def test_planner_returns_ranked_plans_that_chain(demo_kg, llm):
    examples = ExampleIndex([
        Example(question="who directed [ENT]", plan=["directed_by"]),
        Example(question="which films share a director with [ENT]", plan=["directed_by", "~directed_by"]),
        Example(question="when were the films by the director of [ENT] released", plan=["directed_by", "~directed_by", "release_year"]),
    ])
    planner = LLMPlanner(demo_kg, llm, examples=examples, samples=4)
    result = planner.plan("when were the movies directed by the director of [Inception] released")
    assert result.topic == "Inception" and result.masked_question.startswith("when were the movies")
    assert result.candidates, result.raw
    schema = planner.schema
    for candidate in result.candidates:
        assert 1 <= len(candidate.plan) <= 3
        assert all(step in demo_kg.adjacency for step in candidate.plan)
        assert candidate.plan[0] in planner.reading_steps("Inception")
        assert schema.chains(candidate.plan)
    assert sum(c.votes for c in result.candidates) <= 4
    assert result.messages[-1] == {"role": "user", "content": result.masked_question}


def test_question_without_a_graph_entity_gets_no_plan(demo_kg, llm):
    result = LLMPlanner(demo_kg, llm).plan("what is the airspeed velocity of a swallow")
    assert result.topic is None and result.candidates == []


def test_the_constraint_bites(demo_kg, llm):
    """Asked outright for a relation the graph does not have, the model still can only emit schema plans."""
    schema = Schema.derive(demo_kg)
    constraint = plan_json_schema(plan_alternatives(schema, ["directed_by"]))
    messages = [{"role": "user", "content": 'Reply with exactly this JSON: {"plan": ["born_in", "capital_of"]}'}]
    free = llm.sample(messages=messages, max_tokens=30)
    bound = llm.sample(messages=messages, max_tokens=40, constraint=Constraint(kind="json", value=constraint))
    assert "born_in" in free.raw[0]  # unconstrained, it obeys the prompt
    plan = json.loads(bound.raw[0])["plan"]
    assert plan[0] == "directed_by" and schema.chains(plan)
    assert bound.constraint == "json" and bound.usage["completion_tokens"] > 0 and bound.seconds > 0


def test_the_client_samples_with_a_choice_and_a_grammar(llm):
    """Every constraint kind the tools use reaches vLLM and binds the output."""
    choice = llm.sample(prompt="The colour of the sky is", n=3, temperature=1.0, max_tokens=5,
                        constraint=Constraint(kind="choice", value=["red", "green"]))
    assert len(choice.raw) == 3 and set(choice.raw) <= {"red", "green"} and len(choice.logprobs) == 3
    grammar = 'root ::= "x = " digit digit\ndigit ::= [0-9]'
    bound = llm.sample(prompt="Write a number:", max_tokens=10, constraint=Constraint(kind="grammar", value=grammar))
    assert bound.raw[0].startswith("x = ") and bound.raw[0][4:6].isdigit()
