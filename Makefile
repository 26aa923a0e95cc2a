# synthgov: `make demo` and `make test` work on a fresh clone; each creates .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean bench bench-peers peer-reference

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m synthgov.demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check synthgov tests docs benchmarks
	$(BIN)/ruff format --check synthgov tests docs benchmarks

# Performance figures (docs/benchmarks.md); never part of `make test`.
bench: $(STAMP)
	$(BIN)/python benchmarks/check_scale.py
	$(BIN)/python benchmarks/evaluate_scale.py
	$(BIN)/python benchmarks/verify_scale.py

# The peers (SDMetrics, Anonymeter) live in their own venv: they pin numpy < 1.27.
PEERS := .venv-peers
$(PEERS)/.installed: benchmarks/peers-requirements.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet -r benchmarks/peers-requirements.txt
	touch $(PEERS)/.installed

bench-peers: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/evaluate_vs_peers.py --peer-python $(PEERS)/bin/python

# Recompute tests/data/peers/peer_values.json (only when the reference tables or the peers change).
peer-reference: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/peer_reference.py --peer-python $(PEERS)/bin/python

clean:
	rm -rf $(VENV) $(PEERS) build .pytest_cache .hypothesis
