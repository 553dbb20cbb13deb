"""A short tour of the matching core: ``python -m ringex_engine.demo``.

Lists two instruments, opens a few accounts, runs a few thousand seeded random orders of
every type through the engine, prints the top of each book and a summary of what
happened, then replays the same stream into a second engine in one batch and checks that
both end in the same state.
"""

import argparse
import time
from collections import Counter
from collections.abc import Sequence

from ringex_engine import Command, Engine, Event, Rejected, Trade
from ringex_engine.workload import Listing, random_orders, setup_commands

LISTINGS = (
    Listing(instrument=1, symbol="ACME", reference_price=10_000, tick_size=5),
    Listing(instrument=2, symbol="GLOBEX", reference_price=2_500, lot_size=10),
)
ACCOUNTS = (101, 102, 103, 104, 105)
# 2026-11-23 09:30:00 UTC: the demo's market opens then and each command is 1 ms later.
OPEN_NS = 1_795_426_200_000_000_000
STEP_NS = 1_000_000


def stamped(commands: Sequence[Command]) -> list[tuple[int, int, Command]]:
    """``(seq, timestamp_ns, command)`` as a sequencer would stamp them."""
    return [(n + 1, OPEN_NS + n * STEP_NS, c) for n, c in enumerate(commands)]


def print_book(engine: Engine, listing: Listing, depth: int) -> None:
    book = engine.book(listing.instrument, depth)
    state = engine.instrument_state(listing.instrument)
    band = f"{state.band[0]:,}..{state.band[1]:,}" if state.band else "none"
    last = f"{state.last_trade_price:,}" if state.last_trade_price is not None else "-"
    print(f"\n{listing.symbol} (instrument {listing.instrument})  last {last}  band {band}")
    print(f"{'orders':>7} {'bid qty':>9} {'bid':>8} | {'ask':<8} {'ask qty':<9} orders")
    for n in range(max(len(book.bids), len(book.asks))):
        bid = book.bids[n] if n < len(book.bids) else None
        ask = book.asks[n] if n < len(book.asks) else None
        left = f"{len(bid.orders):>7} {bid.total_qty:>9,} {bid.price:>8,}" if bid else " " * 26
        right = f"{ask.price:<8,} {ask.total_qty:<9,} {len(ask.orders):<7}" if ask else ""
        print(f"{left} | {right}".rstrip())


def print_summary(engine: Engine, events: Sequence[Event], seconds: float) -> None:
    trades = [e for e in events if isinstance(e, Trade)]
    kinds = Counter(type(e).__name__ for e in events)
    rejects = Counter(e.reason.name for e in events if isinstance(e, Rejected))
    rate = engine.last_seq / seconds if seconds > 0 else float("inf")
    print(f"\n{engine.last_seq:,} commands in {seconds * 1e3:.1f} ms ({rate:,.0f}/s from Python)")
    print("events: " + ", ".join(f"{name} {n:,}" for name, n in kinds.most_common()))
    print("rejects: " + ", ".join(f"{name} {n:,}" for name, n in rejects.most_common()))
    for listing in LISTINGS:
        fills = [t for t in trades if t.instrument == listing.instrument]
        volume = sum(t.qty for t in fills)
        vwap = sum(t.price * t.qty for t in fills) / volume if volume else 0.0
        print(f"{listing.symbol}: {len(fills):,} trades, volume {volume:,}, vwap {vwap:,.2f}")
    print("positions:")
    for account in ACCOUNTS:
        held = "  ".join(
            f"{listing.symbol} {engine.position(account, listing.instrument):+,}"
            for listing in LISTINGS
        )
        print(f"  account {account}: {held}  ({len(engine.open_orders(account))} open orders)")
    print(f"resting orders {engine.resting_orders:,}, state hash {engine.state_hash():#018x}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--orders", type=int, default=5000, help="random commands (5000)")
    parser.add_argument("--depth", type=int, default=5, help="book levels to show (5)")
    args = parser.parse_args(argv)

    commands = setup_commands(LISTINGS, ACCOUNTS)
    commands += random_orders(args.seed, args.orders, LISTINGS, ACCOUNTS)
    batch = stamped(commands)

    print(
        f"ringex demo: {len(LISTINGS)} instruments, {len(ACCOUNTS)} accounts, "
        f"{args.orders:,} random commands (seed {args.seed})"
    )
    engine = Engine()
    started = time.perf_counter()
    events = [e for seq, ts, c in batch for e in engine.apply(c, seq=seq, timestamp_ns=ts)]
    seconds = time.perf_counter() - started
    engine.check_invariants()
    for listing in LISTINGS:
        print_book(engine, listing, args.depth)
    print_summary(engine, events, seconds)

    replay = Engine()
    replayed = [e for events_of_one in replay.apply_many(batch) for e in events_of_one]
    same = replayed == events and replay.state_hash() == engine.state_hash()
    print(f"replay of the same stream in one batch: {'identical' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
