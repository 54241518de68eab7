"""A short distillation end to end: train a few dozen steps, merge the adapter, serve it, plan with it."""

import json

import pytest

from agent.distill import distill, training_pairs
from agent.llm.client import LLMClient
from agent.llm.server import SERVED_NAME, ModelServer
from agent.llm.weights import merged_model_dir
from agent.training import DistillConfig
from kg.mining import mine_questions
from kg.questions import Question
from kg.schema import Schema
from tools.kg.llm_planner import CompactFormat, LLMPlanner, distilled_format, find_distilled

pytestmark = pytest.mark.slow

TEMPLATES = {
    "who directed [{}]": "directed_by",
    "when was [{}] released": "release_year",
    "who acted in [{}]": "starred_actors",
    "which films share a director with [{}]": "directed_by,~directed_by",
}


def test_compact_format_round_trips(small_kg):
    fmt = CompactFormat.for_schema(Schema.derive(small_kg))
    plan = ["directed_by", "~directed_by", "release_year"]
    assert fmt.parse(fmt.render(plan)) == plan
    assert len(fmt.render(plan).split()) == 3
    assert fmt.prompt("who directed [ENT]") == "who directed [ENT] =>"
    with pytest.raises(ValueError, match="unknown plan code"):
        fmt.parse(" z")


def test_short_distillation_is_served_and_plans(small_kg, tmp_path):
    films = ["Heat", "Collateral", "The Irishman", "Taxi Driver"]
    questions = []
    for template, plan in TEMPLATES.items():
        for film in films:
            from kg.paths import execute_plan

            answers = execute_plan(small_kg, [film], plan.split(",")).answers
            if answers:
                questions.append(Question(id=f"{film}:{template}", question=template.format(film), answers=answers))
    mined = mine_questions(small_kg, questions, workers=1)
    assert len(training_pairs(mined, CompactFormat.for_schema(Schema.derive(small_kg)))) >= 10

    out = tmp_path / "planner"
    losses = []
    card = distill(small_kg, mined, out, DistillConfig(steps=30, batch_size=8, learning_rate=3e-3, validation_share=0.0),
                   sources=["generated"], command="test", on_step=lambda step, loss: losses.append(loss), log=lambda _: None)
    assert (out / "adapter_model.safetensors").is_file() and (out / "README.md").is_file()
    assert (out / "answer_kinds.json").is_file() and (out / "question_forms.json").is_file()
    assert json.loads((out / "planner.json").read_text())["codes"]["directed_by"] == card.codes["directed_by"]
    assert losses[-1] < losses[0]
    assert find_distilled(small_kg, tmp_path) == out

    with ModelServer(str(merged_model_dir(out))) as server:
        planner = LLMPlanner(small_kg, LLMClient(server.base_url, SERVED_NAME), samples=2, compact=distilled_format(out))
        result = planner.plan("who directed [Heat]")
    assert result.messages == [{"role": "prompt", "content": "who directed [ENT] =>"}]
    assert result.candidates, result.raw
    assert all(Schema.derive(small_kg).chains(c.plan) and c.plan[0] in planner.reading_steps("Heat") for c in result.candidates)


def test_a_short_translator_distillation_writes_an_adapter_and_its_card(tmp_path):
    """The translator's data and training path on a few hand-written problems (the shipped one trains on the
    shared benchmarks' training parts): rule-made targets kept only when the solver agrees, a few steps."""
    from collections import Counter

    from agent.training import train_adapter
    from tools.logic.pairs import deduction_pairs, folio_pairs, mixture, proofwriter_pairs
    from tools.registry import spec

    rules = "The cat is big. If something is big then it is red. The dog is not red."
    proofwriter = [{"id": f"pw{i}", "context": rules, "question": f"Is the following statement true, false, or unknown? {q}",
                    "answer": a} for i, (q, a) in enumerate([("The cat is red.", "A"), ("The dog is big.", "B"), ("The cat is small.", "C")])]
    proofwriter.append({"id": "pw-wrong", "context": rules, "question": "Is it true, false, or unknown? The cat is red.", "answer": "C"})
    deduction = [{"id": "ld", "context": "On a shelf, there are two books: a red book and a blue book. The red book is the leftmost.",
                  "options": ["A) The red book is the rightmost.", "B) The blue book is the rightmost."], "answer": "B"}]
    folio = [{"story_id": 1, "premises": ["All dogs are animals.", "Rex is a dog."], "premises-FOL": ["∀x (Dog(x) → Animal(x))", "Dog(rex)"]}]
    tally = Counter()
    pairs = proofwriter_pairs(proofwriter, tally=tally) + deduction_pairs(deduction, tally) + folio_pairs(folio, tally)
    assert tally == {"proofwriter prover disagrees": 1}  # the item whose gold the prover does not reproduce is left out
    assert {p.target for p in pairs} >= {"Big(cat)", "∀x (Big(x) → Red(x))", "obj(red_book; blue_book)", "at(blue_book, n)", "Dog(rex)"}
    config = DistillConfig(steps=3, batch_size=4, warmup_steps=1, validation_share=0.5, max_validation=4)
    card = train_adapter(spec("logic"), mixture(pairs, seed=0), {"pairs": {}, "left_out": dict(tally)}, tmp_path / "translator",
                         config, command="test", log=lambda line: None)
    assert (tmp_path / "translator" / "adapter_model.safetensors").is_file()
    assert json.loads((tmp_path / "translator" / "translator.json").read_text())["config"]["steps"] == 3
    assert card.train_seconds > 0 and set(card.validation) <= {"proofwriter", "deduction", "folio"}


