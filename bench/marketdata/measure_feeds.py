"""Market data benchmark through the gateway: the real engine daemon and gateway on
loopback, traders entering orders that rest and trade, and up to 100 read-only feed
subscribers (L3 and top-10 L2 of the instrument): sinks that read and drop, all in one
process apart from the load generator (see :class:`audience.Audience`).

Writes bench/results/marketdata.json: feed messages per second out of the gateway with 1,
10 and 100 subscribers (the gateway's own count over a closed-loop run), the latency
from the engine's sequencing timestamp (Unix-epoch nanoseconds, carried by every
incremental) to a subscriber's LocalBook having applied it at fixed offered order rates,
closed-loop order-entry throughput with 100 subscribers against none in many short
pairs (see :mod:`order_entry_cost`; the idle sessions stay connected, only their
subscriptions change), order entry's p99 beside one stalled subscriber, one reading
and none (see :mod:`stalled_subscriber`) and the multicast figures (see
:mod:`multicast_figures`). Every gateway a run needs starts with its engine, so each
takes in the whole history live.
Every figure is the median of ``RUNS`` whole runs (``measure_feeds.py N`` for N), each
run's headline figures kept beside them. Run with ``make bench-marketdata``;
``--cost-only [PAIRS]`` measures the order-entry cost alone and prints it (with
``--audience-nice N``, the subscribers' process at that nice value; with
``--venue-nice [N]``, the engine and gateway at that one, by default the ``Nice=`` of
their units in ops/systemd), ``--multicast-only`` the multicast figures alone (updating
their keys in the file), ``--latency-only [RATE]`` the LocalBook's latency at RATE
offered orders/s (20k by default) alone and prints it (with ``--feed-writer W``, the
gateway's ``feed_writer`` W instead of ``idle``), ``--stalled-only [ROUNDS]`` order
entry's latency beside a stalled subscriber alone and prints it.

Every process runs at nice 0 otherwise. The units' value puts the venue ahead of the
rest of its host, where no client runs; here the traders and the book probes share
the venue's two cores, and below it they fall behind (the multicast book's p99 at 20k
orders/s was some ten times longer, and at 100k one trader's open loop ran so far
ahead of the other that its resting orders met the open order limit).
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "e2e"))
sys.path.insert(0, str(ROOT / "bench" / "marketdata"))

from audience import SUBSCRIBER_USERS, Audience  # noqa: E402
from book_probe import BookProbe  # noqa: E402
from load import LoadSession, closed_loop, open_loop  # noqa: E402
from multicast_figures import measure_multicast, multicast_settings  # noqa: E402
from order_entry_cost import PAIRS, CostSetup, paired_cost, spread  # noqa: E402
from run import run_info, write_results  # noqa: E402
from stalled_subscriber import (  # noqa: E402
    STALLED_ROUNDS,
    combined,
    latency_with_a_stalled_subscriber,
)
from trading_day import check_accepted, named, new_day, reject_reasons  # noqa: E402

from ringex_client import NewOrder, OrderType, Side, TimeInForce, encode  # noqa: E402
from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
    engine_config,
    units_nice,
    wait_engine_up,
)

PRICE = 100_000
WINDOW = 32
RUN_SECONDS = 3.0
# 2k/s: a rate a pure-Python book keeps up with here; 20k and 100k: the ones asked for.
RATES = [2_000, 20_000, 100_000]
RATE_SECONDS = 3.0
# Whole runs (fresh processes each); the figures written are their medians.
RUNS = 3
SUBSCRIBERS = [1, 10, 100]
_METRICS_REFRESH_S = 0.5
COST = "order_entry_cost_ratio_100_subscribers"
FILL_COST = "order_entry_cost_of_idle_fill"
ONE_COST = "order_entry_cost_of_1_subscriber"
MC_BOOK = "multicast_local_book_latency_ns"
STALLED = "order_entry_latency_ns_with_a_stalled_subscriber"
# Resting orders an account may have. At 100k offered orders/s this machine falls
# behind, and the two traders' open loops then drift apart by tens of thousands of
# orders, all resting (70k orders were rejected at the tests' limit of 10,000 in one
# multicast phase): the latency at that rate is the queue, and no order may be refused.
OPEN_ORDERS_MAX = 250_000


def counter(metrics_port: int, name: str) -> float:
    """One of the gateway's counters (``ringex_gateway_<name>_total``)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(f"ringex_gateway_{name}_total "):
            return float(line.split()[1])
    return 0.0


