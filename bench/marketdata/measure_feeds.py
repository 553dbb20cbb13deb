"""Market data benchmark through the gateway: the real engine daemon and gateway on
loopback, traders entering orders that rest and trade, and up to 100 read-only feed
subscribers (L3 and top-10 L2 of the instrument): sinks that read and drop, all in one
process apart from the load generator (see :class:`Audience`).

Writes bench/results/marketdata.json: feed messages per second out of the gateway with 1,
10 and 100 subscribers (the gateway's own count over a closed-loop run), the latency
from the engine's sequencing timestamp (Unix-epoch nanoseconds, carried by every
incremental) to a subscriber's LocalBook having applied it at fixed offered order rates,
and closed-loop order-entry throughput with 100 subscribers against none, alternated in
the same run (the idle sessions stay connected; only their subscriptions change). Every
figure is the median of ``RUNS`` whole runs (``measure_feeds.py N`` for N), each run's
headline figures kept beside them. Run with ``make bench-marketdata``.
"""

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import uvloop

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "e2e"))
sys.path.insert(0, str(ROOT / "bench" / "marketdata"))

from book_probe import BookProbe  # noqa: E402
from load import LoadSession, closed_loop, open_loop  # noqa: E402
from multicast_figures import measure_multicast, multicast_settings  # noqa: E402
from run import run_info  # noqa: E402

