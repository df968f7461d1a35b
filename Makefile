# The two commands of the quick start: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xgen-installed
CORE := $(VENV)/.xgen-core
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q

# llama-cpp-python builds from source: portable CPU code, no tools or examples.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
# pytest caches its assertion-rewritten modules as bytecode; without it every inner pytest
# run in the test suite rewrites Hypothesis again.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: install demo demo-live test test-fast lint models bench mutate clean

# Everything: the llama.cpp build (the `local` extra), the test and benchmark tools.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[local,dev,bench]'
	touch $(STAMP) $(CORE)

# The plugin (and the anthropic SDK, whose objects the hosted-API demo replays): enough to
# replay the committed cassettes, nothing to compile.
$(CORE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[anthropic]'
	touch $(CORE)

install: $(STAMP)

## demo: replay examples/ from the committed cassettes (core install, no llama.cpp build)
demo: $(CORE)
	$(BIN)/pytest examples $(ARGS)

## demo-live: install the embedded models (builds llama.cpp) and record examples/ anew
## (the hosted-API demo against the test suite's fake servers, see examples/record_hosted.py)
demo-live: $(STAMP)
	$(BIN)/pytest examples --xgen-record-mode=all --ignore=examples/test_hosted_demo.py $(ARGS)
	$(BIN)/python -m examples.record_hosted

## test: the test suite, on two workers
test: $(STAMP)
	$(BIN)/pytest -n 2 $(ARGS)

## test-fast: the unit tests only (tests/unit: no inner pytest runs, seconds)
test-fast: $(STAMP)
	$(BIN)/pytest tests/unit $(ARGS)

## bench: the performance benchmarks (docs/performance.md), e.g. ARGS="--only B1 --reps 3"
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(ARGS)

## mutate: mutation testing of core/, recording/ and checks/ with mutmut; prints the score per module
mutate: $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[mutate]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python -m benchmarks.mutation_score

lint: $(STAMP)
	$(BIN)/ruff check pytest_xgen tests examples benchmarks
	$(BIN)/ruff format --check pytest_xgen tests examples benchmarks
	$(BIN)/mypy

## models: assemble and verify the embedded model files under .xgen/models
models: $(STAMP)
	$(BIN)/xgen models --fetch

clean:
	rm -rf $(VENV) .xgen .pytest_cache .mypy_cache .ruff_cache mutants
