"""Multicast figures for the market data benchmark: the real engine and a gateway
publishing the L3 feed to a loopback group (TTL 0), traders entering orders at a fixed
rate and closed-loop, and one receiver in a process of its own that loses 5% of the
packets carrying messages (its drop hook) and recovers them from the retransmission
server.

Reports packets and messages per second published (the gateway's own counters), the
messages per packet, and what the receiver delivered: messages per second, requests
made, messages recovered and any lost. Then, at the same fixed rate, the latency from
the engine's sequencing time to an AsyncMulticastLocalBook updated (in a process of its
own, its snapshot taken over TCP). ``measure_feeds.py`` adds these to
``bench/results/marketdata.json`` as ``extra.multicast_*`` (``measure_feeds.py
--multicast-only`` measures these alone and updates those keys of the existing file).
"""

import asyncio
import random
import socket
import time
import urllib.request
from multiprocessing.connection import Connection
from typing import Any

from audience import SUBSCRIBER_USERS
from book_probe import BookProbe, Group
from child_process import start_child
from load import LoadSession, closed_loop, open_loop
from trading_day import new_day

from ringex_client.mold_packet import decode_packet
from ringex_client.multicast_receiver import MulticastReceiver, ReceiverOptions
from tests.system_processes import Gateway, free_port

GROUP = "239.255.77.1"
RATE = 20_000
# The rates the multicast book's latency is measured at.
BOOK_RATES = (RATE, 100_000)
SECONDS = 3.0
LOSS = 0.05
CATCH_UP_MAX_S = 120.0


def multicast_settings() -> dict[str, Any]:
    """Gateway settings publishing to GROUP on a free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return {
        "multicast_group": f"{GROUP}:{port}",
        "multicast_retransmit": f"127.0.0.1:{free_port()}",
    }


def _metric(metrics_port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(f"ringex_gateway_{name} "):
            return float(line.split()[1])
    return 0.0


def _counter(metrics_port: int, name: str) -> float:
    return _metric(metrics_port, f"{name}_total")


async def caught_up(gateway: Gateway) -> None:
    """Waits until ``gateway`` has taken in the engine's history: a gateway started on
    an engine that already ran resumes its link from the engine's first sequence number
    and publishes every book event of that history, a burst far past the publisher's
    queue and retransmission window. A receiver that joined during it would measure
    that start-up burst, not the load phases."""
    last, deadline = -1.0, time.monotonic() + CATCH_UP_MAX_S
    while (seq := _metric(gateway.metrics_port, "engine_last_seq")) != last:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the gateway took in no history for {CATCH_UP_MAX_S} s")
        last = seq
        await asyncio.sleep(1.0)  # over the metrics' refresh period


def _receive(pipe: Connection, group: str, port: int, retransmit: tuple[str, int]) -> None:
    """Counts what a lossy receiver delivers between the parent's two messages."""
    rng = random.Random(1)

    def lossy(data: bytes) -> bool:
        return decode_packet(data).count > 0 and rng.random() < LOSS

    options = ReceiverOptions(drop=lossy)
    with MulticastReceiver(group, port, retransmit, options) as rx:
        pipe.send("ready")
        while not pipe.poll():
            rx.poll(0.05)  # the warm-up's messages
        pipe.recv()
        start, delivered = time.monotonic(), 0
        requests = rx.requests
        while not pipe.poll():
            delivered += len(rx.poll(0.05))
        pipe.recv()
        stats = rx.sequencer.stats()
        pipe.send(
            {
                "messages_per_s": int(delivered / (time.monotonic() - start)),
                "requests": rx.requests - requests,
                "messages_retransmitted": rx.retransmitted,
                "packets_dropped_by_hook": rx.dropped_by_hook,
                "lost": stats.lost,
                "duplicates": stats.duplicates,
            }
        )


