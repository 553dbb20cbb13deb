"""Order-entry calls shared by the blocking and asyncio clients: each builds the message,
hands it to the session, and returns the client order id it used."""

import itertools
import time
from collections.abc import Callable

from ringex_client.enums import ALL_INSTRUMENTS, FeedKind, OrderType, Side, TimeInForce
from ringex_client.instrument_rules import OrderRefusedError, check_new_order, check_replace
from ringex_client.messages import (
    Cancel,
    EndOfDay,
    FeedSubscribe,
    InstrumentDefinition,
    MassCancel,
    Message,
    NewOrder,
    Replace,
    ResendRequest,
    SetHalted,
    Subscribe,
)
from ringex_client.protocol import ClientProtocol


class OrderEntry:
    """Mixin: the order-entry API over a ``_send(message)`` the client defines."""

    _send: Callable[[Message], None]
    protocol: ClientProtocol

    @property
    def instruments(self) -> dict[int, InstrumentDefinition]:
        """Every listed instrument's definition by id, kept current (listings, halts
        and resumes arrive in the account's stream). Empty until the gateway's first
        answer after login."""
        return self.protocol.instruments

    def _init_ids(self, first_client_order_id: int | None) -> None:
        # Microseconds since the epoch: increasing across restarts of the program, so a
        # new run does not reuse the day's ids.
        start = time.time_ns() // 1000 if first_client_order_id is None else first_client_order_id
        self._ids = itertools.count(start)

    def next_client_order_id(self) -> int:
        """A fresh client order id."""
        return next(self._ids)

    def submit(
        self,
        instrument: int,
        side: Side,
        qty: int,
        price: int = 0,
        *,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        client_order_id: int | None = None,
        check: bool = True,
    ) -> int:
        """Enters a new order; returns its client order id. With ``check`` (and the
        definitions loaded) an order that breaks its instrument's rules raises
        :class:`OrderRefusedError` with the engine's reason instead of being sent."""
        coid = self.next_client_order_id() if client_order_id is None else client_order_id
        order = NewOrder(coid, instrument, side, order_type, time_in_force, post_only, price, qty)
        if check and self.protocol.instruments_loaded:
            reason = check_new_order(self.protocol.instruments, order)
            if reason is not None:
                raise OrderRefusedError(reason)
        self._send(order)
        return coid

    def buy(self, instrument: int, qty: int, price: int, **kw: object) -> int:
        """A limit buy (keywords as for :meth:`submit`)."""
        return self.submit(instrument, Side.BUY, qty, price, **kw)  # type: ignore[arg-type]

    def sell(self, instrument: int, qty: int, price: int, **kw: object) -> int:
        """A limit sell (keywords as for :meth:`submit`)."""
        return self.submit(instrument, Side.SELL, qty, price, **kw)  # type: ignore[arg-type]

    def cancel(self, client_order_id: int) -> None:
        """Cancels an open order."""
        self._send(Cancel(client_order_id))

    def replace(
        self,
        client_order_id: int,
        price: int,
        qty: int,
        *,
        new_client_order_id: int | None = None,
        check: bool = True,
    ) -> int:
        """Cancel/replace to a new price and open quantity; returns the order's new id.
        With ``check``, a replace of an order this client has seen, on an instrument
        whose definition it holds, that breaks the instrument's rules raises
        :class:`OrderRefusedError` with the engine's reason instead of being sent."""
        new = self.next_client_order_id() if new_client_order_id is None else new_client_order_id
        replace = Replace(client_order_id, new, price, qty)
        order = self.protocol.tracker.orders.get(client_order_id)
        definition = None if order is None else self.protocol.instruments.get(order.instrument)
        if check and definition is not None:
            reason = check_replace(definition, replace)
            if reason is not None:
                raise OrderRefusedError(reason)
        self._send(replace)
        return new

    def mass_cancel(self, instrument: int = ALL_INSTRUMENTS) -> None:
        """Cancels every open order of the account (on one instrument, or all)."""
        self._send(MassCancel(instrument))

    def subscribe(self, instrument: int, on: bool = True) -> None:
        """Starts (or stops) market data for an instrument."""
        self._send(Subscribe(instrument, on))

    def subscribe_feed(
        self, instrument: int, feed: FeedKind, depth: int = 0, on: bool = True
    ) -> None:
        """Starts (or stops) a market data feed of an instrument (``ALL_INSTRUMENTS``
        for every one): a snapshot (SnapshotBegin, entries, SnapshotEnd), then the
        incrementals after it. ``depth`` is the L2 depth (one the gateway offers)."""
        self._send(FeedSubscribe(instrument, feed, depth, on))

    def request_resend(
        self, instrument: int, feed: FeedKind, from_seq: int, to_seq: int, depth: int = 0
    ) -> None:
        """Asks for a subscribed feed's incrementals ``from_seq..=to_seq`` again (feed_seq;
        level_seq for L2). Outside the gateway's window the answer is FeedRejected
        (RESEND_OUT_OF_WINDOW) and a fresh snapshot."""
        self._send(ResendRequest(instrument, feed, depth, from_seq, to_seq))

    def end_of_day(self) -> int:
        """Admin only: closes the trading day; returns the request id its AdminResult
        carries."""
        request_id = self.next_client_order_id()
        self._send(EndOfDay(request_id))
        return request_id

    def set_halted(self, instrument: int, halted: bool) -> int:
        """Admin only: halts or resumes an instrument; returns the request id its
        AdminResult carries."""
        request_id = self.next_client_order_id()
        self._send(SetHalted(request_id, instrument, halted))
        return request_id
