"""End-to-end benchmark through the gateway: the real engine daemon (journal fsync'd in
batches, its default) and the real gateway on loopback, driven by raw client sessions.

Writes bench/results/e2e.json: closed-loop throughput with pipelined clients (median
of five runs after a warm-up), latency with one order outstanding ("window1"), and
open-loop latency at fixed offered rates, each from the planned send time into an HDR
histogram. Run with ``make bench-e2e``.
"""

import asyncio
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import uvloop
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from load import LoadSession, closed_loop, new_histogram, open_loop  # noqa: E402

from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
    wait_engine_up,
)

USERS = ["alice", "bob", "carol"]
WINDOW = 64
RUNS = 5
RUN_SECONDS = 3.0
RATES = [1000, 5000, 20000]
RATE_SECONDS = 5.0
PRICE = 100_000
# The gateway reads its native counters into /metrics about every quarter second.
_METRICS_REFRESH_S = 0.5


def summary(h: HdrHistogram) -> dict[str, int]:
    """The percentiles the results format names, in nanoseconds."""
    at = h.get_value_at_percentile
    return {
        "p50": at(50),
        "p90": at(90),
        "p99": at(99),
        "p99_9": at(99.9),
        "p99_99": at(99.99),
        "max": h.get_max_value(),
        "count": h.get_total_count(),
    }


def run_info() -> dict[str, Any]:
    """Where and when the figures were taken."""
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "git_sha": sha,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_results(name: str, result: dict[str, Any]) -> None:
    """Writes ``result`` to ``bench/results/<name>.json`` and says so."""
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def journal_commits(engine_log: str) -> dict[str, int]:
    """The engine's own count of group commits, from its shutdown log line: a large
    largest commit marks an fsync stall, which the latency tail then shows."""
    figures: dict[str, int] = {}
    for key in ("commits", "inputs", "largest_commit_inputs"):
        found = re.search(rf"group commits.* {key}=(\d+)", engine_log)
        if found:
            figures[f"engine_journal_{key}"] = int(found.group(1))
    return figures


def gateway_latency(metrics_port: int) -> dict[float, float]:
    """The gateway's own order latency histogram (an order arriving from a client to its
    engine events arriving back: the engine link, journal and matcher, without the
    client hops), cumulative counts by upper bound in seconds, with the sum under -1."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    counts: dict[float, float] = {}
    for found in re.finditer(
        r'^ringex_gateway_order_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M
    ):
        counts[float(found.group(1))] = float(found.group(2))
    found_sum = re.search(r"^ringex_gateway_order_latency_seconds_sum (\S+)$", text, re.M)
    counts[-1.0] = float(found_sum.group(1)) if found_sum else 0.0
    return counts


def engine_side(before: dict[float, float], after: dict[float, float]) -> dict[str, float]:
    """What the gateway measured between two scrapes: how many orders, their mean, the
    bucket bounds their p90 and p99 fall under, and the share over 1 ms."""
    count = after[float("inf")] - before[float("inf")]
    if not count:
        return {"orders": 0}
    bounds = sorted(b for b in after if b >= 0)

    def at_most_ns(fraction: float) -> float:
        bound = next(b for b in bounds if after[b] - before[b] >= fraction * count)
        return bound * 1e9 if bound != float("inf") else bound

    return {
        "orders": count,
        "mean_ns": round((after[-1.0] - before[-1.0]) / count * 1e9),
        "p90_at_most_ns": at_most_ns(0.9),
        "p99_at_most_ns": at_most_ns(0.99),
        "over_1ms_fraction": round(1 - (after[0.001] - before[0.001]) / count, 5),
    }


async def sessions_for(port: int, users: list[str], first_coid: int) -> list[LoadSession]:
    sessions = []
    for i, user in enumerate(users):
        s = LoadSession(first_coid + i * 10_000_000, PRICE)
        await s.open(port, user, PASSWORD)
        sessions.append(s)
    return sessions


async def measure(port: int, metrics_port: int) -> dict[str, Any]:
    first = time.time_ns() // 1000 % (1 << 40) * 1000
    sessions = await sessions_for(port, USERS, first)
    for s in sessions:
        s.histogram = None  # throughput runs time nothing
    print("warm-up", flush=True)
    await closed_loop(sessions, WINDOW, 2.0)
    runs = []
    for i in range(RUNS):
        runs.append(await closed_loop(sessions, WINDOW, RUN_SECONDS))
        print(f"throughput run {i + 1}: {runs[-1]} orders/s", flush=True)
    latency: dict[str, dict[str, int]] = {}
    send_lag: dict[str, dict[str, float]] = {}
    engine: dict[str, dict[str, float]] = {}
    one = sessions[0]
    one.histogram = new_histogram()
    await asyncio.sleep(_METRICS_REFRESH_S)
    before = gateway_latency(metrics_port)
    await closed_loop([one], 1, RUN_SECONDS)
    await asyncio.sleep(_METRICS_REFRESH_S)
    engine["window1"] = engine_side(before, gateway_latency(metrics_port))
    latency["window1"] = summary(one.histogram)
    print(f"window1: {latency['window1']}", flush=True)
    for rate in RATES:
        one.histogram = new_histogram()
        await asyncio.sleep(_METRICS_REFRESH_S)
        before = gateway_latency(metrics_port)
        send_lag[str(rate)] = await open_loop(one, rate, RATE_SECONDS)
        await asyncio.sleep(_METRICS_REFRESH_S)
        engine[str(rate)] = engine_side(before, gateway_latency(metrics_port))
        latency[str(rate)] = summary(one.histogram)
        print(f"{rate}/s: {latency[str(rate)]}, sends late: {send_lag[str(rate)]}", flush=True)
    rejected = sum(s.rejected for s in sessions)
    for s in sessions:
        await s.close()
    return {
        "throughput_per_s": int(statistics.median(runs)),
        "latency_ns": latency,
        "extra": {
            "throughput_runs_per_s": runs,
            "sessions": len(sessions),
            "window_per_session": WINDOW,
            "run_seconds": RUN_SECONDS,
            "open_loop_seconds": RATE_SECONDS,
            "rejected_orders": rejected,
            "journal_durability": "fsync",
            "order": "IOC buy of 1 against an empty book (Accepted, then Cancelled)",
            "latency_from": "planned send time to the Accepted message at the client",
            "open_loop_send_lag": send_lag,
            "gateway_to_engine_and_back": engine,
            "reading_the_tail": (
                "engine_journal_largest_commit_inputs above the whole window "
                f"({len(sessions) * WINDOW}) means an fsync stall held a group commit "
                "(on the benchmark machine fdatasync took up to 181 ms while other "
                "processes wrote to the disk); gateway_to_engine_and_back bounds the "
                "engine leg as the gateway measures it; open_loop_send_lag is the load "
                "generator's own lateness. gateway/PROFILE.md has the breakdown."
            ),
        },
    }


def main() -> int:
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-e2e-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        (workdir / "gateway").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        gateway = Gateway(
            workdir / "gateway",
            engine.port,
            rate_per_s=0,
            max_backlog=1_000_000,
            journal_messages=200_000,
            write_buffer_bytes=1 << 20,
            idle_timeout_ms=30_000,
        )
        gateway.start()
        try:
            wait_engine_up(gateway)
            figures = uvloop.run(measure(gateway.port, gateway.metrics_port))
        finally:
            gateway.stop()
            engine.stop()
        figures["extra"] |= journal_commits((workdir / "engine" / "engine-1.log").read_text())
    result = {"benchmark": "e2e", "command": "make bench-e2e", **run_info(), **figures}
    write_results("e2e", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
