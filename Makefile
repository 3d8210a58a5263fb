# Each target creates .venv and installs what it needs, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HYPOTHESIS_PROFILE ?= dev
export HYPOTHESIS_PROFILE

.PHONY: demo test bench experiment clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# one stamp per set of extras, rebuilt when pyproject.toml changes
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$(subst +,$(comma),$*)]'
	touch $@

comma := ,

demo: $(VENV)/.installed-test
	$(BIN)/python examples/demo.py

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed-test+bench
	$(BIN)/python benchmarks/bench_gradcheck.py

experiment: $(VENV)/.installed-test+digits+plot
	$(BIN)/gradcheck-experiment --out results/experiment

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
