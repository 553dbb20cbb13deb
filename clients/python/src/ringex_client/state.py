"""Order state as the client sees it: open orders, fills and positions, built from the
account's stream (which includes orders entered by other sessions of the account)."""

from enum import Enum

import msgspec

from ringex_client.enums import CommandKind, OrderType, RejectReason, Side, TimeInForce
from ringex_client.messages import (
    Accepted,
    Cancelled,
    Executed,
    Message,
    NewOrder,
    Rejected,
    Replaced,
)


class OrderStatus(Enum):
    """Where an order is in its life."""

    PENDING_NEW = "pending_new"
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Order(msgspec.Struct):
    """One order of the account."""

    client_order_id: int
    instrument: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    qty: int
    leaves: int
    status: OrderStatus
    filled: int = 0
    order_id: int = 0
    reject_reason: RejectReason | None = None


class Position(msgspec.Struct):
    """Net position in one instrument from the fills seen: ``qty`` is bought minus
    sold; ``cash`` is the money paid out (negative) and received (positive)."""

    instrument: int
    qty: int = 0
    cash: int = 0
    bought: int = 0
    sold: int = 0


class OrderTracker:
    """Applies order responses to the account's orders, fills and positions."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.fills: list[Executed] = []
        self.positions: dict[int, Position] = {}

    def open_orders(self) -> list[Order]:
        """Orders pending or resting, oldest first."""
        live = (OrderStatus.OPEN, OrderStatus.PENDING_NEW)
        return [o for o in self.orders.values() if o.status in live]

    def sent(self, message: NewOrder) -> None:
        """A new order went out: it is pending until the engine answers."""
        self.orders.setdefault(
            message.client_order_id,
            Order(
                client_order_id=message.client_order_id,
                instrument=message.instrument,
                side=message.side,
                order_type=message.order_type,
                time_in_force=message.time_in_force,
                price=message.price,
                qty=message.qty,
                leaves=message.qty,
                status=OrderStatus.PENDING_NEW,
            ),
        )

    def apply(self, message: Message) -> None:
        """Updates the state from one server message (others are ignored)."""
        if isinstance(message, Accepted):
            order = self.orders.get(message.client_order_id)
            if order is None:
                order = Order(
                    client_order_id=message.client_order_id,
                    instrument=message.instrument,
                    side=message.side,
                    order_type=message.order_type,
                    time_in_force=message.time_in_force,
                    price=message.price,
                    qty=message.qty,
                    leaves=message.qty,
                    status=OrderStatus.OPEN,
                )
                self.orders[message.client_order_id] = order
            order.order_id = message.order_id
            if order.status == OrderStatus.PENDING_NEW:
                order.status = OrderStatus.OPEN
        elif isinstance(message, Executed):
            self.fills.append(message)
            order = self.orders.get(message.client_order_id)
            if order is not None:
                order.leaves = message.leaves
                order.filled += message.qty
                if message.leaves == 0:
                    order.status = OrderStatus.FILLED
            p = self.positions.setdefault(message.instrument, Position(message.instrument))
            signed = message.qty if message.side == Side.BUY else -message.qty
            p.qty += signed
            p.cash -= signed * message.price
            if message.side == Side.BUY:
                p.bought += message.qty
            else:
                p.sold += message.qty
        elif isinstance(message, Cancelled):
            order = self.orders.get(message.client_order_id)
            if order is not None:
                order.leaves = 0
                order.status = OrderStatus.CANCELLED
        elif isinstance(message, Replaced):
            order = self.orders.pop(message.orig_client_order_id, None)
            if order is not None:
                order.client_order_id = message.client_order_id
                order.price = message.price
                order.leaves = message.qty
                order.qty = order.filled + message.qty
                order.status = OrderStatus.OPEN
                self.orders[message.client_order_id] = order
        elif isinstance(message, Rejected) and message.command == CommandKind.NEW_ORDER:
            order = self.orders.get(message.client_order_id)
            # A duplicate id refused on a resend: the original stands.
            duplicate = message.reason == RejectReason.DUPLICATE_CLIENT_ORDER_ID
            if order is not None and not duplicate:
                order.status = OrderStatus.REJECTED
                order.reject_reason = message.reason
                order.leaves = 0
