"""FIX order entry mapped onto the binary protocol's order messages, and the account
stream's responses mapped back to FIX 4.4 reports, without I/O.

NewOrderSingle (D) → NewOrder, OrderCancelRequest (F) → Cancel, OrderCancelReplaceRequest
(G) → Replace, OrderMassCancelRequest (q) → MassCancel; OrderStatusRequest (H) and
SecurityListRequest (x) are answered by the gateway itself. Responses: Accepted,
Executed, Cancelled, Replaced → ExecutionReport (8); Rejected → ExecutionReport
(rejected), OrderCancelReject (9) or OrderMassCancelReport (r); CancelRejected →
OrderCancelReject; MassCancelled → OrderMassCancelReport. ClOrdIDs are the binary
protocol's client order ids: decimal numbers below 2^64.
"""

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ringex_client.enums import (
    ALL_INSTRUMENTS,
    CommandKind,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
)
from ringex_client.messages import (
    Accepted,
    Cancel,
    Cancelled,
    CancelRejected,
    Executed,
    MassCancel,
    MassCancelled,
    Message,
    NewOrder,
    Rejected,
    Replace,
    Replaced,
)
from ringex_gateway.fix.order_tracker import OrderTracker, OrdStatus, TrackedOrder
from ringex_gateway.fix.symbols import Symbol, SymbolTable
from ringex_gateway.fix.tags import (
    BusinessRejectReason,
    MsgType,
    SessionRejectReason,
    Tag,
    is_fix44_msg_type,
)

Fields = list[tuple[int, str]]
_T = TypeVar("_T")
_U64_MAX = (1 << 64) - 1
_SIDES = {"1": Side.BUY, "2": Side.SELL}
_FIX_SIDES = {Side.BUY: "1", Side.SELL: "2"}
_ORD_TYPES = {"1": OrderType.MARKET, "2": OrderType.LIMIT}
_FIX_ORD_TYPES = {OrderType.MARKET: "1", OrderType.LIMIT: "2"}
_TIFS = {"0": TimeInForce.DAY, "1": TimeInForce.GTC, "3": TimeInForce.IOC, "4": TimeInForce.FOK}
_FIX_TIFS = {v: k for k, v in _TIFS.items()}
_POST_ONLY = "6"  # ExecInst: participate, don't initiate
_ORD_REJ_REASONS = {
    RejectReason.UNKNOWN_INSTRUMENT: "1",
    RejectReason.INSTRUMENT_HALTED: "2",
    RejectReason.MAX_ORDER_QTY: "3",
    RejectReason.MAX_ORDER_NOTIONAL: "3",
    RejectReason.MAX_OPEN_ORDERS: "3",
    RejectReason.POSITION_LIMIT: "3",
    RejectReason.UNKNOWN_ORDER: "5",
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: "6",
    RejectReason.INVALID_QUANTITY: "13",
    RejectReason.QTY_NOT_ON_LOT: "13",
    RejectReason.UNKNOWN_ACCOUNT: "15",
}
_CXL_REJ_REASONS = {
    RejectReason.TOO_LATE_TO_CANCEL: "0",
    RejectReason.UNKNOWN_ORDER: "1",
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: "6",
}
_MASS_CANCEL_ALL, _MASS_CANCEL_SECURITY = "7", "1"
#: Requests awaiting their answer that the gateway remembers per FIX session.
PENDING_MAX = 65_536


class InvalidFieldError(Exception):
    """A field missing or malformed: answered with a session-level Reject."""

    def __init__(self, reason: SessionRejectReason, tag: int, text: str) -> None:
        super().__init__(text)
        self.reason, self.tag, self.text = reason, tag, text


@dataclass(frozen=True)
class Report:
    """A FIX application message to send; ``stream_seq`` is the account stream number it
    reports (0 for answers that are not in the stream)."""

    msg_type: str
    body: Fields
    stream_seq: int = 0


@dataclass(frozen=True)
class Forward:
    """A binary order message to hand to the gateway core."""

    message: Message


@dataclass(frozen=True)
class _NewOrderRequest:
    symbol: Symbol
    side: Side


class _Bounded(OrderedDict[int, object]):
    """Pending requests by id; the oldest is forgotten past :data:`PENDING_MAX`."""

    def put(self, key: int, value: object) -> None:
        self[key] = value
        while len(self) > PENDING_MAX:
            self.popitem(last=False)


