"""Locust load test through the gateway: the real engine daemon (journal fsync'd in
batches, its default) and the real gateway on loopback, started as bench-e2e starts
them, driven by locustfile.py run headless for a bounded time.

Writes bench/results/locust.json from locust's own statistics: order round trips per
second, their response-time percentiles (locust keeps whole milliseconds below 100 ms)
and failures, overall and per request name. Run with ``make bench-locust``.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "e2e")]

from run import journal_commits, run_info, write_results  # noqa: E402

from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
    wait_engine_up,
)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The test gateway limits dave's account to 5 orders a second: he stays out.
USERNAMES = ["alice", "bob", "carol", "erin"]
USERS = 16
SECONDS = 30
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99_9": 0.999}


def _figures(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests, failures, requests per second and response-time percentiles (ms) of
    locust's stats entries taken together, computed as locust computes them from the
    response-time counts it keeps (whole milliseconds below 100 ms, two significant
    digits above)."""
    counts: Counter[float] = Counter()
    for entry in entries:
        counts.update({float(ms): n for ms, n in entry["response_times"].items()})
    requests = sum(e["num_requests"] for e in entries)
    seconds = max(e["last_request_timestamp"] for e in entries) - min(
        e["start_time"] for e in entries
    )
    percentiles: dict[str, float] = {}
    below = 0
    for ms, n in sorted(counts.items()):
        below += n
        for key, fraction in PERCENTILES.items():
            if key not in percentiles and below >= fraction * requests:
                percentiles[key] = ms
    return {
        "requests": requests,
        "failures": sum(e["num_failures"] for e in entries),
        "requests_per_s": round(requests / seconds, 1),
        "response_time_ms": percentiles
        | {
            "avg": round(sum(e["total_response_time"] for e in entries) / requests, 3),
            "max": round(max(e["max_response_time"] for e in entries), 3),
        },
    }


def run_locust(
    gateway_port: int, usernames: list[str], users: int, seconds: int, workdir: Path
) -> tuple[int, dict[str, Any]]:
    """Runs locustfile.py headless with ``users`` sessions for ``seconds``; returns
    locust's exit status (non-zero after any failed request or error in a user) and
    the figures of its final statistics: all requests, then ``by_request`` name."""
    stats = workdir / "locust.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "--locustfile",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            f"127.0.0.1:{gateway_port}",
            "--ringex-users",
            ",".join(usernames),
            "--json-file",
            str(stats.with_suffix("")),  # locust adds .json
        ],
        env=os.environ | {"RINGEX_PASSWORD": PASSWORD},
        timeout=seconds + 60,
        check=False,
    )
    entries = json.loads(stats.read_text()) if stats.exists() else []
    if not entries:
        raise RuntimeError(f"locust recorded no requests (exit status {done.returncode})")
    return done.returncode, _figures(entries) | {
        "by_request": {e["name"]: _figures([e]) for e in entries}
    }


def main() -> int:
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-locust-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        (workdir / "gateway").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        gateway = Gateway(workdir / "gateway", engine.port, rate_per_s=0, idle_timeout_ms=30_000)
        gateway.start()
        try:
            wait_engine_up(gateway)
            status, figures = run_locust(gateway.port, USERNAMES, USERS, SECONDS, workdir)
        finally:
            gateway.stop()
            engine.stop()
        commits = journal_commits((workdir / "engine" / "engine-1.log").read_text())
    ms = figures["response_time_ms"]
    result = {
        "benchmark": "locust",
        "command": "make bench-locust",
        **run_info(),
        "throughput_per_s": figures["requests_per_s"],
        "latency_ns": {
            f"users{USERS}": {key: int(ms[key] * 1_000_000) for key in [*PERCENTILES, "max"]}
            | {"count": figures["requests"]}
        },
        "extra": {
            "users": USERS,
            "run_seconds": SECONDS,
            "requests": figures["requests"],
            "failures": figures["failures"],
            "locust_exit_status": status,
            "response_time_avg_ms": ms["avg"],
            "by_request": figures["by_request"],
            "journal_durability": "fsync",
            "load": "closed loop: each user sends its next order when the last is answered",
            "latency_from": "send to the answer at the client, as locust times a request",
        }
        | commits,
    }
    write_results("locust", result)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
