"""The regression tool: formulas proposed from a table of numbers (by the LLM and a generator), their constants
fitted, checked on held-out rows and scored."""
