# Every target sets up .venv from nothing; torch is pinned to the CPU build via constraints.txt.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: venv demo test bench lint clean

venv: $(STAMP)

CSRC := $(shell find csrc -name '*.cpp' -o -name '*.h' -o -name '*.cu')

# The C++ extension (csrc/) is compiled here, against the venv's torch, never on first use.
$(STAMP): pyproject.toml setup.py constraints.txt $(CSRC)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel ninja
	$(PIP) install --quiet -c constraints.txt torch==2.13.0 numpy
	$(PIP) install --quiet -c constraints.txt --no-build-isolation -e ".[test,dev]"
	$(PY) -c "import xai_fast.backends as b; print('xai_fast backends:', b.available())"
	$(PY) -m xai_fast._runtime.warm_cache
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m xai_fast demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest -q tests
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider --markdown-docs README.md docs

bench: $(STAMP)
	$(PY) -m xai_fast bench --quick

lint: $(STAMP)
	$(VENV)/bin/ruff check xai_fast tests benchmarks
	$(VENV)/bin/ruff format --check xai_fast tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info xai_fast/*.so