def test_a_short_proposer_distillation_writes_an_adapter_and_its_card(tmp_path):
    """The proposer's data and training path on a tiny shared-data folder (the shipped one trains on the real
    one): generated tasks labelled with the enumerator's program, mined solutions, held-out tasks left out."""
    from agent.training import train_adapter
    from tools.induce.pairs import held_out, training_pairs
    from tools.registry import spec

    data = tmp_path / "data"
    (data / "1d-arc" / "1d_move_1p").mkdir(parents=True)
    (data / "arc" / "training").mkdir(parents=True)
    (data / "sygus-strings").mkdir()
    shift = {"train": [{"input": [[0, 3, 3, 0, 0]], "output": [[0, 0, 3, 3, 0]]}, {"input": [[5, 0, 0, 0]], "output": [[0, 5, 0, 0]]}],
             "test": [{"input": [[0, 7, 0, 0]], "output": [[0, 0, 7, 0]]}]}
    for i in range(4):
        (data / "1d-arc" / "1d_move_1p" / f"1d_move_1p_{i}.json").write_text(json.dumps(shift))
    (data / "arc" / "training" / "flip.json").write_text(json.dumps(
        {"train": [{"input": [[1, 2]], "output": [[2, 1]]}, {"input": [[3, 0]], "output": [[0, 3]]}], "test": []}))
    sygus = [{"name": f"first-word-{i}.sl", "examples": [{"inputs": ["ab cd"], "output": "ab"}, {"inputs": ["x yz"], "output": "x"},
                                                       {"inputs": ["hello there"], "output": "hello"}]} for i in range(2)]
    sygus.append({"name": "broken.sl", "examples": [{"unparsed_constraint": True}]})
    (data / "sygus-strings" / "pbe_slia_2019.json").write_text(json.dumps(sygus))
    pairs, tally = training_pairs(data, generated=10, permutations=1, log=lambda line: None)
    kept = {p.source for p in pairs}
    assert {"generated-grid", "generated-values"} <= kept
    mined = [p for p in pairs if p.source == "1d-arc"]
    trained_on = [i for i in range(4) if not held_out("1d-arc", f"1d_move_1p_{i}")]
    assert len(mined) == 2 * len(trained_on) and {p.target for p in mined} == {"shift(x, 1)"}  # with colours permuted: the same program
    assert all(p.target == "before(x0, ' ')" for p in pairs if p.source == "sygus")
    config = DistillConfig(steps=2, batch_size=4, warmup_steps=1, validation_share=0.3, max_validation=4)
    card = train_adapter(spec("induce"), pairs, tally, tmp_path / "proposer", config, command="test", log=lambda line: None)
    assert (tmp_path / "proposer" / "adapter_model.safetensors").is_file()
    assert json.loads((tmp_path / "proposer" / "proposer.json").read_text())["config"]["steps"] == 2
    assert card.train_seconds > 0


def test_a_short_formula_proposer_distillation_writes_an_adapter_and_its_card(tmp_path):
    """The formula proposer's data (generated data sets -> their forms, some prompts with tried forms) and its
    training path, on a few pairs (the shipped one trains on thousands)."""
    from agent.training import train_adapter
    from tools.registry import spec
    from tools.regress import expr as E
    from tools.regress.pairs import training_pairs

    pairs, tally = training_pairs(40, seed=3, log=lambda line: None)
    assert len(pairs) == 40 and set(tally["pairs"]) <= {"points", "with tried"}
    for pair in pairs:
        header = pair.prompt.splitlines()[0].split()
        assert pair.prompt.endswith("formula: ") and E.parse(pair.target, header[:-1]) is not None
    tried = [p for p in pairs if p.source == "with tried"]
    assert tried and all("tried: " in p.prompt and " r2=" in p.prompt for p in tried)
    config = DistillConfig(steps=2, batch_size=4, warmup_steps=1, validation_share=0.3, max_validation=4)
    card = train_adapter(spec("regress"), pairs, tally, tmp_path / "formulas", config, command="test", log=lambda line: None)
    assert (tmp_path / "formulas" / "adapter_model.safetensors").is_file() and card.train_seconds > 0
    assert json.loads((tmp_path / "formulas" / "proposer.json").read_text())["config"]["steps"] == 2


