"""FIX order entry mapped onto the binary protocol's order messages, and the account
stream's responses mapped back to FIX 4.4 reports, without I/O.

NewOrderSingle (D) → NewOrder, OrderCancelRequest (F) → Cancel, OrderCancelReplaceRequest
(G) → Replace, OrderMassCancelRequest (q) → MassCancel; OrderStatusRequest (H) and
SecurityListRequest (x) are answered by the gateway itself, the latter from the terms
the engine listed each instrument with (lot size, tick, halted). The responses become FIX
reports in native code (``FixOrders``), which also tracks the account's orders and the
requests awaiting their answer. ClOrdIDs are the binary protocol's client order ids:
decimal numbers below 2^64.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ringex_client.enums import ALL_INSTRUMENTS, OrderType, Side, TimeInForce
from ringex_client.messages import Cancel, MassCancel, Message, NewOrder, Replace
from ringex_gateway._native import FixOrders
from ringex_gateway.fix.symbols import SymbolTable
from ringex_gateway.fix.tags import (
    BusinessRejectReason,
    MsgType,
    SessionRejectReason,
    Tag,
    is_fix44_msg_type,
)
from ringex_gateway.instrument_terms import InstrumentTerms

Fields = list[tuple[int, str]]
#: The engine's terms for an instrument, or None when the engine has not listed it.
Listing = Callable[[int], InstrumentTerms | None]
_T = TypeVar("_T")
_U64_MAX = (1 << 64) - 1
_SIDES = {"1": Side.BUY, "2": Side.SELL}
_ORD_TYPES = {"1": OrderType.MARKET, "2": OrderType.LIMIT}
_TIFS = {"0": TimeInForce.DAY, "1": TimeInForce.GTC, "3": TimeInForce.IOC, "4": TimeInForce.FOK}
_POST_ONLY = "6"  # ExecInst: participate, don't initiate
_MASS_CANCEL_ALL, _MASS_CANCEL_SECURITY = "7", "1"
_SECURITY_ID_SOURCE_EXCHANGE = "8"  # SecurityIDSource: exchange symbol
_REJECTED = "8"  # ExecType and OrdStatus


class InvalidFieldError(Exception):
    """A field missing or malformed: answered with a session-level Reject."""

    def __init__(self, reason: SessionRejectReason, tag: int, text: str) -> None:
        super().__init__(text)
        self.reason, self.tag, self.text = reason, tag, text


@dataclass(frozen=True)
class Report:
    """A FIX application message to send (an answer the gateway gives itself)."""

    msg_type: str
    body: Fields


@dataclass(frozen=True)
class Forward:
    """A binary order message to hand to the gateway core."""

    message: Message


class OrderEntry:
    """The order-entry mapping of one FIX session of one account."""

    def __init__(self, symbols: SymbolTable, max_orders: int, listing: Listing) -> None:
        self.symbols = symbols
        self._listing = listing
        self.orders = FixOrders(
            [(s.symbol, s.instrument, s.price_decimals) for s in symbols.symbols], max_orders
        )
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
        self.orders.expect_new(client_order_id, symbol.instrument, int(side))
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
                (Tag.EXEC_TYPE, _REJECTED),
                (Tag.ORD_STATUS, _REJECTED),
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
        self.orders.expect_cancel(orig, f[Tag.CL_ORD_ID])
        return Forward(Cancel(client_order_id=orig))

    def _replace(self, f: dict[int, str]) -> Forward | Report:
        required(f, Tag.ORIG_CL_ORD_ID, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE, Tag.TRANSACT_TIME)
        required(f, Tag.ORDER_QTY, Tag.ORD_TYPE, Tag.PRICE)
        orig = _client_order_id(f, Tag.ORIG_CL_ORD_ID)
        new = _client_order_id(f, Tag.CL_ORD_ID)
        qty = _quantity(f)
        cum_qty = self.orders.cum_qty(orig)
        symbol = self.symbols.by_name(f[Tag.SYMBOL])
        if symbol is None:
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT, Tag.SYMBOL, "unknown symbol"
            )
        try:
            price = symbol.units(f[Tag.PRICE])
        except ValueError as e:
            reject = self.orders.cancel_reject(
                f[Tag.CL_ORD_ID], f[Tag.ORIG_CL_ORD_ID], "2", "99", str(e)
            )
            return Report(MsgType.ORDER_CANCEL_REJECT, reject)
        self.orders.expect_replace(new, f[Tag.ORIG_CL_ORD_ID])
        # FIX's OrderQty is the order's total; the engine takes the new open quantity.
        open_qty = qty - cum_qty if cum_qty is not None else qty
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
        self.orders.expect_mass_cancel(f[Tag.CL_ORD_ID], kind)
        return Forward(MassCancel(instrument=instrument))

    def _status(self, f: dict[int, str]) -> Report:
        required(f, Tag.CL_ORD_ID, Tag.SYMBOL, Tag.SIDE)
        coid = _client_order_id(f, Tag.CL_ORD_ID)
        status = self.orders.status_report(coid, f"S{f[Tag.MSG_SEQ_NUM]}")
        if status is None:
            report = self._order_rejected(f, "5", "unknown order")
            status = [(t, "I") if t == Tag.EXEC_TYPE else (t, v) for t, v in report.body]
        return Report(MsgType.EXECUTION_REPORT, status)

    def _security_list(self, f: dict[int, str]) -> Report:
        required(f, Tag.SECURITY_REQ_ID, Tag.SECURITY_LIST_REQUEST_TYPE)
        kind = f[Tag.SECURITY_LIST_REQUEST_TYPE]
        if kind == "0":
            required(f, Tag.SYMBOL)
            asked = [s for s in self.symbols.symbols if s.symbol == f[Tag.SYMBOL]]
        elif kind == "4":
            asked = self.symbols.symbols
        else:
            raise InvalidFieldError(
                SessionRejectReason.VALUE_INCORRECT,
                Tag.SECURITY_LIST_REQUEST_TYPE,
                "SecurityListRequestType: 0 or 4",
            )
        # Only what the engine lists can be traded: a configured symbol whose instrument
        # the engine has not listed (or no longer does) is left out.
        entries: Fields = []
        count = 0
        for symbol in asked:
            terms = self._listing(symbol.instrument)
            if terms is None:
                continue
            tick, lot, halted = terms
            count += 1
            entries += [
                (Tag.SYMBOL, symbol.symbol),
                (Tag.SECURITY_ID, str(symbol.instrument)),
                (Tag.SECURITY_ID_SOURCE, _SECURITY_ID_SOURCE_EXCHANGE),
                (Tag.ROUND_LOT, str(lot)),
                (Tag.MIN_TRADE_VOL, str(lot)),
                (Tag.TEXT, f"tick {symbol.price(tick)}" + ("; halted" if halted else "")),
            ]
        self._security_lists += 1
        body: Fields = [
            (Tag.SECURITY_REQ_ID, f[Tag.SECURITY_REQ_ID]),
            (Tag.SECURITY_RESPONSE_ID, str(self._security_lists)),
            (Tag.SECURITY_REQUEST_RESULT, "0" if count else "2"),
        ]
        if count:
            body += [(Tag.NO_RELATED_SYM, str(count)), *entries]
        return Report(MsgType.SECURITY_LIST, body)


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