async def traders(port: int) -> list[LoadSession]:
    """A seller and a buyer both entering GTC orders for one lot at PRICE: whichever of
    a pair arrives first rests and the other trades it out, so every pair adds an
    order, trades it and removes it. The book holds only how far one side has run
    ahead of the other. (With IOC bids, a bid that found no ask was lost and its ask
    rested for the rest of the day: the asks crept up until the seller met its open
    order limit.)"""
    first = time.time_ns() // 1000 % (1 << 40) * 1000
    seller, buyer = LoadSession(first, PRICE), LoadSession(first + 10_000_000, PRICE)
    for session, side in ((seller, Side.SELL), (buyer, Side.BUY)):
        session.template = encode(
            NewOrder(0, 1, side, OrderType.LIMIT, TimeInForce.GTC, False, PRICE, 1)
        )
    await seller.open(port, "alice", PASSWORD)
    await buyer.open(port, "bob", PASSWORD)
    for s in (seller, buyer):
        s.histogram = None
    return [seller, buyer]


def pid(process: Engine | Gateway) -> int:
    assert process.proc is not None
    return process.proc.pid


async def attached(
    engine: Engine, gateway: Gateway, feed_gateway: Gateway | None = None, nice: int = 0
) -> CostSetup:
    """Traders on ``gateway`` and the audience (at ``nice``) on ``feed_gateway`` (else
    the same one), warmed up."""
    feeds = feed_gateway or gateway
    sessions = await traders(gateway.port)
    audience = await asyncio.to_thread(Audience, feeds.port, max(SUBSCRIBERS), nice)
    pids = {"gateway": pid(feeds), "engine": pid(engine), "audience": audience.pid}
    if feed_gateway is not None:
        pids["order_gateway"] = pid(gateway)
    pids["load_generator"] = os.getpid()
    print("warm-up", flush=True)
    await new_day(gateway.port, sessions)  # nothing left resting by an earlier phase
    await closed_loop(sessions, WINDOW, 1.0)
    return CostSetup(gateway.port, sessions, audience, WINDOW, max(SUBSCRIBERS), pids)


async def detach(setup: CostSetup) -> None:
    setup.audience.stop()
    for trader in setup.sessions:
        await trader.close()


async def feed_rate(setup: CostSetup, count: int, gateway: Gateway) -> tuple[int, int]:
    """Closed-loop order throughput and feed messages per second out of ``gateway``
    with ``count`` subscribers subscribed."""
    await asyncio.to_thread(setup.audience.subscribe, count)
    await new_day(setup.port, setup.sessions)
    await asyncio.sleep(_METRICS_REFRESH_S)
    port = gateway.metrics_port
    before, start = counter(port, "feed_messages_out"), time.monotonic()
    orders = await closed_loop(setup.sessions, WINDOW, RUN_SECONDS)
    await asyncio.sleep(_METRICS_REFRESH_S)
    rate = (counter(port, "feed_messages_out") - before) / (time.monotonic() - start)
    return orders, int(rate)


async def with_conflations(
    gateway: Gateway, measured: Coroutine[Any, Any, dict[str, Any]]
) -> dict[str, Any]:
    """``measured``'s figures, and how many times the gateway conflated a subscriber
    while it ran."""
    before = counter(gateway.metrics_port, "feed_conflations")
    figures = await measured
    await asyncio.sleep(_METRICS_REFRESH_S)
    conflated = counter(gateway.metrics_port, "feed_conflations") - before
    return figures | {"feed_conflations": int(conflated)}


