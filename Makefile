# Every target sets up .venv from nothing; torch is pinned to the CPU build via constraints.txt.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: venv demo test bench lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	$(PIP) install --quiet -c constraints.txt --no-build-isolation -e ".[test,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) benchmarks/demo_breast_cancer.py

test: $(STAMP)
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) benchmarks/bench_kernel_shap.py

lint: $(STAMP)
	$(VENV)/bin/ruff check xai_fast tests benchmarks
	$(VENV)/bin/ruff format --check xai_fast tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
