"""The regress tool's entry in the registry (tools/registry.py): what it answers, how it recognises its tasks and
is built, its evidence, answer lines, batch files and training. Kept apart from the package, so that importing one
of its modules (a worker process) does not import the whole tool."""

from pathlib import Path

from tools.registry import Builder, Files, ToolSpec, Training
from tools.regress import files, pairs
from tools.regress.input import RegressInput, recognise
from tools.regress.tool import RegressResult, RegressTool

ADAPTER = Path(__file__).resolve().parent / "adapter"  # the shipped distilled formula proposer (LoRA adapter and card)


def build(builder: Builder) -> RegressTool:
    """Without an LLM proposer (none shipped, no remote model), the generator proposes alone."""
    return RegressTool(builder.llm(), **builder.options)


SPEC = ToolSpec(training=Training(pairs=pairs.pairs, card_intro=pairs.card_intro, card_file="proposer.json",
                                 compared="the form", column="prompt", generated=6000, max_new_tokens=48),
                files=Files(read=files.read, record=files.record, summary=files.summary, unit="files"),
                name="regress", order=10, input=RegressInput, recognise=lambda text, tool: recognise(text), build=build,
                result=RegressResult, adapter=ADAPTER, what="the formula proposer",
                answers="a table of numbers (a header of column names, then rows), explained by a fitted formula")
