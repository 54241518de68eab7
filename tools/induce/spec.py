"""The induce tool's entry in the registry (tools/registry.py): what it answers, how it recognises its tasks and
is built, its evidence, answer lines, batch files and training. Kept apart from the package, so that importing one
of its modules (a worker process) does not import the whole tool."""

from pathlib import Path

from tools.induce import files, pairs
from tools.induce.input import InduceInput, recognise
from tools.induce.tool import InduceResult, InduceTool
from tools.registry import Builder, Files, ToolSpec, Training

ADAPTER = Path(__file__).resolve().parent / "adapter"  # the shipped distilled program proposer (LoRA adapter and card)


def build(builder: Builder) -> InduceTool:
    """Without an LLM proposer (none shipped, no remote model), the enumerator proposes alone."""
    return InduceTool(builder.llm(), **builder.options)


SPEC = ToolSpec(training=Training(pairs=pairs.pairs, card_intro=pairs.card_intro, card_file="proposer.json",
                                 compared="the program", generated=3000),
                files=Files(read=files.read, record=files.record, summary=files.summary, unit="tasks"),
                name="induce", order=20, input=InduceInput, recognise=lambda text, tool: recognise(text), build=build,
                result=InduceResult, adapter=ADAPTER, what="the program proposer",
                answers="input -> output examples, explained by a program that is then applied to new inputs")
