# ringex: two commands a user needs — `make run` and `make test`. Both set up what they
# need on a fresh machine (Python venv and packages, Rust components, Debian packages).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test setup setup-python setup-rust bindings lint-rust lint-python \
        test-rust test-python bench-core clean

run: setup
	$(PY) -m ringex_engine.demo

test: setup lint-rust test-rust lint-python test-python

setup: setup-rust setup-python bindings

setup-rust:
	rustup component add clippy rustfmt >/dev/null

$(VENV)/.stamp: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup-python: $(VENV)/.stamp

# The bindings are rebuilt on every setup: maturin skips work when nothing changed.
bindings: setup-python
	$(VENV)/bin/maturin develop --release -q

# Tests build in the dev profile (the core itself is optimised there, see Cargo.toml):
# release's fat LTO per test binary would cost minutes and test nothing more.
lint-rust:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

lint-python:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-python:
	$(PY) -m pytest

bench-core:
	$(CARGO) run --release -p ringex-bench --bin bench-core

clean:
	rm -rf target $(VENV)
