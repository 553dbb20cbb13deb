#!/usr/bin/env bash
# The local exchange of `make run`: the engine daemon with its built-in demo
# configuration as a one-node Raft cluster, and the gateway in front of it, both on
# loopback. Ctrl-C stops both (the engine drains and fsyncs on SIGTERM).
set -euo pipefail
engine_bin=$1
gateway_bin=$2
here=$(cd "$(dirname "$0")" && pwd)

"$engine_bin" --config "$here/engine.toml" &
engine_pid=$!
gateway_pid=
stop() {
    [ -n "$gateway_pid" ] && kill -TERM "$gateway_pid" 2>/dev/null && wait "$gateway_pid" || true
    kill -TERM "$engine_pid" 2>/dev/null && wait "$engine_pid" || true
}
trap stop EXIT INT TERM

mkdir -p ringex-data/gateway
"$gateway_bin" --config "$here/gateway.toml" &
gateway_pid=$!

cat <<'TEXT'

ringex is running on loopback:
  clients  127.0.0.1:7701   users alice / bob (traders), carol (read-only);
                            password "<username>-demo"
  engine   127.0.0.1:7700   (engine link, for gateways; a one-node Raft cluster)
  metrics  http://127.0.0.1:9701/metrics (gateway), http://127.0.0.1:9711/metrics (engine)
Instruments 1 (tick 1, ref 100000) and 2 (tick 5, lot 10, ref 25000).
Try: .venv/bin/python examples/trade.py     Ctrl-C stops both.

TEXT
wait "$gateway_pid"
