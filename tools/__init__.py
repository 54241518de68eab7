"""The symbolic tools, one package each (tools/<name>/); tools/registry.py lists them, and any installed ones.

    kg       relation plans over a knowledge graph, grounded by graph search (tools/kg/)
    logic    premises and a question, translated to first-order logic or ASP and decided by a prover
    induce   input/output examples, explained by a Python program verified in a sandbox
    regress  a table of numbers, explained by a formula whose constants are fitted
"""
