"""The cost of feed subscribers on order entry, measured in pairs: closed-loop order
throughput with none of the audience's sessions subscribed and with all of them,
back to back, over many short pairs rather than a few long runs, the side that goes
first alternating from pair to pair so a drift in the machine's load falls on both
sides alike. Each pair gives its own ratio (1 - with / without); the figure is their
median, written with their quartiles and range. The CPU each process (and the
gateway's socket writer thread) spent per order on each side says where the cost went.

Each pair also has a side with one subscriber next to it: its ratio to the side
without says how much of the cost comes with any feed at all (the socket writer and a
subscriber woken at every engine batch) and how much with the fan-out's size. Beyond
that is a control side: none subscribed and the machine's idle CPU filled by busy
loops in the idle scheduling class (see :mod:`idle_fill`); its ratio to the pair's
side without subscribers is the cost of merely keeping these CPUs busy, measured in
the same run.
"""

import asyncio
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audience import Audience
from idle_fill import IdleFill
from load import LoadSession, closed_loop
from trading_day import new_day

# Short sides, many pairs: the machine's other work comes and goes within seconds, and a
# pair's two sides see much the same of it only when they follow each other closely.
PAIRS = 40
SIDE_SECONDS = 0.5
# Subscriptions answered (their snapshots sent), or the unsubscribed sessions' last
# bytes written, before a side starts.
SETTLE_SECONDS = 0.15
WRITER_THREAD = "ringex-md-writer"
# The control side's key among the sides' figures.
IDLE_FILL = "idle_fill"
# The one-subscriber side's key.
ONE = "1"


def _ticks(stat: Path) -> int:
    """User and system clock ticks from a /proc stat file."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used."""
    return _ticks(Path(f"/proc/{pid}/stat")) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int, name: str) -> float:
    """CPU time of a process's threads called ``name`` (0 if it has none)."""
    ticks = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            # The kernel keeps a thread's name to its first 15 bytes.
            if (task / "comm").read_text().strip() == name[:15]:
                ticks += _ticks(task / "stat")
        except FileNotFoundError:
            continue  # the thread ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class CostSetup:
    """What a pair runs on: the traders (on the gateway at ``port``), the audience and
    the processes to watch."""

    port: int
    sessions: list[LoadSession]
    audience: Audience
    window: int
    subscribers: int
    # Process ids by name; "gateway" is the one the subscribers are attached to.
    pids: dict[str, int]

    def cpu(self) -> dict[str, float]:
        got = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        got["gateway_writer_thread"] = thread_cpu_seconds(self.pids["gateway"], WRITER_THREAD)
        return got


async def one_side(
    setup: CostSetup, count: int, fill: IdleFill | None = None
) -> tuple[int, dict[str, float]]:
    """Orders per second with ``count`` subscribers (and ``fill`` running, if given),
    and each process's CPU microseconds per order."""
    await asyncio.to_thread(setup.audience.subscribe, count)
    await asyncio.sleep(SETTLE_SECONDS)
    before = setup.cpu()
    if fill is not None:
        fill.resume()
    try:
        orders = await closed_loop(setup.sessions, setup.window, SIDE_SECONDS)
    finally:
        if fill is not None:
            fill.pause()
    after = setup.cpu()
    answered = max(orders * SIDE_SECONDS, 1)
    return orders, {k: round((after[k] - before[k]) / answered * 1e6, 2) for k in after}


def spread(ratios: list[float]) -> dict[str, Any]:
    """The median of the pairs' ratios, their quartiles and range."""
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {
        "median": round(statistics.median(ratios), 4),
        "quartiles": [round(quartiles[0], 4), round(quartiles[2], 4)],
        "range": [round(min(ratios), 4), round(max(ratios), 4)],
        "pairs": len(ratios),
    }


def _medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(s[k] for s in samples), 2) for k in samples[0]}


def _with_ratios(ratios: list[float]) -> dict[str, Any]:
    """The spread of ``ratios``, and the ratios themselves."""
    return spread(ratios) | {"ratios": [round(r, 4) for r in ratios]}


def _side_order(n: int, full: int) -> tuple[str, ...]:
    """The sides of pair ``n``: without and with subscribers back to back, the first of
    them alternating; the one-subscriber side next to them and the control side
    beyond it, before the pair in every other pair and after it in the rest."""
    pair = ("0", str(full)) if n % 2 == 0 else (str(full), "0")
    return (IDLE_FILL, ONE, *pair) if n % 4 >= 2 else (*pair, ONE, IDLE_FILL)


async def paired_cost(setup: CostSetup, pairs: int = PAIRS) -> dict[str, Any]:
    """``pairs`` pairs of sides without and with every subscriber subscribed, each
    with its one-subscriber and control sides."""
    full = setup.subscribers
    assert full > 1, "the one-subscriber side is a side of its own"
    sides = ("0", str(full), ONE, IDLE_FILL)
    orders: dict[str, list[int]] = {side: [] for side in sides}
    cpu: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    ratios, one_ratios, fill_ratios = [], [], []
    fill = IdleFill()
    try:
        for n in range(pairs):
            # A pair and its control enter some 110,000 orders.
            await new_day(setup.port, setup.sessions)
            for side in _side_order(n, full):
                count = 0 if side == IDLE_FILL else int(side)
                got, used = await one_side(setup, count, fill if side == IDLE_FILL else None)
                orders[side].append(got)
                cpu[side].append(used)
            without = max(orders["0"][-1], 1)
            ratios.append(1 - orders[str(full)][-1] / without)
            one_ratios.append(1 - orders[ONE][-1] / without)
            fill_ratios.append(1 - orders[IDLE_FILL][-1] / without)
            print(
                f"pair {n + 1}/{pairs}: {orders['0'][-1]} orders/s without, "
                f"{orders[str(full)][-1]} with {full} subscribers: cost {ratios[-1]:.3f} "
                f"(1 subscriber: {one_ratios[-1]:.3f}, idle CPU filled: {fill_ratios[-1]:.3f})",
                flush=True,
            )
    finally:
        fill.stop()
    await asyncio.to_thread(setup.audience.subscribe, 0)
    cost = _with_ratios(ratios)
    return {
        "order_entry_per_s": orders,
        "cpu_us_per_order": {side: _medians(v) for side, v in cpu.items()},
        "order_entry_cost_ratio_100_subscribers": cost["median"],
        "order_entry_cost_pairs": cost,
        "order_entry_cost_of_1_subscriber": _with_ratios(one_ratios),
        "order_entry_cost_of_idle_fill": _with_ratios(fill_ratios),
        "order_entry_cost_method": (
            f"{pairs} pairs of {SIDE_SECONDS} s closed-loop sides, none and {full} "
            "subscribed, the first side alternating; the figure is the median of the "
            "pairs' own ratios 1 - with/without, with their quartiles and range; each "
            "pair has a side with one subscriber next to it (its ratio to the side "
            "without is order_entry_cost_of_1_subscriber) and beyond that a control "
            "side (none subscribed, every CPU's idle time taken by an idle-class busy "
            "loop), whose ratio to the side without is order_entry_cost_of_idle_fill"
        ),
    }