from ringex_client import (  # noqa: E402
    FeedKind,
    FeedSubscribe,
    Login,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
    encode,
)
from tests.system_processes import (  # noqa: E402
    PASSWORD,
    Engine,
    Gateway,
    engine_binary,
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
# Accounts that do not trade: a subscriber's account stream stays empty.
SUBSCRIBER_USERS = ["carol", "dave", "erin", "admin"]
_METRICS_REFRESH_S = 0.5


class Subscriber(asyncio.Protocol):
    """A read-only feed session that reads (and drops) everything it is sent."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._ready: asyncio.Future[None] | None = None

    async def open(self, port: int, username: str) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        await loop.create_connection(lambda: self, "127.0.0.1", port)
        assert self.transport is not None
        self.transport.write(encode(Login(username, PASSWORD, 0)))
        await self._ready

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def subscribe(self, on: bool) -> None:
        assert self.transport is not None
        l3, l2 = FeedSubscribe(1, FeedKind.L3, 0, on), FeedSubscribe(1, FeedKind.L2, 10, on)
        self.transport.write(encode(l3) + encode(l2))

    def data_received(self, data: bytes) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)

    def keep_alive(self) -> None:
        """A heartbeat, so the gateway does not end an idle subscriber."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"\x01\x00H")


async def keep_alive(subs: list[Subscriber]) -> None:
    """Heartbeats for every subscriber, all run long."""
    while True:
        for s in subs:
            s.keep_alive()
        await asyncio.sleep(1.0)


def counter(metrics_port: int, name: str) -> float:
    """One of the gateway's counters (``ringex_gateway_<name>_total``)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(f"ringex_gateway_{name}_total "):
            return float(line.split()[1])
    return 0.0


async def traders(port: int) -> list[LoadSession]:
    """A seller resting GTC asks at PRICE and a buyer taking them with IOC bids: every
    pair adds an order, trades it and removes it, so the book stays small."""
    first = time.time_ns() // 1000 % (1 << 40) * 1000
    seller, buyer = LoadSession(first, PRICE), LoadSession(first + 10_000_000, PRICE)
    seller.template = encode(
        NewOrder(0, 1, Side.SELL, OrderType.LIMIT, TimeInForce.GTC, False, PRICE, 1)
    )
    await seller.open(port, "alice", PASSWORD)
    await buyer.open(port, "bob", PASSWORD)
    for s in (seller, buyer):
        s.histogram = None
    return [seller, buyer]


class Audience:
    """The subscribers, sinks that read and drop what they are sent, in a process of
    their own (so their reading does not slow the order-entry load generator's event
    loop), told by a pipe how many of them are to be subscribed. Subscribers run on
    machines of their own in production; here their reading shares the venue's cores,
    so the cost measured is an upper bound. That each got every incremental is the
    gateway's to show: one that fell behind was conflated (``feed_conflations``,
    recorded per run)."""

    def __init__(self, port: int, count: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.pipe, child = spawn.Pipe()
        self.process = spawn.Process(target=_audience, args=(child, port, count))
        self.process.start()
        assert self.pipe.recv() == "ready"

    def subscribe(self, count: int) -> None:
        self.pipe.send(count)
        assert self.pipe.recv() == count

    def stop(self) -> None:
        self.pipe.send(None)
        self.process.join(10)


def _audience(pipe: Connection, port: int, count: int) -> None:
    async def serve() -> None:
        subs = []
        for i in range(count):
            s = Subscriber()
            await s.open(port, SUBSCRIBER_USERS[i % len(SUBSCRIBER_USERS)])
            subs.append(s)
        beats = asyncio.create_task(keep_alive(subs))
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        while (wanted := await loop.run_in_executor(None, pipe.recv)) is not None:
            for i, s in enumerate(subs):
                s.subscribe(i < wanted)
            pipe.send(wanted)
        beats.cancel()

    uvloop.run(serve())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def feed_rate(
    sessions: list[LoadSession],
    audience: Audience,
    count: int,
    gateway: Gateway,
    feed_gateway: Gateway,
) -> tuple[int, float, float]:
    """Closed-loop order throughput, feed messages per second (out of ``feed_gateway``)
    and the order ``gateway``'s CPU microseconds per order with ``count`` subscribers
    subscribed."""
    await asyncio.to_thread(audience.subscribe, count)
    await asyncio.sleep(_METRICS_REFRESH_S)
    assert gateway.proc is not None
    port = feed_gateway.metrics_port
    before, start = counter(port, "feed_messages_out"), time.monotonic()
    cpu = cpu_seconds(gateway.proc.pid)
    orders = await closed_loop(sessions, WINDOW, RUN_SECONDS)
    cpu = cpu_seconds(gateway.proc.pid) - cpu
    answered = orders * RUN_SECONDS
    await asyncio.sleep(_METRICS_REFRESH_S)
    rate = (counter(port, "feed_messages_out") - before) / (time.monotonic() - start)
    return orders, rate, round(cpu / answered * 1e6, 1)


async def alternate(
    sessions: list[LoadSession],
    audience: Audience,
    gateway: Gateway,
    feed_gateway: Gateway,
) -> tuple[dict[int, list[int]], dict[int, list[float]]]:
    """Order throughput and the order gateway's CPU per order with none and then 100
    subscribers, three times over."""
    orders: dict[int, list[int]] = {0: [], 100: []}
    cpu: dict[int, list[float]] = {0: [], 100: []}
    for _ in range(3):
        for count in (0, 100):
            got = await feed_rate(sessions, audience, count, gateway, feed_gateway)
            orders[count].append(got[0])
            cpu[count].append(got[2])
            print(f"order entry with {count} subscribers: {got[0]} orders/s", flush=True)
    return orders, cpu


def cost(orders: dict[int, list[int]]) -> float:
    """The share of order throughput the 100 subscribers cost (medians)."""
    return round(1 - statistics.median(orders[100]) / statistics.median(orders[0]), 4)


async def feeds_on_their_own_gateway(gateway: Gateway, feed_gateway: Gateway) -> dict[str, Any]:
    """The same alternation with the subscribers on a second gateway of the same engine:
    order entry no longer shares a gateway's thread with the fan-out."""
    sessions = await traders(gateway.port)
    audience = await asyncio.to_thread(Audience, feed_gateway.port, max(SUBSCRIBERS))
    await closed_loop(sessions, WINDOW, 1.0)
    orders, cpu = await alternate(sessions, audience, gateway, feed_gateway)
    audience.stop()
    for trader in sessions:
        await trader.close()
    return {
        "order_entry_per_s": {"0": orders[0], "100": orders[100]},
        "order_gateway_cpu_us_per_order": {"0": cpu[0], "100": cpu[100]},
        "order_entry_cost_ratio_100_subscribers": cost(orders),
        "feed_conflations": int(counter(feed_gateway.metrics_port, "feed_conflations")),
    }