async def cost_with_conflations(setup: CostSetup, gateway: Gateway, pairs: int) -> dict[str, Any]:
    """The paired cost, and the subscribers the gateway conflated meanwhile (0: every
    one got every incremental)."""
    figures = await with_conflations(gateway, paired_cost(setup, pairs))
    check_accepted(setup.sessions, "the closed-loop stretches")
    return figures


async def feeds_on_their_own_gateway(
    engine: Engine, gateway: Gateway, feed_gateway: Gateway, pairs: int
) -> dict[str, Any]:
    """The same pairs with the subscribers on a second gateway of the same engine:
    order entry no longer shares a gateway's thread with the fan-out."""
    setup = await attached(engine, gateway, feed_gateway)
    figures = await cost_with_conflations(setup, feed_gateway, pairs)
    await detach(setup)
    return figures


async def latencies(setup: CostSetup, rates: list[int] | None = None) -> dict[str, Any]:
    """Latency to a LocalBook and the rate achieved at each offered rate (``RATES``
    unless given)."""
    sessions = setup.sessions
    got: dict[str, dict[str, Any]] = {
        "latency": {}, "achieved": {}, "lag": {}, "resyncs": {}, "rejected": {},
        "reasons": {},
    }  # fmt: skip
    book = await asyncio.to_thread(BookProbe, setup.port, SUBSCRIBER_USERS[0])
    for rate in rates or RATES:
        await new_day(setup.port, setup.sessions)
        await asyncio.to_thread(book.start)
        start = time.monotonic()
        done = sum(s.completed for s in sessions)
        rejected_before = reject_reasons(sessions)
        lags = await asyncio.gather(*(open_loop(s, rate // 2, RATE_SECONDS) for s in sessions))
        answered = sum(s.completed for s in sessions) - done
        key = str(rate)
        got["achieved"][key] = int(answered / (time.monotonic() - start))
        probe = await asyncio.to_thread(book.stop)
        got["latency"][key], got["resyncs"][key] = probe["latency"], probe["resyncs"]
        got["lag"][key] = lags
        rejected = reject_reasons(sessions) - rejected_before
        got["rejected"][key], got["reasons"][key] = rejected.total(), named(rejected)
        print(f"{rate}/s: {probe['latency']}, achieved {got['achieved'][key]}/s", flush=True)
    await asyncio.to_thread(book.close)
    return got


async def beside_a_stalled_subscriber(
    gateway: Gateway, sessions: list[LoadSession], audience: Audience, rounds: int
) -> dict[str, Any]:
    """Order entry's latency beside a stalled subscriber, a reading one and none, and
    how often the gateway conflated the stalled one (it must have, to have stalled)."""
    measured = latency_with_a_stalled_subscriber(gateway.port, sessions, audience, rounds)
    return await with_conflations(gateway, measured)


async def measure(engine: Engine, gateway: Gateway, pairs: int) -> dict[str, Any]:
    setup = await attached(engine, gateway)
    feed: dict[str, int] = {}
    for count in SUBSCRIBERS:
        orders, rate = await feed_rate(setup, count, gateway)
        feed[str(count)] = rate
        print(f"{count} subscribers: {rate} feed msgs/s, {orders} orders/s", flush=True)
    cost = await cost_with_conflations(setup, gateway, pairs)
    await asyncio.to_thread(setup.audience.subscribe, 0)
    got = await latencies(setup)
    stalled = await beside_a_stalled_subscriber(
        gateway, setup.sessions, setup.audience, STALLED_ROUNDS
    )
    await detach(setup)
    return {
        "throughput_per_s": int(statistics.median(cost["order_entry_per_s"]["0"])),
        "latency_ns": got["latency"],
        "extra": {
            "feed_msgs_per_s": feed,
            **cost,
            "order_entry_cost_target": 0.10,
            "achieved_orders_per_s": got["achieved"],
            "open_loop_send_lag": got["lag"],
            "local_book_resyncs": got["resyncs"],
            "open_loop_orders_rejected": got["rejected"],
            "open_loop_reject_reasons": got["reasons"],
            STALLED: stalled,
            "window_per_session": WINDOW,
            "run_seconds": RUN_SECONDS,
            "open_loop_seconds": RATE_SECONDS,
            **DESCRIPTIONS,
        },
    }


DESCRIPTIONS = {
    "subscription": "instrument 1, L3 and L2 depth 10 per subscriber",
    "order_flow": (
        "a GTC sell of 1 and a GTC buy of 1 at one price, from two sessions, the "
        "later of each pair trading the earlier out: OrderAdded, Trade, "
        "OrderRemoved and two level updates per pair"
    ),
    "feed_msgs_from": "the gateway's ringex_gateway_feed_messages_out_total",
    "reading_the_figures": (
        "everything shares the machine's cores: the engine, the gateway, the "
        "Python load generator and the subscribers' process, sinks that read and "
        "drop (and whatever else runs), so their reading and the kernel's "
        "loopback delivery to their sockets take CPU the order path would "
        "otherwise have; feed_conflations counts the subscribers the gateway cut "
        "to snapshots for falling behind during the cost pairs (0: each got every "
        "incremental); achieved_orders_per_s says how much of each offered rate the "
        "machine sustained (a rate it cannot sustain queues, and its latency is that "
        "queue); cpu_us_per_order is each process's own CPU per order (median over "
        "the pairs' sides), with none, 1 and 100 subscribers, the gateway's "
        "socket writer thread on its own"
    ),
    "latency_from": (
        "the engine's sequencing timestamp in each incremental (L3 and top-10 L2) "
        "to the moment one subscriber's LocalBook (ringex_client, asyncio on "
        "uvloop, its own process) has applied it, the same clock; a LocalBook "
        "is pure Python, so at rates it cannot keep up with the figure is its "
        "queue"
    ),
}


def start_gateway(workdir: Path, engine: Engine, nice: int, **settings: Any) -> Gateway:
    workdir.mkdir(exist_ok=True)
    gateway = Gateway(
        workdir,
        engine.port,
        rate_per_s=0,
        max_backlog=4_000_000,
        journal_messages=4_000_000,
        write_buffer_bytes=1 << 20,
        idle_timeout_ms=30_000,
        feed_backlog_bytes=1 << 22,
        **settings,
    )
    gateway.nice = nice
    gateway.start()
    wait_engine_up(gateway)
    return gateway


@contextmanager
def venue(
    *gateway_settings: dict[str, Any], nice: int = 0
) -> Iterator[tuple[Engine, list[Gateway]]]:
    """A fresh engine and one gateway per settings, all at ``nice``, every one started
    before any order is entered, so each takes in the whole history live."""
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-md-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.config.write_text(engine_config(OPEN_ORDERS_MAX))
        engine.nice = nice
        engine.start()
        gateways: list[Gateway] = []
        try:
            for n, settings in enumerate(gateway_settings):
                gateway = start_gateway(workdir / f"gateway-{n}", engine, nice, **settings)
                gateways.append(gateway)
            yield engine, gateways
        finally:
            for g in gateways:
                g.stop()
            engine.stop()


async def multicast(gateway: Gateway, settings: dict[str, Any]) -> dict[str, Any]:
    """The multicast figures, with the same order flow as the feed figures."""
    sessions = await traders(gateway.port)
    figures = await measure_multicast(gateway, settings, sessions)
    check_accepted(sessions, "the multicast phases")
    for trader in sessions:
        await trader.close()
    return figures


def multicast_only() -> int:
    """Measures the multicast figures alone; updates their keys in the results file."""
    settings = multicast_settings()
    with venue(settings) as (_, gateways):
        figures = uvloop.run(multicast(gateways[0], settings))
    out = ROOT / "bench" / "results" / "marketdata.json"
    result = json.loads(out.read_text())
    result["extra"] |= figures
    write_results("marketdata", result)
    return 0


def venue_nice(engine: Engine, gateways: list[Gateway]) -> int:
    """The nice value the venue's processes run at (a raise above 0 takes CAP_SYS_NICE;
    without it they run at 0, and the figures say so)."""
    processes: list[Engine | Gateway] = [engine, *gateways]
    nices = {os.getpriority(os.PRIO_PROCESS, pid(p)) for p in processes}
    assert len(nices) == 1, f"the venue's processes run at different nice values: {nices}"
    return nices.pop()


def cost_only(pairs: int, nice: int, at: int) -> int:
    """Measures the order-entry cost of 100 subscribers alone and prints it: the
    subscribers' process at ``nice``, the venue at ``at``."""

    async def pairs_on(engine: Engine, gateway: Gateway) -> dict[str, Any]:
        setup = await attached(engine, gateway, nice=nice)
        figures = await cost_with_conflations(setup, gateway, pairs)
        await detach(setup)
        return figures

    with venue({}, nice=at) as (engine, gateways):
        figures = uvloop.run(pairs_on(engine, gateways[0]))
        figures["venue_nice"] = venue_nice(engine, gateways)
    figures["audience_nice"] = nice
    print(json.dumps({"command": " ".join(sys.argv), **run_info(), **figures}, indent=2))
    return 0


def one_run(pairs: int) -> dict[str, Any]:
    """Every figure once, on a fresh engine and gateways: the multicast gateway's
    figures first, then the subscribers on a gateway of their own, each of those
    gateways stopped once measured, then the rest on the first."""
    settings = multicast_settings()
    with venue({}, {}, settings) as (engine, gateways):
        nice = venue_nice(engine, gateways)
        gateway, feed_gateway, mc_gateway = gateways
        mc_figures = uvloop.run(multicast(mc_gateway, settings))
        mc_gateway.stop()
        split_pairs = max(pairs // 4, 1)  # a comparison, not the headline figure
        split = uvloop.run(feeds_on_their_own_gateway(engine, gateway, feed_gateway, split_pairs))
        feed_gateway.stop()
        figures = uvloop.run(measure(engine, gateway, pairs))
    figures["extra"]["subscribers_on_their_own_gateway"] = split
    figures["extra"]["venue_nice"] = nice
    figures["extra"] |= mc_figures
    return figures


def median_latencies(runs: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Latency figures by rate, each percentile the median of the runs' own."""
    return {
        rate: {k: int(statistics.median(r[rate][k] for r in runs)) for k in points}
        for rate, points in runs[0].items()
    }


def headline(latency: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The p50, p99 and p99.9 of latency figures by rate."""
    keys = ("p50", "p99", "p99_9")
    return {rate: {k: points[k] for k in keys} for rate, points in latency.items()}


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of the runs, figure by figure (each percentile on its own), with
    every run's headline figures kept under ``extra.runs``; the cost is the median of
    every run's pairs together. Figures not listed here are the first run's."""
    first = runs[0]
    latency = median_latencies([r["latency_ns"] for r in runs])
    extra = dict(first["extra"])
    extra[MC_BOOK] = median_latencies([r["extra"][MC_BOOK] for r in runs])
    for key in ("feed_msgs_per_s", "multicast_msgs_per_s"):
        extra[key] = {
            n: int(statistics.median(r["extra"][key][n] for r in runs)) for n in first["extra"][key]
        }
    extra["cpu_us_per_order"] = {
        side: {
            name: round(
                statistics.median(r["extra"]["cpu_us_per_order"][side][name] for r in runs), 2
            )
            for name in used
        }
        for side, used in first["extra"]["cpu_us_per_order"].items()
    }
    for key in ("order_entry_cost_pairs", ONE_COST, FILL_COST):
        extra[key] = spread([x for r in runs for x in r["extra"][key]["ratios"]])
    extra[COST] = extra["order_entry_cost_pairs"]["median"]
    extra["feed_conflations"] = sum(r["extra"]["feed_conflations"] for r in runs)
    extra[STALLED] = combined([r["extra"][STALLED] for r in runs])
    extra["runs"] = [
        {
            "latency_ns": headline(r["latency_ns"]),
            "feed_msgs_per_s": r["extra"]["feed_msgs_per_s"],
            "order_entry_cost_pairs": r["extra"]["order_entry_cost_pairs"],
            ONE_COST: r["extra"][ONE_COST],
            FILL_COST: r["extra"][FILL_COST],
            "cpu_us_per_order": r["extra"]["cpu_us_per_order"],
            "feed_conflations": r["extra"]["feed_conflations"],
            "achieved_orders_per_s": r["extra"]["achieved_orders_per_s"],
            "local_book_resyncs": r["extra"]["local_book_resyncs"],
            "open_loop_orders_rejected": r["extra"]["open_loop_orders_rejected"],
            "open_loop_reject_reasons": r["extra"]["open_loop_reject_reasons"],
            "multicast_msgs_per_s": r["extra"]["multicast_msgs_per_s"],
            MC_BOOK: headline(r["extra"][MC_BOOK]),
            STALLED: r["extra"][STALLED]["p99_ratio_to_reading"],
        }
        for r in runs
    ]  # fmt: skip
    extra["medians_of_runs"] = len(runs)
    throughput = int(statistics.median(r["throughput_per_s"] for r in runs))
    return {"throughput_per_s": throughput, "latency_ns": latency, "extra": extra}


def number_after(flag: str, default: int) -> int:
    """The whole number given after ``flag`` on the command line, else ``default``."""
    at = sys.argv.index(flag) + 1
    given = at < len(sys.argv) and sys.argv[at].removeprefix("-").isdigit()
    return int(sys.argv[at]) if given else default


def word_after(flag: str, default: str) -> str:
    """The word given after ``flag`` on the command line, else ``default``."""
    at = sys.argv.index(flag) + 1
    return sys.argv[at] if at < len(sys.argv) and not sys.argv[at].startswith("-") else default


def latency_only(rate: int, writer: str) -> int:
    """Measures the LocalBook's latency at ``rate`` offered orders/s alone, on a fresh
    venue whose gateway has ``feed_writer`` ``writer``, and prints it."""

    async def measured(engine: Engine, gateway: Gateway) -> dict[str, Any]:
        setup = await attached(engine, gateway)
        await asyncio.to_thread(setup.audience.subscribe, 0)
        got = await latencies(setup, [rate])
        await detach(setup)
        return got

    with venue({"feed_writer": writer}) as (engine, gateways):
        got = uvloop.run(measured(engine, gateways[0]))
    key = str(rate)
    figures = {"feed_writer": writer, "rate": rate, "latency_ns": got["latency"][key]}
    figures |= {"achieved_orders_per_s": got["achieved"][key], "resyncs": got["resyncs"][key]}
    print(json.dumps({"command": " ".join(sys.argv), **run_info(), **figures}, indent=2))
    return 0


def stalled_only(rounds: int) -> int:
    """Measures order entry's latency beside a stalled subscriber alone, on a fresh
    venue, and prints it."""

    async def measured(engine: Engine, gateway: Gateway) -> dict[str, Any]:
        setup = await attached(engine, gateway)
        got = await beside_a_stalled_subscriber(gateway, setup.sessions, setup.audience, rounds)
        await detach(setup)
        return got

    with venue({}) as (engine, gateways):
        figures = uvloop.run(measured(engine, gateways[0]))
    print(json.dumps({"command": " ".join(sys.argv), **run_info(), STALLED: figures}, indent=2))
    return 0


def main() -> int:
    if "--multicast-only" in sys.argv:
        return multicast_only()
    if "--stalled-only" in sys.argv:
        return stalled_only(number_after("--stalled-only", STALLED_ROUNDS))
    if "--latency-only" in sys.argv:
        writer = word_after("--feed-writer", "idle") if "--feed-writer" in sys.argv else "idle"
        return latency_only(number_after("--latency-only", 20_000), writer)
    if "--cost-only" in sys.argv:
        nice = number_after("--audience-nice", 19) if "--audience-nice" in sys.argv else 0
        at = number_after("--venue-nice", units_nice()) if "--venue-nice" in sys.argv else 0
        return cost_only(number_after("--cost-only", PAIRS), nice, at)
    count = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    runs = []
    for n in range(count):
        print(f"run {n + 1} of {count}", flush=True)
        runs.append(one_run(PAIRS))
    result = {
        "benchmark": "marketdata",
        "command": "make bench-marketdata",
        **run_info(),
        **combine(runs),
    }
    write_results("marketdata", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
