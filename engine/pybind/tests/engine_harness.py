"""What the bindings' tests share: a small engine with one instrument and two accounts,
and a short way to enter orders on it. Imported by name (pytest's `pythonpath`)."""

from typing import Protocol

from ringex_engine import (
    AddAccount,
    AddInstrument,
    Engine,
    Event,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
)

INST = 7
ALICE = 1
BOB = 2


class PlaceOrder(Protocol):
    """Enters a new order on instrument 7; returns its events."""

    def __call__(
        self,
        account: int,
        client_order_id: int,
        side: Side,
        price: int,
        qty: int,
        time_in_force: TimeInForce = TimeInForce.GTC,
        order_type: OrderType = OrderType.LIMIT,
        post_only: bool = False,
    ) -> list[Event]: ...


def small_engine() -> Engine:
    """An engine with instrument 7 (tick 5, lot 10, reference 1000, 10% band) and
    accounts 1 and 2 (orders of at most 1000, notional 1,000,000, 4 open orders)."""
    engine = Engine(
        max_orders=64,
        max_instruments=16,
        max_accounts=16,
        max_client_ids_per_day=256,
        levels_per_side=8,
    )
    engine.submit(
        AddInstrument(
            instrument=INST, tick_size=5, lot_size=10, reference_price=1000, price_band_bps=1000
        )
    )
    for account in (ALICE, BOB):
        engine.submit(
            AddAccount(
                account=account,
                max_order_qty=1000,
                max_order_notional=1_000_000,
                max_open_orders=4,
            )
        )
    return engine


def order_placer(engine: Engine) -> PlaceOrder:
    """A function that submits a new order on instrument 7 and checks the invariants."""

    def place(
        account: int,
        client_order_id: int,
        side: Side,
        price: int,
        qty: int,
        time_in_force: TimeInForce = TimeInForce.GTC,
        order_type: OrderType = OrderType.LIMIT,
        post_only: bool = False,
    ) -> list[Event]:
        events = engine.submit(
            NewOrder(
                account=account,
                instrument=INST,
                client_order_id=client_order_id,
                side=side,
                qty=qty,
                price=price,
                order_type=order_type,
                time_in_force=time_in_force,
                post_only=post_only,
            )
        )
        engine.check_invariants()
        return events

    return place
