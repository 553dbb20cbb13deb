"""FIX against binary order entry through the same gateway, in the same run: the real
engine daemon (journal fsync'd in batches) and the real gateway with its FIX acceptor on
loopback, driven by three FIX sessions and then three binary sessions of the same
accounts.

Writes bench/results/fix.json: for each protocol (``modes.fix``, ``modes.binary``)
closed-loop throughput with pipelined sessions (median of five runs after a warm-up),
latency with one order outstanding (``window1``) and open-loop latency at a fixed
offered rate, from the planned send time into an HDR histogram. Run with
``make bench-fix``.
"""

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "e2e")]

from fix_load import FixLoadSession  # noqa: E402
from load import LoadSession, closed_loop, new_histogram, open_loop  # noqa: E402
from run import RUN_SECONDS, RUNS, WINDOW, run_info, summary, write_results  # noqa: E402

from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
    free_port,
    wait_engine_up,
)

USERS = ["alice", "bob", "carol"]
RATE = 1000
RATE_SECONDS = 5.0
PRICE = 100_000


#: The FIX store's bound: above what a run sends (about 400 bytes of stored reports per
#: order), so that every run pays for storing every message, as a gateway sized for its
#: day does; a full store stops writing and would flatter the later runs.
STORE_MAX_BYTES = 4 << 30


def fix_toml(port: int, store: Path) -> str:
    comp_ids = ", ".join(f'"{u.upper()}"' for u in USERS)
    return (
        f'[fix]\nlisten = "127.0.0.1:{port}"\npeer_comp_ids = [{comp_ids}]\n'
        f'store_dir = "{store}"\nstore_max_bytes = {STORE_MAX_BYTES}\n'
        '[[fix.symbols]]\nsymbol = "XAU"\ninstrument = 1\nprice_decimals = 2\n'
    )


async def measure(sessions: list[Any], label: str) -> dict[str, Any]:
    """Throughput runs, window 1 and the open loop over logged-in ``sessions``."""
    for s in sessions:
        s.histogram = None
    await closed_loop(sessions, WINDOW, 2.0)
    runs = []
    for i in range(RUNS):
        runs.append(await closed_loop(sessions, WINDOW, RUN_SECONDS))
        print(f"{label} throughput run {i + 1}: {runs[-1]} orders/s", flush=True)
    one = sessions[0]
    one.histogram = new_histogram()
    await closed_loop([one], 1, RUN_SECONDS)
    latency = {"window1": summary(one.histogram)}
    print(f"{label} window1: {latency['window1']}", flush=True)
    one.histogram = new_histogram()
    lag = await open_loop(one, RATE, RATE_SECONDS)
    latency[str(RATE)] = summary(one.histogram)
    print(f"{label} {RATE}/s: {latency[str(RATE)]}", flush=True)
    return {
        "throughput_per_s": int(statistics.median(runs)),
        "latency_ns": latency,
        "extra": {
            "throughput_runs_per_s": runs,
            "rejected_orders": sum(s.rejected for s in sessions),
            "open_loop_send_lag": lag,
        },
    }


async def both(gateway: Gateway, fix_port: int) -> dict[str, Any]:
    first = 1_000_000_000
    fix_sessions = []
    for i, user in enumerate(USERS):
        f = FixLoadSession(user.upper(), first + i * 10_000_000, "1000")
        await f.open(fix_port, user, PASSWORD)
        fix_sessions.append(f)
    fix = await measure(fix_sessions, "fix")
    for f in fix_sessions:
        await f.close()
    binary_sessions = []
    for i, user in enumerate(USERS):
        b = LoadSession(first + (i + 5) * 10_000_000, PRICE)
        await b.open(gateway.port, user, PASSWORD)
        binary_sessions.append(b)
    binary = await measure(binary_sessions, "binary")
    for b in binary_sessions:
        await b.close()
    return {"fix": fix, "binary": binary}


def main() -> int:
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-fix-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        (workdir / "gateway").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        fix_port = free_port()
        gateway = Gateway(
            workdir / "gateway",
            engine.port,
            extra_toml=fix_toml(fix_port, workdir / "gateway" / "fix"),
            rate_per_s=0,
            max_backlog=1_000_000,
            journal_messages=200_000,
            write_buffer_bytes=1 << 20,
            idle_timeout_ms=30_000,
        )
        gateway.start()
        try:
            wait_engine_up(gateway)
            modes = uvloop.run(both(gateway, fix_port))
        finally:
            gateway.stop()
            engine.stop()
    fix, binary_mode = modes["fix"], modes["binary"]
    result = {
        "benchmark": "fix",
        "command": "make bench-fix",
        **run_info(),
        "throughput_per_s": fix["throughput_per_s"],
        "latency_ns": fix["latency_ns"],
        "modes": modes,
        "extra": {
            "fix_to_binary_throughput": round(
                fix["throughput_per_s"] / binary_mode["throughput_per_s"], 3
            ),
            "sessions": len(USERS),
            "window_per_session": WINDOW,
            "order": "IOC buy of 1 against an empty book (New, then Canceled)",
            "latency_from": "planned send time to the New ExecutionReport / Accepted",
            "journal_durability": "fsync",
            "fix_store": "every ExecutionReport written to the resend store before it is sent",
            "load_generators": (
                "both pre-build their orders and send a window in one write; the FIX one "
                "formats a window in one step and finds the answers' ClOrdIDs with one "
                "regular expression, so its CPU per order stays near the binary one's"
            ),
        },
    }
    write_results("fix", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
