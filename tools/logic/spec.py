"""The logic tool's entry in the registry (tools/registry.py)."""

from pathlib import Path

from tools.logic import files, iterate, pairs
from tools.logic.input import LogicInput, recognise
from tools.logic.tool import LogicResult, LogicTool
from tools.registry import Builder, Files, ToolSpec, Training

HERE = Path(__file__).resolve().parent


def build(builder: Builder) -> LogicTool:
    return LogicTool(builder.llm(required=True), **builder.options)


def lines(answer) -> list[str]:
    """The verdict, then each sentence beside the formula of the translation that carried the vote, and the vote."""
    result = answer.grounding
    out = [answer.message]
    if isinstance(result, LogicResult) and result.samples:
        chosen = result.samples[result.winner if result.winner is not None else 0]
        out += [f"{sentence} -> {formula}" for sentence, formula in zip(result.premises, chosen.premises)]
        if result.conclusion is not None:
            out.append(f"Conclusion: {result.conclusion} -> {chosen.conclusion}")
        out += [f"Option {letter}: {dict(result.options).get(letter, '')} -> {condition}" for letter, condition in chosen.options.items()]
        out.append(f"{result.why}; votes: {result.votes}")
    return out


SPEC = ToolSpec(training=Training(pairs=pairs.pairs, card_intro=pairs.card_intro, card_file="translator.json",
                                 compared="the translation", steps=600, batch_size=16, max_validation=300, generated=1500,
                                 experience=iterate.experience),
                files=Files.of(files, unit="problems"),
                name="logic", order=30, input=LogicInput, recognise=lambda text, tool: recognise(text), build=build,
                result=LogicResult, lines=lines, adapter=HERE / "adapter", card=HERE / "card.js", what="the logic translator",
                answers="premises with a question or conclusion to decide (true, false or uncertain)")
