# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml
OUT ?= out/baseline

.PHONY: run test test-slow bench bench-scale fuzz policies joint-ads clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/xbsim run $(SCENARIO) --out $(OUT)

test: $(VENV)/.installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

test-slow: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m slow

bench: $(VENV)/.installed
	$(BIN)/python -m experiments.bench.sim_speed
	$(BIN)/python -m experiments.bench.optimize_speed
	$(BIN)/python -m experiments.bench.rolling_speed
	$(BIN)/python -m experiments.bench.sweep_speed
	$(BIN)/python -m experiments.bench.tune_speed
	$(BIN)/python -m experiments.bench.data_speed

bench-scale: $(VENV)/.installed
	$(BIN)/python -m experiments.bench.scale

fuzz: $(VENV)/.installed
	$(BIN)/python -m experiments.fuzz --cases 5000

policies: $(VENV)/.installed
	$(BIN)/python -m experiments.studies.policy_comparison scenarios/baseline.yaml \
		scenarios/peak_season.yaml --replications 10 --out out/policies

joint-ads: $(VENV)/.installed
	$(BIN)/python -m experiments.studies.joint_ads scenarios/peak_season.yaml \
		--replications 20 --out out/joint_ads

clean:
	rm -rf $(VENV) out .pytest_cache
