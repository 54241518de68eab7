"""The logic tool: premises and a question translated into first-order logic (or an answer-set program) by
the LLM and decided by a prover (or clingo), with a vote over translations."""
