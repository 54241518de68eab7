"""The regress tool's entry in the registry (tools/registry.py)."""

from pathlib import Path

from tools.registry import Files, ToolSpec, Training
from tools.regress import files, iterate, pairs
from tools.regress.input import RegressInput, recognise
from tools.regress.tool import RegressResult, RegressTool

HERE = Path(__file__).resolve().parent

# Without an LLM proposer (none shipped, no remote model), the generator proposes alone.
SPEC = ToolSpec(name="regress", order=10, input=RegressInput, result=RegressResult, files=Files.of(files, unit="files"),
                answers="a table of numbers (a header of column names, then rows), explained by a fitted formula",
                recognise=lambda text, tool: recognise(text), build=lambda b: RegressTool(b.llm(), **b.options),
                adapter=HERE / "adapter", card=HERE / "card.js", what="the formula proposer",
                training=Training(pairs=pairs.pairs, card_intro=pairs.card_intro, card_file="proposer.json",
                                  compared="the form", column="prompt", generated=6000, max_new_tokens=48,
                                  experience=iterate.experience))