def test_a_round_trained_before_is_read_back_only_with_the_same_pairs_and_settings(tmp_path):
    """`--rounds` started again reads back a round an earlier run trained, and trains again when anything differs."""
    from agent.cli.adapter import _trained_before
    from agent.training import AdapterCard

    config = DistillConfig(steps=600, batch_size=8)
    about = {"pairs": {"sygus": 96}, "experience": [{"from": "tools/induce/adapter", "tasks": 385}]}
    card = tmp_path / "proposer.json"
    assert not _trained_before(card, config, about)
    card.write_text(AdapterCard(base_model="m", config=config, data={**about, "train": 90, "validation": 6}, train_seconds=1.0,
                                peak_rss_mb=1.0, final_loss=0.1, validation={}, command="test").model_dump_json())
    assert _trained_before(card, config, about)
    assert not _trained_before(card, config.model_copy(update={"steps": 300}), about)
    assert not _trained_before(card, config, {**about, "experience": []})
    assert _trained_before(card, config, {**about, "experience": [{"from": "/elsewhere/round-1", "tasks": 385}]})  # a moved run
    assert not _trained_before(card, config, {**about, "experience": [{"from": "tools/induce/adapter", "tasks": 384}]})


def test_only_the_last_round_trains_the_last_steps():
    from agent.cli.adapter import _settings

    config = DistillConfig(steps=600, batch_size=8)
    assert [_settings(config, round_, 4, 800).steps for round_ in (1, 2, 3, 4)] == [600, 600, 600, 800]
    assert _settings(config, 4, 4, None) == config and _settings(config, 3, 4, 800) == config  # round 3 is read back


def test_kept_pairs_are_read_back_only_when_made_with_the_same_inputs(tmp_path):
    """`--rounds` keeps its first pairs and each round's experience beside the adapter; started again, it reads
    them back instead of running the search again, unless they were made from other inputs."""
    from agent.cli.adapter import _kept
    from tools.base import Pair

    made = []

    def make():
        made.append(1)
        return [Pair(prompt="p", target=f"t{len(made)}", source="s", group="g")], {"pairs": {"s": 1}}

    stem = tmp_path / "pairs-first"
    first = _kept(stem, make, {"seed": 0})
    assert _kept(stem, make, {"seed": 0}) == first and len(made) == 1
    assert json.loads(stem.with_suffix(".json").read_text())["made_with"] == {"seed": 0}
    again, about = _kept(stem, make, {"seed": 1})
    assert again[0].target == "t2" and about == {"pairs": {"s": 1}} and len(made) == 2
    experience = tmp_path / "experience-1"
    assert _kept(experience, make) == _kept(experience, make) and len(made) == 3


def test_a_training_stopped_part_way_goes_on_from_its_checkpoint(tmp_path):
    """A run stopped after a checkpoint and started again ends with the adapter of a run never stopped; a
    checkpoint of other pairs or settings is not gone on from."""
    import shutil

    import torch

    from agent.training import finetune

    pairs = [(f"Sentence: The {a} is {b}.\nFOL:\n", f"{b.capitalize()}({a})") for a in ("cat", "dog", "bear", "mouse")
             for b in ("big", "red", "kind")]
    config = DistillConfig(steps=6, batch_size=4, warmup_steps=1)
    whole, _, whole_loss, _ = finetune(pairs, config, log=lambda line: None)

    class Stopped(Exception):
        pass

    def stop_at_step_5(step, loss):
        if step == 5:
            raise Stopped

    checkpoint = tmp_path / "training-checkpoint.pt"
    with pytest.raises(Stopped):
        finetune(pairs, config, checkpoint=checkpoint, every=2, on_step=stop_at_step_5, log=lambda line: None)
    assert checkpoint.is_file()  # of step 4
    other = tmp_path / "other.pt"
    shutil.copy(checkpoint, other)
    said = []
    finetune(pairs[:-1], config.model_copy(update={"steps": 1}), checkpoint=other, log=said.append)
    assert said == [f"{other} is of other pairs or settings: training from the start"]

    said = []
    resumed, _, loss, _ = finetune(pairs, config, checkpoint=checkpoint, every=2, log=said.append)
    assert said == [f"going on from step 4 of 6 ({checkpoint})"] and not checkpoint.exists()
    assert loss == pytest.approx(whole_loss, abs=1e-5)
    trained = [(a, b) for a, b in zip(whole.parameters(), resumed.parameters()) if a.requires_grad]
    assert trained and all(torch.allclose(a, b, atol=1e-6) for a, b in trained)
