"""Order entry's latency beside a stalled subscriber: the traders offer a fixed rate in
open loop, latency counted from each order's planned time to its answer, in rounds of
three sides in turn: no subscriber; one subscriber of the instrument's L3 and top-10 L2
feeds that reads everything (in the audience's process); and one subscribed session
that never reads a byte. The stalled session's small receive buffer fills at once,
then the bytes handed to the gateway's socket writer, then its feed backlog, which the
gateway conflates (or disconnects) by its ``feed_slow`` setting: the matcher and the
other sessions are never to wait for it. Each round gives the ratio of the stalled
side's p99 to the reading side's (what stalling adds, the feed being built either way)
and to the side without any; the figures are their medians."""

import asyncio
import socket
import statistics
from typing import Any

from audience import SUBSCRIBER_USERS, Audience, Subscriber
from load import LoadSession, new_histogram, open_loop
from trading_day import new_day, reject_reasons

from tests.system_processes import PASSWORD

STALLED_RATE = 20_000
STALLED_ROUNDS = 4
STALLED_SIDE_SECONDS = 4.0
STALLED_RCVBUF_BYTES = 4096
NONE, READING, STALLED = "none", "reading", "stalled"
SIDES = (NONE, READING, STALLED)


async def stalled_subscriber(port: int) -> Subscriber:
    """A read-only session subscribed to L3 and L2 that reads nothing from here on. It
    sends nothing either, but a side is far shorter than the gateway's idle timeout,
    so what the gateway meets is a reader that fell behind, not a silent session."""
    s = Subscriber()
    await s.open(port, SUBSCRIBER_USERS[1], PASSWORD)
    assert s.transport is not None
    # A small receive buffer, as on a client that stopped reading long ago: the
    # gateway's bounds are reached within a side, not the kernel's autotuned buffers.
    s.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF_BYTES
    )
    s.subscribe(True)
    s.transport.pause_reading()
    return s


async def _side(
    port: int, sessions: list[LoadSession], audience: Audience, side: str
) -> dict[str, int]:
    """One side's order-entry latency percentiles (nanoseconds) at STALLED_RATE."""
    await new_day(port, sessions)
    await asyncio.to_thread(audience.subscribe, 1 if side == READING else 0)
    stalled = await stalled_subscriber(port) if side == STALLED else None
    histogram = new_histogram()
    for s in sessions:
        s.histogram = new_histogram()
    try:
        rate = STALLED_RATE // len(sessions)
        await asyncio.gather(*(open_loop(s, rate, STALLED_SIDE_SECONDS) for s in sessions))
    finally:
        if stalled is not None and stalled.transport is not None:
            stalled.transport.abort()
    for s in sessions:
        assert s.histogram is not None
        histogram.add(s.histogram)
        s.histogram = None
    return {
        "p50": histogram.get_value_at_percentile(50),
        "p99": histogram.get_value_at_percentile(99),
    }


def p99_ratio(base: dict[str, int], stalled: dict[str, int]) -> float:
    """A side's p99 with the stalled subscriber over ``base``'s."""
    return stalled["p99"] / max(base["p99"], 1)


async def latency_with_a_stalled_subscriber(
    port: int, sessions: list[LoadSession], audience: Audience, rounds: int = STALLED_ROUNDS
) -> dict[str, Any]:
    """``rounds`` rounds of the three sides, the first side of each round moving on by
    one; the audience subscribes at most one of its sessions."""
    sides: dict[str, list[dict[str, int]]] = {side: [] for side in SIDES}
    rejected_before = reject_reasons(sessions).total()
    for n in range(rounds):
        for side in SIDES[n % 3 :] + SIDES[: n % 3]:
            sides[side].append(await _side(port, sessions, audience, side))
        p99 = {side: sides[side][-1]["p99"] for side in SIDES}
        print(f"stalled round {n + 1}/{rounds}: order-entry p99 (ns) {p99}", flush=True)
    await asyncio.to_thread(audience.subscribe, 0)
    if reject_reasons(sessions).total() != rejected_before:
        raise RuntimeError("orders rejected beside the stalled subscriber: the figures are void")
    return summary(sides)


def summary(sides: dict[str, list[dict[str, int]]]) -> dict[str, Any]:
    """Each side's median p50 and p99, and the rounds' p99 ratios with their medians."""
    to_reading = [p99_ratio(r, s) for r, s in zip(sides[READING], sides[STALLED], strict=True)]
    to_none = [p99_ratio(o, s) for o, s in zip(sides[NONE], sides[STALLED], strict=True)]
    return (
        {side: medians(got) for side, got in sides.items()}
        | ratios(to_reading, to_none)
        | {
            "method": (
                f"{len(to_none)} rounds of {STALLED_SIDE_SECONDS} s open-loop sides at "
                f"{STALLED_RATE} orders/s: none subscribed, one session subscribed to L3 "
                "and top-10 L2 that reads everything, and one so subscribed that never "
                f"reads (a {STALLED_RCVBUF_BYTES}-byte receive buffer), the first side of "
                "each round moving on by one; latency from each order's planned time to "
                "its answer; p99_ratio_to_reading and p99_ratio_to_none are the medians "
                "of the rounds' stalled/reading and stalled/none p99; feed_conflations "
                "counts the gateway's conflations of the stalled session (feed_slow "
                "conflate, the default), which show that it did fall behind"
            ),
        }
    )


def medians(samples: list[dict[str, int]]) -> dict[str, int]:
    """The median p50 and p99 of a side's samples (rounds, or runs' medians)."""
    return {k: int(statistics.median(s[k] for s in samples)) for k in ("p50", "p99")}


def ratios(to_reading: list[float], to_none: list[float]) -> dict[str, Any]:
    """The rounds' p99 ratios and their medians."""
    return {
        "p99_ratios_to_reading": [round(r, 3) for r in to_reading],
        "p99_ratio_to_reading": round(statistics.median(to_reading), 3),
        "p99_ratios_to_none": [round(r, 3) for r in to_none],
        "p99_ratio_to_none": round(statistics.median(to_none), 3),
    }


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' figures as one: each side's percentiles the median of the runs',
    the ratios the medians of every run's rounds together."""
    sides = {side: medians([run[side] for run in runs]) for side in SIDES}
    to_reading = [r for run in runs for r in run["p99_ratios_to_reading"]]
    to_none = [r for run in runs for r in run["p99_ratios_to_none"]]
    return (
        sides
        | ratios(to_reading, to_none)
        | {
            "feed_conflations": [run["feed_conflations"] for run in runs],
            "method": runs[0]["method"],
        }
    )
