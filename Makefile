# ringex: two commands a user needs — `make run` and `make test`. Both set up what they
# need on a fresh machine (Python venv and packages, Rust components, Debian packages).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test setup setup-apt setup-python setup-rust bindings lint-rust lint-python \
        test-rust test-python chaos bench-core bench-daemon bench-daemon-against bench-durability bench-replication bench-replication-sustained bench-e2e bench-fix bench-locust \
        bench-marketdata bench-localbook demo \
        clean gateway \
        client

# The local exchange: the engine daemon with its built-in configuration (demo instruments
# and accounts, data in ./ringex-data, engine link on 127.0.0.1:7700) and the gateway
# (ops/local/gateway.toml: clients on 127.0.0.1:7701). Ctrl-C drains and stops both.
run: setup
	$(CARGO) build --release -p ringex-engine --bin ringex-engine
	ops/local/run.sh target/release/ringex-engine $(VENV)/bin/ringex-gateway

demo: setup
	$(PY) -m ringex_engine.demo

test: setup lint-rust test-rust lint-python test-python

setup: setup-apt setup-rust setup-python bindings client gateway

# Debian packages: prometheus (the server and promtool) for the system tests of
# ops/prometheus/. The package's own service is not needed: tests start their own server.
# iptables: the chaos run's silent packet drops, inside a network namespace of its own.
# systemd: systemd-analyze, which checks the units of ops/systemd.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
setup-apt:
	command -v prometheus >/dev/null || ($(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus)
	command -v iptables >/dev/null || ($(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y iptables)
	command -v systemd-analyze >/dev/null || ($(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y systemd)

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

# The client library, then the gateway (with its native codec), installed editable.
client: setup-python
	$(PY) -m pip install -q -e clients/python
gateway: client
	cd gateway && VIRTUAL_ENV=$(CURDIR)/$(VENV) $(CURDIR)/$(VENV)/bin/maturin develop --release -q

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

# A long fault-injection run: N seeded faults (SEED replays a failed run's schedule),
# on one engine node, and on NODES (3) when the engine has cluster mode.
N ?= 200
NODES ?= 3
chaos: setup
	CHAOS_CYCLES=$(N) CHAOS_SEED=$(SEED) CHAOS_NODES=$(NODES) $(PY) -m pytest tests/test_chaos.py -x -s

bench-core:
	$(CARGO) run --release -p ringex-bench --bin bench-core

bench-daemon:
	$(CARGO) run --release -p ringex-bench --bin bench-daemon

# The daemon's closed-loop throughput against an earlier build's, alternated in one
# sitting (default: 43bbc7f, the embedded journal pipeline before Raft):
# bench/results/daemon_against.json.
bench-daemon-against: setup
	$(PY) bench/daemon/against_earlier.py

# Real ringex-engine processes on 127.0.0.1-3: the default lone node and a 3-node cluster,
# failover, replication lag and catch-up: bench/results/replication.json.
bench-replication:
	$(CARGO) build --release -p ringex-engine --bin ringex-engine
	$(CARGO) run --release -p ringex-bench --bin bench-replication -- --engine target/release/ringex-engine

# Three nodes under closed loop for SUSTAIN_S seconds (default 180) through several log compactions:
# elections meanwhile and the time compactions held the log:
# bench/results/replication_sustained.json.
SUSTAIN_S ?= 180
bench-replication-sustained:
	$(CARGO) build --release -p ringex-engine --bin ringex-engine
	$(CARGO) run --release -p ringex-bench --bin bench-replication -- --engine target/release/ringex-engine \
		--sustain $(SUSTAIN_S) --out bench/results/replication_sustained.json

# Whole-journal verification speed and start times on a 10M-command journal:
# bench/results/durability.json.
bench-durability:
	$(CARGO) run --release -p ringex-bench --bin bench-durability

# Through the gateway to the daemon and back, fsync on: bench/results/e2e.json.
bench-e2e: setup
	$(PY) bench/e2e/run.py

# FIX order entry against binary through the same gateway, in the same run: throughput
# and latency of each, bench/results/fix.json.
bench-fix: setup
	$(PY) bench/fix/fix_bench.py

# Feeds through the gateway: feed messages/s with 1, 10 and 100 subscribers, engine stamp
# to a subscriber's LocalBook updated, order entry with 100 subscribers against none:
# bench/results/marketdata.json.
bench-marketdata: setup
	$(PY) bench/marketdata/measure_feeds.py

# A client's LocalBook alone: CPU per feed message split, decoded and applied, on a
# feed the engine makes in-process, no network: bench/results/local_book.json.
bench-localbook: setup
	$(PY) bench/marketdata/local_book_cost.py

# Locust (bench/locust/locustfile.py) driving the gateway for 30 s with 16 sessions, daemon
# and gateway started as for bench-e2e: bench/results/locust.json.
bench-locust: setup
	$(PY) bench/locust/run_locust.py

clean:
	rm -rf target $(VENV)
