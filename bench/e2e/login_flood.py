"""Order entry while wrong logins flood the gateway: one session's order round trips
(NewOrder sent to Accepted received, one at a time) measured quiet, then while one
address keeps sending wrong logins (1,000 connections per wave, 100 at a time), with the
gateway's production password cost and login settings; five rounds of both, alternated,
so a noisy neighbour on the machine hits both phases alike.

Writes bench/results/login_flood.json: the median of the rounds' p99s for both phases
and their ratio (the bound is 2x), every round's figures, a correct login's time from
another address during each flood, and the flood's answers and rate. Run with
``.venv/bin/python bench/e2e/login_flood.py``.
"""

import asyncio
import functools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from run import run_info, write_results  # noqa: E402

from ringex_client import Accepted, Client, Message  # noqa: E402
from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
    wait_engine_up,
)
from tests.wrong_logins import timed_login, wrong_logins  # noqa: E402

ROUNDS = 5
ORDERS = 1000
WAVE = 1000
PRICE = 101_000


def accepted(client_order_id: int, message: Message) -> bool:
    return isinstance(message, Accepted) and message.client_order_id == client_order_id


def round_trips_us(client: Client, count: int) -> list[float]:
    """Microseconds from each NewOrder's send to its Accepted."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.wait_for(functools.partial(accepted, client.sell(1, 1, PRICE)))
        times.append((time.perf_counter() - start) * 1e6)
    client.mass_cancel()
    client.poll(0.3)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def flood_until(port: int, stop: "EventType", answers: "Queue[Counter[str]]") -> None:
    """In its own process, so the flood does not share the measuring client's GIL, and
    at the lowest CPU priority: on a small machine the flood's sender would otherwise
    take the cores the gateway and engine need, which a remote attacker cannot."""
    os.nice(19)
    total: Counter[str] = Counter()
    while not stop.is_set():
        total.update(asyncio.run(wrong_logins(port, WAVE)))
    answers.put(total)


def flooded_round_trips(
    client: Client, port: int
) -> tuple[list[float], float, Counter[str], float]:
    """Round trips while a flood runs; also a correct login's time from 127.0.0.2,
    the flood's answers and its rate (logins a second)."""
    spawn = multiprocessing.get_context("spawn")
    stop, results = spawn.Event(), spawn.Queue()
    flood = spawn.Process(target=flood_until, args=(port, stop, results))
    flood.start()
    time.sleep(0.3)
    login_s = timed_login(port, "127.0.0.2", "bob", PASSWORD)
    start = time.monotonic()
    times = round_trips_us(client, ORDERS)
    stop.set()
    answers: Counter[str] = results.get(timeout=120)
    elapsed = time.monotonic() - start
    flood.join(30)
    return times, login_s, answers, sum(answers.values()) / elapsed


def measure(gateway: Gateway) -> dict[str, object]:
    quiet_p99: list[float] = []
    flood_p99: list[float] = []
    logins: list[float] = []
    answers: Counter[str] = Counter()
    rates: list[float] = []
    with Client("127.0.0.1", gateway.port, "erin", PASSWORD) as client:
        round_trips_us(client, 200)  # warm-up
        for _ in range(ROUNDS):
            quiet_p99.append(percentile(round_trips_us(client, ORDERS), 99))
            times, login_s, round_answers, rate = flooded_round_trips(client, gateway.port)
            flood_p99.append(percentile(times, 99))
            logins.append(login_s)
            answers.update(round_answers)
            rates.append(rate)
    quiet, flood = statistics.median(quiet_p99), statistics.median(flood_p99)
    return {
        "rounds": ROUNDS,
        "orders_per_phase": ORDERS,
        "quiet_p99_us": round(quiet, 1),
        "flood_p99_us": round(flood, 1),
        "p99_ratio": round(flood / quiet, 2),
        "per_round_quiet_p99_us": [round(v, 1) for v in quiet_p99],
        "per_round_flood_p99_us": [round(v, 1) for v in flood_p99],
        "correct_login_during_flood_s": [round(v, 3) for v in logins],
        "flood_logins_per_s": [round(v) for v in rates],
        "wrong_logins_sent": sum(answers.values()),
        "wrong_login_answers": dict(answers),
    }


def main() -> int:
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-login-flood-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        (workdir / "gateway").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        gateway = Gateway(
            workdir / "gateway",
            engine.port,
            password_cost=1 << 14,
            rate_per_s=0,
            max_backlog=1_000_000,
            journal_messages=200_000,
            write_buffer_bytes=1 << 20,
        )
        gateway.start()
        try:
            wait_engine_up(gateway)
            figures = measure(gateway)
        finally:
            gateway.stop()
            engine.stop()
    command = ".venv/bin/python bench/e2e/login_flood.py"
    result = {"benchmark": "login_flood", "command": command, **run_info(), **figures}
    write_results("login_flood", result)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
