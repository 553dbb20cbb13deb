"""The client session messages as protocol/SPEC.md lays them out ("Client sessions"):
u16 length-prefixed frames, a type byte, little-endian fixed-width fields."""

import socket
import struct
import time
from typing import Any

ALL_INSTRUMENTS = 0xFFFFFFFF

# Gateway to client: type byte -> (name, struct layout after the type byte, field names).
SERVER: dict[bytes, tuple[str, str, tuple[str, ...]]] = {
    b"L": ("LoginAccepted", "<IBQQQ", ("account", "role", "epoch", "next_seq", "replay_end")),
    b"P": (
        "SessionParameters",
        "<IIIIIIIII",
        (
            "heartbeat_ms", "idle_timeout_ms", "frame_timeout_ms", "login_timeout_ms",
            "answer_timeout_ms", "order_rate_per_s", "order_burst", "backlog_messages_max",
            "unsequenced_bytes_max",
        ),
    ),
    b"R": ("LoginRejected", "<B", ("reason",)),
    b"H": ("Heartbeat", "<", ()),
    b"Z": ("Goodbye", "<BB", ("reason", "detail")),
    b"A": (
        "Accepted",
        "<QQQQIBBBBqQ",
        (
            "seq", "timestamp_ns", "client_order_id", "order_id", "instrument", "side",
            "order_type", "time_in_force", "flags", "price", "qty",
        ),
    ),
    b"J": ("Rejected", "<QQBBQ", ("seq", "timestamp_ns", "command", "reason", "client_order_id")),
    b"E": (
        "Executed",
        "<QQQQIBqQQB",
        (
            "seq", "timestamp_ns", "client_order_id", "match_id", "instrument", "side",
            "price", "qty", "leaves", "liquidity",
        ),
    ),
    b"C": (
        "Cancelled",
        "<QQQIQB",
        ("seq", "timestamp_ns", "client_order_id", "instrument", "qty", "reason"),
    ),
    b"U": (
        "Replaced",
        "<QQQQIqQB",
        (
            "seq", "timestamp_ns", "orig_client_order_id", "client_order_id", "instrument",
            "price", "qty", "priority_kept",
        ),
    ),
    b"I": ("CancelRejected", "<QQQB", ("seq", "timestamp_ns", "client_order_id", "reason")),
    b"M": ("MassCancelled", "<QQII", ("seq", "timestamp_ns", "instrument", "count")),
    b"Y": (
        "InstrumentDefinition",
        "<QQI16sqQQQqIBB",
        (
            "seq", "timestamp_ns", "instrument", "symbol", "tick_size", "lot_size", "min_qty",
            "max_qty", "reference_price", "price_band_bps", "state", "update",
        ),
    ),
    b"W": ("InstrumentsEnd", "<II", ("instrument", "count")),
    b"K": ("AdminResult", "<QQBB", ("timestamp_ns", "request_id", "command", "reason")),
    b"Q": (
        "TopOfBook",
        "<QIqQqQ",
        ("timestamp_ns", "instrument", "bid_price", "bid_qty", "ask_price", "ask_qty"),
    ),
    b"T": (
        "TradeReport",
        "<QIQqQB",
        ("timestamp_ns", "instrument", "match_id", "price", "qty", "aggressor_side"),
    ),
    b"t": (
        "Trade",
        "<IQQQqQBQ",
        (
            "instrument", "feed_seq", "timestamp_ns", "match_id", "price", "qty",
            "aggressor_side", "maker_order_id",
        ),
    ),
    b"s": ("TradingStatus", "<IQQB", ("instrument", "feed_seq", "timestamp_ns", "halted")),
    b"b": (
        "SnapshotBegin",
        "<IBBQQBII",
        ("instrument", "feed", "depth", "feed_seq", "level_seq", "halted", "count", "checksum"),
    ),
    b"e": ("SnapshotEnd", "<IBBQQ", ("instrument", "feed", "depth", "feed_seq", "level_seq")),
    b"f": ("FeedRejected", "<IBBB", ("instrument", "feed", "depth", "reason")),
}  # fmt: skip


def login(username: str, password: str, next_seq: int) -> bytes:
    """Login: username [16], password [32], next_seq u64."""
    return (
        b"L"
        + username.ljust(16).encode()
        + password.ljust(32).encode()
        + struct.pack("<Q", next_seq)
    )


def new_order(coid: int, instrument: int, side: int, price: int, qty: int) -> bytes:
    """NewOrder: a GTC limit order, flags 0."""
    return b"N" + struct.pack("<QIBBBBqQ", coid, instrument, side, 1, 1, 0, price, qty)


def cancel(coid: int) -> bytes:
    return b"X" + struct.pack("<Q", coid)


def replace(orig_coid: int, coid: int, price: int, qty: int) -> bytes:
    return b"U" + struct.pack("<QQqQ", orig_coid, coid, price, qty)


def mass_cancel(instrument: int) -> bytes:
    return b"M" + struct.pack("<I", instrument)


def subscribe(instrument: int) -> bytes:
    return b"S" + struct.pack("<IB", instrument, 1)


def feed_subscribe(instrument: int, feed: int, depth: int) -> bytes:
    """FeedSubscribe, on: `feed` 1 L3, 2 L2 (with a depth), 3 trades."""
    return b"F" + struct.pack("<IBBB", instrument, feed, depth, 1)


def instrument_request(instrument: int) -> bytes:
    return b"R" + struct.pack("<I", instrument)


def set_halted(request_id: int, instrument: int, halted: bool) -> bytes:
    return b"T" + struct.pack("<QIB", request_id, instrument, halted)


LOGOUT = b"O"


class SpecSession:
    """One TCP session: writes frames, reads and decodes the gateway's."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.inbox = b""
        # Every message received but heartbeats, in order, for checks after the fact.
        self.seen: list[dict[str, Any]] = []

    def send(self, body: bytes) -> None:
        self.sock.sendall(struct.pack("<H", len(body)) + body)

    def receive(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next message but heartbeats, as a dict with its spec name in ``type``."""
        deadline = time.monotonic() + timeout_s
        while True:
            if len(self.inbox) >= 2:
                (n,) = struct.unpack_from("<H", self.inbox)
                if len(self.inbox) >= 2 + n:
                    body, self.inbox = self.inbox[2 : 2 + n], self.inbox[2 + n :]
                    message = decode(body)
                    if message["type"] != "Heartbeat":
                        self.seen.append(message)
                        return message
                    continue
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("gateway closed the connection")
            self.inbox += data

    def until(
        self, name: str, timeout_s: float = 5.0
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Reads up to the first message named ``name``; returns it and those before it."""
        before = []
        while (m := self.receive(timeout_s))["type"] != name:
            before.append(m)
        return m, before

    def close(self) -> None:
        self.sock.close()


def decode(body: bytes) -> dict[str, Any]:
    """One message body, checked for the exact size its type byte implies."""
    name, layout, fields = SERVER[body[:1]]
    assert len(body) == 1 + struct.calcsize(layout), (name, len(body))
    values = struct.unpack(layout, body[1:])
    message: dict[str, Any] = dict(zip(fields, values, strict=True))
    if "symbol" in message:
        message["symbol"] = message["symbol"].decode().rstrip(" ")
    message["type"] = name
    return message