async def _phase(gateway: Gateway, load: Any, name: str) -> dict[str, Any]:
    """Publishing rates and the receiver's figures over one load phase."""
    port = gateway.metrics_port
    before = {k: _counter(port, f"multicast_{k}") for k in ("packets", "messages")}
    start = time.monotonic()
    await load
    await asyncio.sleep(0.6)  # the metrics refresh every quarter second or so
    elapsed = time.monotonic() - start
    after = {k: _counter(port, f"multicast_{k}") for k in ("packets", "messages")}
    packets = (after["packets"] - before["packets"]) / elapsed
    messages = (after["messages"] - before["messages"]) / elapsed
    print(f"multicast, {name}: {int(packets)} packets/s, {int(messages)} msgs/s", flush=True)
    return {
        "packets_per_s": int(packets),
        "msgs_per_s": int(messages),
        "msgs_per_packet": round(messages / packets, 1) if packets else 0,
    }


async def _book_latency(
    port: int, group: Group, sessions: list[LoadSession]
) -> dict[str, dict[str, Any]]:
    """Engine sequencing → a multicast book updated, and the book's resyncs, by rate."""
    book = await asyncio.to_thread(BookProbe, port, SUBSCRIBER_USERS[0], group)
    got: dict[str, dict[str, Any]] = {"latency": {}, "resyncs": {}}
    for rate in BOOK_RATES:
        await new_day(port, sessions)
        await asyncio.to_thread(book.start)
        await asyncio.gather(*(open_loop(s, rate // 2, SECONDS) for s in sessions))
        probe = await asyncio.to_thread(book.stop)
        got["latency"][str(rate)], got["resyncs"][str(rate)] = probe["latency"], probe["resyncs"]
        print(f"multicast book, {rate} orders/s: {probe}", flush=True)
    await asyncio.to_thread(book.close)
    return got


async def measure_multicast(
    gateway: Gateway, settings: dict[str, Any], sessions: list[LoadSession]
) -> dict[str, Any]:
    """The figures for ``gateway``, publishing with ``settings``, loaded by ``sessions``."""
    await caught_up(gateway)
    group, port = settings["multicast_group"].split(":")
    host, retransmit_port = settings["multicast_retransmit"].split(":")
    pipe, receiver = start_child(_receive, group, int(port), (host, int(retransmit_port)))
    await new_day(gateway.port, sessions)
    await closed_loop(sessions, 32, 1.0)
    pipe.send("start")
    paced = await _phase(
        gateway,
        asyncio.gather(*(open_loop(s, RATE // 2, SECONDS) for s in sessions)),
        f"{RATE} orders/s",
    )
    closed = await _phase(gateway, closed_loop(sessions, 32, SECONDS), "closed loop")
    pipe.send("stop")
    recovery = pipe.recv()
    receiver.join(10)
    print(f"lossy receiver: {recovery}", flush=True)
    group_of = (group, int(port), (host, int(retransmit_port)))
    book = await _book_latency(gateway.port, group_of, sessions)
    return {
        "multicast_msgs_per_s": {
            str(RATE): paced["msgs_per_s"],
            "closed_loop": closed["msgs_per_s"],
        },
        "multicast_packets_per_s": {
            str(RATE): paced["packets_per_s"],
            "closed_loop": closed["packets_per_s"],
        },
        "multicast_msgs_per_packet": {
            str(RATE): paced["msgs_per_packet"],
            "closed_loop": closed["msgs_per_packet"],
        },
        "multicast_receiver_with_5pct_loss": recovery,
        "multicast_local_book_latency_ns": book["latency"],
        "multicast_local_book_resyncs": book["resyncs"],
        "multicast_setup": (
            "loopback group, TTL 0, default MTU 1472; one Python receiver in its own "
            "process dropping 5% of the packets that carry messages and asking the "
            "retransmission server for them (at most the server's 1024 messages a "
            "request); it joins once the gateway has taken in the engine's history and "
            "its figures cover both load phases; the book's latency is a third phase "
            f"of {SECONDS} s at each of {BOOK_RATES} orders/s, with no packet dropped"
        ),
    }
