"""Seeded random order flow: a reproducible stream of commands of every kind.

For demos, tests and quick benchmarks. The same seed gives the same commands on every
machine (``random.Random`` is specified to), so two engines fed a workload must agree.
"""

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ringex_engine import (
    AddAccount,
    AddInstrument,
    Cancel,
    Command,
    EndOfDay,
    MassCancel,
    NewOrder,
    OrderType,
    Replace,
    SetHalted,
    Side,
    TimeInForce,
)

__all__ = ["Listing", "random_orders", "setup_commands"]

# Orders a random client may have open at once; beyond it new orders are rejected.
_MAX_OPEN_ORDERS = 10_000
# How far from the fair price orders are placed, in ticks.
_SPREAD_TICKS = 12


@dataclass(frozen=True)
class Listing:
    """An instrument to trade: its id, display symbol and trading rules."""

    instrument: int
    symbol: str
    reference_price: int
    tick_size: int = 1
    lot_size: int = 1
    price_band_bps: int = 1000


def setup_commands(listings: Sequence[Listing], accounts: Sequence[int]) -> list[Command]:
    """Commands that list every instrument and open every account (generous limits)."""
    commands: list[Command] = [
        AddInstrument(
            instrument=listing.instrument,
            tick_size=listing.tick_size,
            lot_size=listing.lot_size,
            reference_price=listing.reference_price,
            price_band_bps=listing.price_band_bps,
        )
        for listing in listings
    ]
    commands += [
        AddAccount(
            account=account,
            max_order_qty=1_000_000,
            max_order_notional=10**15,
            max_open_orders=_MAX_OPEN_ORDERS,
        )
        for account in accounts
    ]
    return commands


def random_orders(
    seed: int, count: int, listings: Sequence[Listing], accounts: Sequence[int]
) -> Iterator[Command]:
    """``count`` commands: mostly limit orders around a drifting fair price, with IOC,
    FOK, post-only and market orders, cancels, replaces, mass cancels, a short halt of
    the first instrument halfway and an end of day three quarters in.

    Client order ids count up per account from 1; cancels and replaces name ids issued
    earlier, some of which will have filled already (a realistic share of rejects).
    """
    rng = random.Random(seed)
    fair = {listing.instrument: listing.reference_price for listing in listings}
    next_id = dict.fromkeys(accounts, 1)
    issued: dict[int, list[tuple[Listing, int]]] = {account: [] for account in accounts}
    halt_at = count // 2
    halted = listings[0].instrument
    for n in range(count):
        listing = rng.choice(listings)
        account = rng.choice(accounts)
        if n in (halt_at, halt_at + 20):
            yield SetHalted(instrument=halted, halted=n == halt_at)
            continue
        if n == count * 3 // 4:
            yield EndOfDay()
            continue
        roll = rng.random()
        mine = issued[account]
        if roll < 0.12 and mine:
            _, client_order_id = rng.choice(mine)
            yield Cancel(account=account, client_order_id=client_order_id)
            continue
        if roll < 0.20 and mine:
            target, orig = rng.choice(mine)
            client_order_id = next_id[account]
            next_id[account] += 1
            mine.append((target, client_order_id))
            price = _price(rng, target, fair[target.instrument], rng.choice(list(Side)))
            yield Replace(
                account=account,
                orig_client_order_id=orig,
                client_order_id=client_order_id,
                price=price,
                qty=_qty(rng, target),
            )
            continue
        if roll < 0.205:
            yield MassCancel(account=account, instrument=rng.choice([None, listing.instrument]))
            continue
        # The fair price drifts a tick at a time, so books move and bands get exercised.
        fair[listing.instrument] += listing.tick_size * rng.choice((-1, 0, 0, 1))
        client_order_id = next_id[account]
        next_id[account] += 1
        mine.append((listing, client_order_id))
        yield _new_order(rng, listing, fair[listing.instrument], account, client_order_id)


def _new_order(
    rng: random.Random, listing: Listing, fair: int, account: int, client_order_id: int
) -> NewOrder:
    side = rng.choice(list(Side))
    kind = rng.random()
    if kind < 0.06:
        return NewOrder(
            account=account,
            instrument=listing.instrument,
            client_order_id=client_order_id,
            side=side,
            qty=_qty(rng, listing),
            order_type=OrderType.MARKET,
            time_in_force=TimeInForce.IOC,
        )
    if kind < 0.14:
        tif = TimeInForce.IOC
    elif kind < 0.18:
        tif = TimeInForce.FOK
    else:
        tif = rng.choice((TimeInForce.GTC, TimeInForce.DAY))
    return NewOrder(
        account=account,
        instrument=listing.instrument,
        client_order_id=client_order_id,
        side=side,
        qty=_qty(rng, listing),
        price=_price(rng, listing, fair, side),
        time_in_force=tif,
        post_only=tif in (TimeInForce.GTC, TimeInForce.DAY) and rng.random() < 0.1,
    )


def _price(rng: random.Random, listing: Listing, fair: int, side: Side) -> int:
    """Mostly on the order's own side of the fair price, sometimes across it."""
    ticks = rng.randint(-3, _SPREAD_TICKS)
    offset = ticks * listing.tick_size
    price = fair - offset if side == Side.BUY else fair + offset
    return max(price, listing.tick_size)


def _qty(rng: random.Random, listing: Listing) -> int:
    return listing.lot_size * rng.choice((1, 1, 2, 3, 5, 10, 20))