class OrderEntry:
    """The order-entry mapping of one FIX session of one account."""

    def __init__(self, symbols: SymbolTable, max_orders: int) -> None:
        self.symbols = symbols
        self.orders = OrderTracker(max_orders)
        self._new = _Bounded()
        self._cancels = _Bounded()
        self._replaces = _Bounded()
        self._mass_cancels: deque[tuple[str, str]] = deque(maxlen=PENDING_MAX)
        self._security_lists = 0
        self._handlers: dict[str, Callable[[dict[int, str]], Forward | Report]] = {
            MsgType.NEW_ORDER_SINGLE: self._new_order,
            MsgType.ORDER_CANCEL_REQUEST: self._cancel,
            MsgType.ORDER_CANCEL_REPLACE_REQUEST: self._replace,
            MsgType.ORDER_MASS_CANCEL_REQUEST: self._mass_cancel,
            MsgType.ORDER_STATUS_REQUEST: self._status,
            MsgType.SECURITY_LIST_REQUEST: self._security_list,
        }

    # FIX → binary --------------------------------------------------------------------

    def request(self, fields: dict[int, str]) -> Forward | Report:
        """What an application message becomes; raises :class:`InvalidFieldError`."""
        msg_type = fields[Tag.MSG_TYPE]
        handler = self._handlers.get(msg_type)
        if handler is not None:
            return handler(fields)
        if not is_fix44_msg_type(msg_type):
            raise InvalidFieldError(
                SessionRejectReason.INVALID_MSG_TYPE, Tag.MSG_TYPE, "invalid MsgType"
            )
        return Report(
            MsgType.BUSINESS_MESSAGE_REJECT,
            [
                (Tag.REF_SEQ_NUM, fields[Tag.MSG_SEQ_NUM]),
                (Tag.REF_MSG_TYPE, msg_type),
                (Tag.BUSINESS_REJECT_REASON, str(BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE)),
                (Tag.TEXT, f"MsgType {msg_type} is not supported"),
            ],
        )

    def _new_order(self, f: dict[int, str]) -> Forward | Report:
        required(
            f, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE, Tag.TRANSACT_TIME, Tag.ORDER_QTY, Tag.ORD_TYPE
        )
        client_order_id = _client_order_id(f, Tag.CL_ORD_ID)
        side = _enum(f, Tag.SIDE, _SIDES)
        order_type = _enum(f, Tag.ORD_TYPE, _ORD_TYPES)
        tif = _enum(f, Tag.TIME_IN_FORCE, _TIFS, default="0")
        qty = _quantity(f)
        exec_inst = f.get(Tag.EXEC_INST, "")
        if exec_inst not in ("", _POST_ONLY):
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT, Tag.EXEC_INST, "ExecInst: only 6"
            )
        symbol = self.symbols.by_name(f[Tag.SYMBOL])
        if symbol is None:
            return self._order_rejected(f, "1", "unknown symbol")
        price = 0
        if order_type == OrderType.LIMIT:
            required(f, Tag.PRICE)
            try:
                price = symbol.units(f[Tag.PRICE])
            except ValueError as e:
                return self._order_rejected(f, "99", str(e))
        self._new.put(client_order_id, _NewOrderRequest(symbol, side))
        return Forward(
            NewOrder(
                client_order_id=client_order_id,
                instrument=symbol.instrument,
                side=side,
                order_type=order_type,
                time_in_force=tif,
                post_only=exec_inst == _POST_ONLY,
                price=price,
                qty=qty,
            )
        )

    def _order_rejected(self, f: dict[int, str], reason: str, text: str) -> Report:
        """An ExecutionReport rejecting a NewOrderSingle the gateway refuses itself."""
        return Report(
            MsgType.EXECUTION_REPORT,
            [
                (Tag.ORDER_ID, "NONE"),
                (Tag.CL_ORD_ID, f[Tag.CL_ORD_ID]),
                (Tag.EXEC_ID, f"R{f[Tag.MSG_SEQ_NUM]}"),
                (Tag.EXEC_TYPE, OrdStatus.REJECTED),
                (Tag.ORD_STATUS, OrdStatus.REJECTED),
                (Tag.ORD_REJ_REASON, reason),
                (Tag.SYMBOL, f[Tag.SYMBOL]),
                (Tag.SIDE, f[Tag.SIDE]),
                (Tag.LEAVES_QTY, "0"),
                (Tag.CUM_QTY, "0"),
                (Tag.AVG_PX, "0"),
                (Tag.TEXT, text),
            ],
        )

    def _cancel(self, f: dict[int, str]) -> Forward:
        required(f, Tag.ORIG_CL_ORD_ID, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE, Tag.TRANSACT_TIME)
        orig = _client_order_id(f, Tag.ORIG_CL_ORD_ID)
        self._cancels.put(orig, f[Tag.CL_ORD_ID])
        return Forward(Cancel(client_order_id=orig))

    def _replace(self, f: dict[int, str]) -> Forward | Report:
        required(f, Tag.ORIG_CL_ORD_ID, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE, Tag.TRANSACT_TIME)
        required(f, Tag.ORDER_QTY, Tag.ORD_TYPE, Tag.PRICE)
        orig = _client_order_id(f, Tag.ORIG_CL_ORD_ID)
        new = _client_order_id(f, Tag.CL_ORD_ID)
        qty = _quantity(f)
        order = self.orders.get(orig)
        symbol = self.symbols.by_name(f[Tag.SYMBOL])
        if symbol is None:
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT, Tag.SYMBOL, "unknown symbol"
            )
        try:
            price = symbol.units(f[Tag.PRICE])
        except ValueError as e:
            return self._cancel_rejected(f[Tag.CL_ORD_ID], f[Tag.ORIG_CL_ORD_ID], "2", "99", str(e))
        self._replaces.put(new, f[Tag.ORIG_CL_ORD_ID])
        # FIX's OrderQty is the order's total; the engine takes the new open quantity.
        open_qty = qty - order.cum_qty if order is not None else qty
        return Forward(
            Replace(
                orig_client_order_id=orig, client_order_id=new, price=price, qty=max(open_qty, 0)
            )
        )

    def _mass_cancel(self, f: dict[int, str]) -> Forward:
        required(f, Tag.CL_ORD_ID, Tag.MASS_CANCEL_REQUEST_TYPE, Tag.TRANSACT_TIME)
        kind = f[Tag.MASS_CANCEL_REQUEST_TYPE]
        if kind == _MASS_CANCEL_ALL:
            instrument = ALL_INSTRUMENTS
        elif kind == _MASS_CANCEL_SECURITY:
            required(f, Tag.SYMBOL)
            symbol = self.symbols.by_name(f[Tag.SYMBOL])
            if symbol is None:
                raise InvalidFieldError(
                    SessionRejectReason.VALUE_INCORRECT, Tag.SYMBOL, "unknown symbol"
                )
            instrument = symbol.instrument
        else:
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT,
                Tag.MASS_CANCEL_REQUEST_TYPE,
                "MassCancelRequestType: 1 or 7",
            )
        self._mass_cancels.append((f[Tag.CL_ORD_ID], kind))
        return Forward(MassCancel(instrument=instrument))

    def _status(self, f: dict[int, str]) -> Report:
        required(f, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE)
        order = self.orders.get(_client_order_id(f, Tag.CL_ORD_ID))
        if order is None:
            report = self._order_rejected(f, "5", "unknown order")
            body = [(t, "I") if t == Tag.EXEC_TYPE else (t, v) for t, v in report.body]
            return Report(MsgType.EXECUTION_REPORT, body)
        return Report(
            MsgType.EXECUTION_REPORT, self._execution(order, "I", f"S{f[Tag.MSG_SEQ_NUM]}")
        )

    def _security_list(self, f: dict[int, str]) -> Report:
        required(f, Tag.SECURITY_REQ_ID, Tag.SECURITY_LIST_REQUEST_TYPE)
        kind = f[Tag.SECURITY_LIST_REQUEST_TYPE]
        if kind == "0":
            required(f, Tag.SYMBOL)
            chosen = [s for s in self.symbols.symbols if s.symbol == f[Tag.SYMBOL]]
        elif kind == "4":
            chosen = self.symbols.symbols
        else:
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT,
                Tag.SECURITY_LIST_REQUEST_TYPE,
                "SecurityListRequestType: 0 or 4",
            )
        self._security_lists += 1
        body: Fields = [
            (Tag.SECURITY_REQ_ID, f[Tag.SECURITY_REQ_ID]),
            (Tag.SECURITY_RESPONSE_ID, str(self._security_lists)),
            (Tag.SECURITY_REQUEST_RESULT, "0" if chosen else "2"),
        ]
        if chosen:
            body.append((Tag.NO_RELATED_SYM, str(len(chosen))))
            body += [(Tag.SYMBOL, s.symbol) for s in chosen]
        return Report(MsgType.SECURITY_LIST, body)

    # binary → FIX --------------------------------------------------------------------

    def response(self, m: Message, report: bool) -> Report | None:
        """Applies an account stream message to the tracked orders; the FIX report for it
        when ``report`` (false for messages reported before a reconnect)."""
        seq = getattr(m, "seq", 0)
        built: Fields | None = None
        msg_type = MsgType.EXECUTION_REPORT
        exec_id = f"E{seq}"
        if isinstance(m, Accepted):
            order = self.orders.accepted(m)
            self._new.pop(m.client_order_id, None)
            built = self._execution(order, "0", exec_id)
        elif isinstance(m, Executed):
            filled = self.orders.executed(m)
            if filled is not None:
                built = self._execution(filled, "F", exec_id)
                built += [
                    (Tag.LAST_PX, self._price(filled.instrument, m.price)),
                    (Tag.LAST_QTY, str(m.qty)),
                ]
        elif isinstance(m, Cancelled):
            cancelled = self.orders.cancelled(m)
            if cancelled is not None:
                built = self._execution(cancelled, cancelled.status, exec_id)
                cancel_id = self._cancels.pop(m.client_order_id, None)
                if cancel_id is not None:
                    built = _with_ids(built, str(cancel_id), str(m.client_order_id))
        elif isinstance(m, Replaced):
            replaced = self.orders.replaced(m)
            self._replaces.pop(m.client_order_id, None)
            if replaced is not None:
                built = _with_ids(
                    self._execution(replaced, "5", exec_id),
                    str(m.client_order_id),
                    str(m.orig_client_order_id),
                )
        elif isinstance(m, CancelRejected):
            cancel_id = self._cancels.pop(m.client_order_id, None)
            if cancel_id is not None:
                return self._stream_report(
                    report,
                    seq,
                    self._cancel_rejected(
                        str(cancel_id),
                        str(m.client_order_id),
                        "1",
                        _CXL_REJ_REASONS.get(m.reason, "99"),
                        m.reason.name,
                    ),
                )
        elif isinstance(m, MassCancelled):
            return self._stream_report(report, seq, self._mass_cancel_report(seq, m.count))
        elif isinstance(m, Rejected):
            return self._stream_report(report, seq, self._rejected(m))
        if built is None or not report:
            return None
        return Report(msg_type, built, seq)

    @staticmethod
    def _stream_report(report: bool, seq: int, built: Report | None) -> Report | None:
        if built is None or not report:
            return None
        return Report(built.msg_type, built.body, seq)

    def _price(self, instrument: int, units: int) -> str:
        return self.symbols.by_instrument(instrument).price(units)

    def _execution(self, order: TrackedOrder, exec_type: str, exec_id: str) -> Fields:
        symbol = self.symbols.by_instrument(order.instrument)
        body: Fields = [
            (Tag.ORDER_ID, str(order.order_id)),
            (Tag.CL_ORD_ID, str(order.client_order_id)),
            (Tag.EXEC_ID, exec_id),
            (Tag.EXEC_TYPE, exec_type),
            (Tag.ORD_STATUS, order.status),
            (Tag.SYMBOL, symbol.symbol),
            (Tag.SIDE, _FIX_SIDES[order.side]),
            (Tag.ORDER_QTY, str(order.order_qty)),
            (Tag.ORD_TYPE, _FIX_ORD_TYPES[order.order_type]),
            (Tag.TIME_IN_FORCE, _FIX_TIFS[order.time_in_force]),
            (Tag.LEAVES_QTY, str(order.leaves)),
            (Tag.CUM_QTY, str(order.cum_qty)),
            (Tag.AVG_PX, _average_price(order, symbol)),
        ]
        if order.order_type == OrderType.LIMIT:
            body.append((Tag.PRICE, symbol.price(order.price)))
        return body

    def _cancel_rejected(
        self, cl_ord_id: str, orig: str, response_to: str, reason: str, text: str
    ) -> Report:
        order = self.orders.get(int(orig)) if orig.isdigit() else None
        return Report(
            MsgType.ORDER_CANCEL_REJECT,
            [
                (Tag.ORDER_ID, str(order.order_id) if order else "NONE"),
                (Tag.CL_ORD_ID, cl_ord_id),
                (Tag.ORIG_CL_ORD_ID, orig),
                (Tag.ORD_STATUS, order.status if order else OrdStatus.REJECTED),
                (Tag.CXL_REJ_RESPONSE_TO, response_to),
                (Tag.CXL_REJ_REASON, reason),
                (Tag.TEXT, text),
            ],
        )

    def _mass_cancel_report(self, seq: int, count: int | None, text: str = "") -> Report | None:
        if not self._mass_cancels:
            return None  # another session's mass cancel: its orders' reports say it all
        cl_ord_id, kind = self._mass_cancels.popleft()
        body: Fields = [
            (Tag.CL_ORD_ID, cl_ord_id),
            (Tag.ORDER_ID, f"M{seq}"),
            (Tag.MASS_CANCEL_REQUEST_TYPE, kind),
            (Tag.MASS_CANCEL_RESPONSE, kind if count is not None else "0"),
        ]
        if count is None:
            body += [(Tag.MASS_CANCEL_REJECT_REASON, "99"), (Tag.TEXT, text)]
        else:
            body.append((Tag.TOTAL_AFFECTED_ORDERS, str(count)))
        return Report(MsgType.ORDER_MASS_CANCEL_REPORT, body)

    def _rejected(self, m: Rejected) -> Report | None:
        text = m.reason.name
        if m.command == CommandKind.REPLACE:
            orig = self._replaces.pop(m.client_order_id, None)
            if orig is None:
                return None
            reason = _CXL_REJ_REASONS.get(m.reason, "99")
            return self._cancel_rejected(str(m.client_order_id), str(orig), "2", reason, text)
        if m.command == CommandKind.MASS_CANCEL:
            return self._mass_cancel_report(m.seq, None, text)
        pending = self._new.pop(m.client_order_id, None)
        if not isinstance(pending, _NewOrderRequest):
            return None  # another session's order: it never existed
        return Report(
            MsgType.EXECUTION_REPORT,
            [
                (Tag.ORDER_ID, "NONE"),
                (Tag.CL_ORD_ID, str(m.client_order_id)),
                (Tag.EXEC_ID, f"J{m.seq}-{m.client_order_id}"),
                (Tag.EXEC_TYPE, OrdStatus.REJECTED),
                (Tag.ORD_STATUS, OrdStatus.REJECTED),
                (Tag.ORD_REJ_REASON, _ORD_REJ_REASONS.get(m.reason, "99")),
                (Tag.SYMBOL, pending.symbol.symbol),
                (Tag.SIDE, _FIX_SIDES[pending.side]),
                (Tag.LEAVES_QTY, "0"),
                (Tag.CUM_QTY, "0"),
                (Tag.AVG_PX, "0"),
                (Tag.TEXT, text),
            ],
        )


