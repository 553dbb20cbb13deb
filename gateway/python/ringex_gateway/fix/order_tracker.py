"""The account's orders as its stream tells them, for what FIX reports and the binary
protocol does not carry: cumulative quantity, average price, order status, and the
answer to an OrderStatusRequest.

Built from every order response of the account's stream (the replay at logon included),
so it holds the orders of every session of the account. Bounded: at most ``max_orders``
open and ``max_orders`` finished orders; the oldest finished ones are forgotten first.
"""

from collections import OrderedDict
from dataclasses import dataclass

from ringex_client.enums import CancelReason, OrderType, Side, TimeInForce
from ringex_client.messages import Accepted, Cancelled, Executed, Replaced


class OrdStatus:
    """OrdStatus (39) values."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    CANCELED = "4"
    REPLACED = "5"
    REJECTED = "8"
    EXPIRED = "C"


@dataclass
class TrackedOrder:
    """One order of the account."""

    client_order_id: int
    order_id: int
    instrument: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    order_qty: int
    cum_qty: int = 0
    notional: int = 0
    leaves: int = 0
    status: str = OrdStatus.NEW

    @property
    def open(self) -> bool:
        """Whether the order still rests (or may)."""
        return self.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)


class OrderTracker:
    """Orders by client order id, updated from the account stream."""

    def __init__(self, max_orders: int) -> None:
        assert max_orders > 0
        self._max = max_orders
        self._open: dict[int, TrackedOrder] = {}
        self._finished: OrderedDict[int, TrackedOrder] = OrderedDict()

    def get(self, client_order_id: int) -> TrackedOrder | None:
        """The order with this id, open or recently finished."""
        return self._open.get(client_order_id) or self._finished.get(client_order_id)

    def accepted(self, m: Accepted) -> TrackedOrder:
        """A new order rests (or is about to trade)."""
        order = TrackedOrder(
            client_order_id=m.client_order_id,
            order_id=m.order_id,
            instrument=m.instrument,
            side=m.side,
            order_type=m.order_type,
            time_in_force=m.time_in_force,
            price=m.price,
            order_qty=m.qty,
            leaves=m.qty,
        )
        if len(self._open) < self._max:
            self._open[m.client_order_id] = order
        return order

    def executed(self, m: Executed) -> TrackedOrder | None:
        """A fill of one of the account's orders."""
        order = self._open.get(m.client_order_id)
        if order is None:
            return None
        order.cum_qty += m.qty
        order.notional += m.qty * m.price
        order.leaves = m.leaves
        order.status = OrdStatus.PARTIALLY_FILLED if m.leaves else OrdStatus.FILLED
        if not m.leaves:
            self._finish(order)
        return order

    def cancelled(self, m: Cancelled) -> TrackedOrder | None:
        """An order's open quantity left the book."""
        order = self._open.get(m.client_order_id)
        if order is None:
            return None
        order.leaves = 0
        order.status = OrdStatus.EXPIRED if m.reason == CancelReason.EXPIRED else OrdStatus.CANCELED
        self._finish(order)
        return order

    def replaced(self, m: Replaced) -> TrackedOrder | None:
        """A cancel/replace: the order takes its new id, price and open quantity."""
        order = self._open.pop(m.orig_client_order_id, None)
        if order is None:
            return None
        order.client_order_id = m.client_order_id
        order.price = m.price
        order.leaves = m.qty
        order.order_qty = order.cum_qty + m.qty
        self._open[m.client_order_id] = order
        return order

    def _finish(self, order: TrackedOrder) -> None:
        self._open.pop(order.client_order_id, None)
        self._finished[order.client_order_id] = order
        while len(self._finished) > self._max:
            self._finished.popitem(last=False)
