"""The induction tool: programs proposed from input/output examples (by the LLM and an enumerator), verified
in the sandbox, and applied to the test inputs."""
