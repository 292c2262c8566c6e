# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit install-test mutation clean
# install-test, then the checks in order: never in parallel
.NOTPARALLEL:

$(BIN)/python:
	tools/make-venv $(PYTHON) $(VENV)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

## demo: create .venv, install idkarta, run the main job on the embedded defaults
demo: $(VENV)/.installed-demo
	$(BIN)/idkarta demo

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@# pyscard builds against libpcsclite with swig; required in CI, optional elsewhere.
	$(BIN)/pip install -q -e '.[pcsc]' || { [ "$$CI" != true ] && echo "make: pyscard not installed; PC/SC tests will be skipped" >&2; }
	touch $@

install-test:
	tools/system-deps
	$(MAKE) $(VENV)/.installed-test

lint: install-test
	$(BIN)/ruff check src tests benchmarks tools

typecheck: install-test
	$(BIN)/mypy

unit: install-test
	$(BIN)/pytest -n auto

## test: install the system components and test extras, then ruff, mypy (strict) and pytest
test: lint typecheck unit

## mutation: mutmut over the security-critical modules (all, or MODULE=idcard/sm.py), with the
## tests of each (pyproject.toml [tool.idkarta.mutation]); slow, not part of `make test`
MODULE ?=
JOBS ?= 1
mutation: install-test
	$(BIN)/python tools/mutation --jobs $(JOBS) $(MODULE)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