def _with_ids(body: Fields, cl_ord_id: str, orig: str) -> Fields:
    """``body`` answering request ``cl_ord_id`` about order ``orig``."""
    out = [(t, cl_ord_id) if t == Tag.CL_ORD_ID else (t, v) for t, v in body]
    out.insert(2, (Tag.ORIG_CL_ORD_ID, orig))
    return out


def _average_price(order: TrackedOrder, symbol: Symbol) -> str:
    """AvgPx: the fills' notional over their quantity, exact when it divides, else to 12
    decimal places, without exponent or trailing zeros."""
    if not order.cum_qty:
        return "0"
    whole, rest = divmod(order.notional, order.cum_qty)
    if not rest:
        return symbol.price(whole)
    avg = Decimal(order.notional) / order.cum_qty / Decimal(10) ** symbol.price_decimals
    text = f"{avg.quantize(Decimal(1).scaleb(-12)):f}"
    return text.rstrip("0").rstrip(".")


def required(f: dict[int, str], *tags: Tag) -> None:
    """Raises :class:`InvalidFieldError` for the first of ``tags`` missing from ``f``."""
    for tag in tags:
        if tag not in f:
            raise InvalidFieldError(
                SessionRejectReason.REQUIRED_TAG_MISSING, tag, f"{tag.name}({int(tag)}) missing"
            )


def _client_order_id(f: dict[int, str], tag: Tag) -> int:
    text = f[tag]
    if not text.isdigit() or int(text) > _U64_MAX or int(text) == 0:
        raise InvalidFieldError(
            SessionRejectReason.VALUE_INCORRECT, tag, f"{tag.name}: a number 1 to 2^64-1"
        )
    return int(text)


def _quantity(f: dict[int, str]) -> int:
    text = f[Tag.ORDER_QTY]
    if not text.isdigit() or not 0 < int(text) <= _U64_MAX:
        raise InvalidFieldError(
            SessionRejectReason.INCORRECT_DATA_FORMAT, Tag.ORDER_QTY, "OrderQty: whole lots"
        )
    return int(text)


def _enum(f: dict[int, str], tag: Tag, values: dict[str, _T], default: str | None = None) -> _T:
    text = f.get(tag, default)
    if text is None:
        raise InvalidFieldError(
            SessionRejectReason.REQUIRED_TAG_MISSING, tag, f"{tag.name}({int(tag)}) missing"
        )
    if text not in values:
        raise InvalidFieldError(
            SessionRejectReason.VALUE_INCORRECT, tag, f"{tag.name}: not a supported value"
        )
    return values[text]
