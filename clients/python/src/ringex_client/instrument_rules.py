"""An order checked against its instrument's definition before it is sent, in the
engine's own order of checks, so a refusal carries the reason code the engine would
give. Only the rules a definition states are checked here: the price band moves with
every trade, and the account's limits and its client order ids are the engine's to
check."""

from ringex_client.enums import InstrumentState, OrderType, RejectReason, TimeInForce
from ringex_client.messages import InstrumentDefinition, NewOrder, Replace

PRICE_MAX = 1 << 52
"""The largest price any order may carry (SPEC.md, reject reason InvalidPrice)."""
QTY_MAX = 1 << 38
"""The largest quantity the engine reads as a quantity at all: above it an order is
refused InvalidQuantity; at or below it but off the lot, QtyNotOnLot (so a quantity
between a definition's ``max_qty`` and this one is off the lot, not too large)."""


class OrderRefusedError(ValueError):
    """The order breaks its instrument's rules; the engine would refuse it with
    ``reason``."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(f"order refused locally: {reason.name}")
        self.reason = reason


def _shape(definition: InstrumentDefinition, price: int, qty: int) -> RejectReason | None:
    if qty == 0 or qty > QTY_MAX:
        return RejectReason.INVALID_QUANTITY
    if qty % definition.lot_size:
        return RejectReason.QTY_NOT_ON_LOT
    if price <= 0 or price > PRICE_MAX:
        return RejectReason.INVALID_PRICE
    if price % definition.tick_size:
        return RejectReason.PRICE_NOT_ON_TICK
    return None


def check_new_order(
    instruments: dict[int, InstrumentDefinition], order: NewOrder
) -> RejectReason | None:
    """Why the engine would refuse ``order`` on its instrument's rules, or None."""
    definition = instruments.get(order.instrument)
    if definition is None:
        return RejectReason.UNKNOWN_INSTRUMENT
    if definition.state == InstrumentState.HALTED:
        return RejectReason.INSTRUMENT_HALTED
    may_rest = order.time_in_force in (TimeInForce.GTC, TimeInForce.DAY)
    if order.order_type == OrderType.LIMIT:
        refused = _shape(definition, order.price, order.qty)
        if refused is None and order.post_only and not may_rest:
            refused = RejectReason.INVALID_ORDER_TYPE
        return refused
    if order.price != 0:
        return RejectReason.INVALID_PRICE
    if order.post_only or may_rest or definition.price_band_bps == 0:
        return RejectReason.INVALID_ORDER_TYPE
    return _shape(definition, definition.reference_price, order.qty)


def check_replace(definition: InstrumentDefinition, replace: Replace) -> RejectReason | None:
    """Why the engine would refuse ``replace`` of an open order on the instrument
    ``definition`` describes, on that instrument's rules, or None. Whether the order is
    still open is the engine's to say (UnknownOrder, TooLateToCancel come first)."""
    if definition.state == InstrumentState.HALTED:
        return RejectReason.INSTRUMENT_HALTED
    return _shape(definition, replace.price, replace.qty)


__all__ = ["PRICE_MAX", "QTY_MAX", "OrderRefusedError", "check_new_order", "check_replace"]
