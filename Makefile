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

# one stamp per set of extras, rebuilt when pyproject.toml changes.  setuptools warns, on every
# editable install, that a folder named like the package could shadow it: here that folder is the
# package, so the warning is silenced (PYTHONWARNINGS reaches pip's build backend)
QUIET := PYTHONWARNINGS=ignore
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(QUIET) $(BIN)/python -m pip install -q -e '.[$(subst +,$(comma),$*)]'
	touch $@

comma := ,

# gradcheck alone (numpy and hypothesis), no extras: what the demo needs
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(QUIET) $(BIN)/python -m pip install -q -e .
	touch $@

# The seeds' 4-layer network: code (1) passes (exit 0), code (2) fails with its diagnosis (exit 1).
demo: $(VENV)/.installed
	$(BIN)/gradcheck examples/seed.toml --impl examples/seeds_train.py:train_code1 --impl-kind step
	@echo
	@echo "Next, the seeds' code (2). Its backward pass is wrong, so gradcheck exits with status 1"
	@echo "and says why: that exit 1 is the expected result of this demo."
	@echo
	$(BIN)/gradcheck examples/seed.toml --impl examples/seeds_train.py:train_code2 --impl-kind step; \
	  status=$$?; test $$status -eq 1 || { echo "expected exit 1 for code (2), got $$status"; exit 1; }
	@echo
	@echo "demo done: code (1) passed (exit 0) and code (2) failed (exit 1), as expected."

test: $(VENV)/.installed-test+digits+plot
	$(BIN)/python -m pytest -n 2

# networks, then layers; torch 2.13.0 comes from the wheel in pip's find-links (/opt/wheels)
bench: $(VENV)/.installed-test+bench
	$(BIN)/python benchmarks/bench_gradcheck.py
	$(BIN)/python benchmarks/bench_layers.py

experiment: $(VENV)/.installed-test+digits+plot
	$(BIN)/python experiments/learning_rate.py --out results/experiment

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