async def measure(gateway: Gateway) -> dict[str, Any]:
    port = gateway.port
    sessions = await traders(port)
    audience = await asyncio.to_thread(Audience, port, max(SUBSCRIBERS))
    print("warm-up", flush=True)
    await closed_loop(sessions, WINDOW, 1.0)
    feed: dict[str, int] = {}
    for count in SUBSCRIBERS:
        thr, rate, _ = await feed_rate(sessions, audience, count, gateway, gateway)
        feed[str(count)] = int(rate)
        print(f"{count} subscribers: {int(rate)} feed msgs/s, {thr} orders/s", flush=True)
    orders, cpu = await alternate(sessions, audience, gateway, gateway)
    await asyncio.to_thread(audience.subscribe, 0)
    conflations = int(counter(gateway.metrics_port, "feed_conflations"))
    latency: dict[str, dict[str, int]] = {}
    achieved: dict[str, int] = {}
    send_lag: dict[str, Any] = {}
    resyncs: dict[str, int] = {}
    book = await asyncio.to_thread(BookProbe, port, SUBSCRIBER_USERS[0])
    for rate in RATES:
        await asyncio.to_thread(book.start)
        start = time.monotonic()
        done = sum(s.completed for s in sessions)
        lags = await asyncio.gather(*(open_loop(s, rate // 2, RATE_SECONDS) for s in sessions))
        answered = sum(s.completed for s in sessions) - done
        achieved[str(rate)] = int(answered / (time.monotonic() - start))
        got = await asyncio.to_thread(book.stop)
        latency[str(rate)], resyncs[str(rate)] = got["latency"], got["resyncs"]
        send_lag[str(rate)] = lags
        print(f"{rate}/s: {latency[str(rate)]}, achieved {achieved[str(rate)]}/s", flush=True)
    await asyncio.to_thread(book.close)
    audience.stop()
    for trader in sessions:
        await trader.close()
    return {
        "throughput_per_s": int(statistics.median(orders[0])),
        "latency_ns": latency,
        "extra": {
            "feed_msgs_per_s": feed,
            "order_entry_per_s": {"0": orders[0], "100": orders[100]},
            "gateway_cpu_us_per_order": {"0": cpu[0], "100": cpu[100]},
            "order_entry_cost_ratio_100_subscribers": cost(orders),
            "order_entry_cost_target": 0.10,
            "feed_conflations": conflations,
            "achieved_orders_per_s": achieved,
            "open_loop_send_lag": send_lag,
            "local_book_resyncs": resyncs,
            "window_per_session": WINDOW,
            "run_seconds": RUN_SECONDS,
            "open_loop_seconds": RATE_SECONDS,
            "subscription": "instrument 1, L3 and L2 depth 10 per subscriber",
            "order_flow": (
                "a GTC sell of 1 at one price and an IOC buy of 1 taking it, from two "
                "sessions: OrderAdded, Trade, OrderRemoved and two level updates per pair"
            ),
            "feed_msgs_from": "the gateway's ringex_gateway_feed_messages_out_total",
            "reading_the_figures": (
                "everything shares the machine's cores: the engine, the gateway, the "
                "Python load generator and the subscribers' process, sinks that read and "
                "drop (and whatever else runs), so their reading and the kernel's "
                "loopback delivery to their sockets take CPU the order path would "
                "otherwise have; feed_conflations counts the subscribers the gateway cut "
                "to snapshots for falling behind (0: each got every incremental); "
                "achieved_orders_per_s "
                "says how much of each offered rate the machine sustained (a rate it "
                "cannot sustain queues, and its latency is that queue); "
                "gateway_cpu_us_per_order is the gateway process's own CPU per order, "
                "with and without the 100 subscribers"
            ),
            "latency_from": (
                "the engine's sequencing timestamp in each incremental (L3 and top-10 L2) "
                "to the moment one subscriber's LocalBook (ringex_client, asyncio on "
                "uvloop, its own process) has applied it, the same clock; a LocalBook "
                "is pure Python, so at rates it cannot keep up with the figure is its "
                "queue"
            ),
        },
    }


def start_gateway(workdir: Path, engine: Engine, **settings: Any) -> Gateway:
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
    gateway.start()
    wait_engine_up(gateway)
    return gateway


async def multicast(gateway: Gateway, settings: dict[str, Any]) -> dict[str, Any]:
    """The multicast figures, with the same order flow as the feed figures."""
    sessions = await traders(gateway.port)
    figures = await measure_multicast(gateway, settings, sessions)
    for trader in sessions:
        await trader.close()
    return figures


def multicast_only(binary: Path) -> int:
    """Measures the multicast figures alone; updates their keys in the results file."""
    with tempfile.TemporaryDirectory(prefix="ringex-mc-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        settings = multicast_settings()
        gateway = start_gateway(workdir / "gateway", engine, **settings)
        try:
            figures = uvloop.run(multicast(gateway, settings))
        finally:
            gateway.stop()
            engine.stop()
    out = ROOT / "bench" / "results" / "marketdata.json"
    result = json.loads(out.read_text())
    result["extra"] |= figures
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"updated the multicast figures in {out.relative_to(ROOT)}")
    return 0


def one_run() -> dict[str, Any]:
    """Every figure once, on a fresh engine and gateways."""
    binary = engine_binary()
    with tempfile.TemporaryDirectory(prefix="ringex-md-") as tmp:
        workdir = Path(tmp)
        (workdir / "engine").mkdir()
        engine = Engine(binary, workdir / "engine")
        engine.start()
        gateways: list[Gateway] = []
        try:
            gateways.append(start_gateway(workdir / "gateway", engine))
            figures = uvloop.run(measure(gateways[0]))
            gateways.append(start_gateway(workdir / "feed-gateway", engine))
            split = uvloop.run(feeds_on_their_own_gateway(gateways[0], gateways[1]))
            figures["extra"]["subscribers_on_their_own_gateway"] = split
            gateways[1].stop()
            settings = multicast_settings()
            gateways.append(start_gateway(workdir / "multicast-gateway", engine, **settings))
            figures["extra"] |= uvloop.run(multicast(gateways[2], settings))
        finally:
            for g in gateways:
                g.stop()
            engine.stop()
    return figures


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of the runs, figure by figure (each percentile on its own), with
    every run's headline figures kept under ``extra.runs``."""
    first = runs[0]
    latency = {
        rate: {k: int(statistics.median(r["latency_ns"][rate][k] for r in runs)) for k in points}
        for rate, points in first["latency_ns"].items()
    }
    extra = dict(first["extra"])
    extra["feed_msgs_per_s"] = {
        n: int(statistics.median(r["extra"]["feed_msgs_per_s"][n] for r in runs))
        for n in first["extra"]["feed_msgs_per_s"]
    }
    cost = "order_entry_cost_ratio_100_subscribers"
    extra[cost] = round(statistics.median(r["extra"][cost] for r in runs), 4)
    extra["runs"] = [
        {
            "latency_ns": {rate: {k: r["latency_ns"][rate][k] for k in ("p50", "p99", "p99_9")}
                           for rate in r["latency_ns"]},
            "feed_msgs_per_s": r["extra"]["feed_msgs_per_s"],
            cost: r["extra"][cost],
            "feed_conflations": r["extra"]["feed_conflations"],
            "achieved_orders_per_s": r["extra"]["achieved_orders_per_s"],
            "local_book_resyncs": r["extra"]["local_book_resyncs"],
        }
        for r in runs
    ]  # fmt: skip
    extra["medians_of_runs"] = len(runs)
    throughput = int(statistics.median(r["throughput_per_s"] for r in runs))
    return {"throughput_per_s": throughput, "latency_ns": latency, "extra": extra}


def main() -> int:
    if "--multicast-only" in sys.argv:
        return multicast_only(engine_binary())
    count = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    runs = []
    for n in range(count):
        print(f"run {n + 1} of {count}", flush=True)
        runs.append(one_run())
    result = {
        "benchmark": "marketdata",
        "command": "make bench-marketdata",
        **run_info(),
        **combine(runs),
    }
    out = ROOT / "bench" / "results" / "marketdata.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
