"""The induce tool's entry in the registry (tools/registry.py)."""

from pathlib import Path

from tools.induce import files, iterate, pairs
from tools.induce.input import InduceInput, recognise
from tools.induce.tool import InduceResult, InduceTool
from tools.registry import Files, ToolSpec, Training

HERE = Path(__file__).resolve().parent

# Without an LLM proposer (none shipped, no remote model), the enumerator proposes alone.
SPEC = ToolSpec(name="induce", order=20, input=InduceInput, result=InduceResult, files=Files.of(files, unit="tasks"),
                answers="input -> output examples, explained by a program that is then applied to new inputs",
                recognise=lambda text, tool: recognise(text), build=lambda b: InduceTool(b.llm(), **b.options),
                adapter=HERE / "adapter", card=HERE / "card.js", what="the program proposer",
                training=Training(pairs=pairs.pairs, card_intro=pairs.card_intro, card_file="proposer.json",
                                  compared="the program", generated=3000,
                                  experience=iterate.experience))
