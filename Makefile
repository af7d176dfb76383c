# devolve: two commands on a fresh machine.
#   make demo   create .venv, install, run the main job on Greater Manchester
#   make test   create .venv, install, start what the tests need, run the whole suite
#   make bench  run the benchmarks (results in benchmarks/results/*.json)

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench services clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (devolve needs Python 3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/devolve run greater-manchester-2016 --out out/greater-manchester-2016
	@echo "Open out/greater-manchester-2016/report.html in a browser (it works offline)."

services:
	@bash scripts/start-services.sh

test: $(STAMP) services
	$(PY) -m pytest -q

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	@for script in benchmarks/[!_]*.py; do case $$script in *_reference.py) continue;; esac; \
		echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
