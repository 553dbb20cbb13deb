"""An order checked against its instrument's definition before it is sent, in the
engine's own order of checks, so a refusal carries the reason code the engine would
give. Only the rules a definition states are checked here: the price band moves with
every trade and the account's limits are the engine's to check."""

from ringex_client.enums import InstrumentState, OrderType, RejectReason, TimeInForce
from ringex_client.messages import InstrumentDefinition, NewOrder

PRICE_MAX = 1 << 52
"""The largest price any order may carry (SPEC.md, reject reason InvalidPrice)."""


class OrderRefusedError(ValueError):
    """The order breaks its instrument's rules; the engine would refuse it with
    ``reason``."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(f"order refused locally: {reason.name}")
        self.reason = reason


def _shape(definition: InstrumentDefinition, price: int, qty: int) -> RejectReason | None:
    if qty == 0 or qty > definition.max_qty:
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


__all__ = ["PRICE_MAX", "OrderRefusedError", "check_new_order"]
