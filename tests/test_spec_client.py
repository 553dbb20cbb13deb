"""A client written from protocol/SPEC.md alone (tests/spec_client: a socket and struct,
nothing of the project's) against a real engine and gateway: session parameters,
instrument definitions, orders at valid and invalid prices and sizes on every
instrument, trades seen by both sides and by market data, replaces, cancels and mass
cancels, the gateway's own refusals, subscriptions to known and unknown instruments, a
halt and a resume, bytes that do not decode, reconnects with replay (byte for byte),
and every timestamp received on the Unix-epoch clock."""

import time
from typing import Any

import pytest

from tests.spec_client import wire
from tests.spec_client.wire import ALL_INSTRUMENTS, SpecSession
from tests.system_processes import PASSWORD, Engine, Gateway

pytestmark = pytest.mark.timeout(90)

# The test engine's instruments (tests/system_processes.py) as the spec names them.
INSTRUMENTS: dict[int, dict[str, int]] = {
    1: {"tick_size": 1, "lot_size": 1, "reference_price": 100_000, "price_band_bps": 1000},
    2: {"tick_size": 5, "lot_size": 10, "reference_price": 25_000, "price_band_bps": 2000},
}
# The test gateway's [[instruments]] symbols.
SYMBOLS = {1: "ALPHA", 2: "BETA-25"}
QTY_MAX = 1 << 38
BUY, SELL = 1, 2
# Reject reasons (SPEC.md "Reject reasons").
UNKNOWN_INSTRUMENT, INVALID_QUANTITY, INVALID_PRICE = 1, 3, 4
PRICE_NOT_ON_TICK, QTY_NOT_ON_LOT, UNKNOWN_ORDER, TOO_LATE_TO_CANCEL = 5, 6, 9, 10
PRICE_BAND, INSTRUMENT_HALTED, NOT_PERMITTED = 13, 16, 102
TRADING, HALTED = 1, 2
CURRENT, LISTED, HALTED_UPDATE, RESUMED = 1, 2, 3, 4
REPLACE = 3  # command (SPEC.md "Enums")
MAKER, TAKER = 1, 2  # liquidity
L3_FEED, TRADES_FEED = 1, 3
BAD_INPUT, UNKNOWN_TYPE = 2, 3  # Goodbye reason, decode error code
LOGIN_TIMEOUT, NOT_LOGGED_IN, FRAME_TIMEOUT = 6, 7, 8  # Goodbye reasons
NOT_AUTHORIZED = 1  # login reject reason
# Before any engine of these tests started: every timestamp they see is later.
COLLECTED_NS = time.time_ns()


def on_the_clock(m: dict[str, Any], since_ns: int) -> None:
    """The spec's one clock: Unix-epoch nanoseconds, from this test's start to now."""
    assert since_ns - 1_000_000_000 <= m["timestamp_ns"] <= time.time_ns() + 1_000_000_000, m


def every_timestamp_on_the_clock(*sessions: SpecSession) -> None:
    """Every message the sessions received that carries a time, replayed ones too."""
    for s in sessions:
        for m in s.seen:
            if "timestamp_ns" in m:
                on_the_clock(m, COLLECTED_NS)


def logged_in(port: int, user: str, next_seq: int) -> tuple[SpecSession, dict[str, Any]]:
    s = SpecSession(port)
    s.send(wire.login(user, PASSWORD, next_seq))
    accepted, before = s.until("LoginAccepted")
    assert before == []
    params = s.receive()
    assert params["type"] == "SessionParameters"
    return s, accepted | {"parameters": params}


def order_answer(s: SpecSession, coid: int) -> dict[str, Any]:
    """The Accepted or Rejected naming ``coid`` (stream messages before it are skipped)."""
    while True:
        m = s.receive()
        if m["type"] in ("Accepted", "Rejected") and m["client_order_id"] == coid:
            return m


def test_a_client_from_the_spec_alone_trades_and_follows_reference_data(
    pair: tuple[Engine, Gateway],
) -> None:
    since_ns = time.time_ns()
    _, gateway = pair
    alice, accepted = logged_in(gateway.port, "alice", 1)
    assert accepted["parameters"] == {
        "type": "SessionParameters",
        "heartbeat_ms": 300,
        "idle_timeout_ms": 3000,
        "frame_timeout_ms": 1000,
        "login_timeout_ms": 3000,
        "answer_timeout_ms": 1000,
        "order_rate_per_s": 100_000,
        "order_burst": 100_000,
        "backlog_messages_max": 500,
        "unsequenced_bytes_max": 262_144,
    }

    # Reference data: every instrument, then the end of the list; an unknown one: none.
    alice.send(wire.instrument_request(ALL_INSTRUMENTS))
    end, definitions = alice.until("InstrumentsEnd")
    current = [d for d in definitions if d["type"] == "InstrumentDefinition" and d["seq"] == 0]
    assert end == {"type": "InstrumentsEnd", "instrument": ALL_INSTRUMENTS, "count": 2}
    for d in current:
        rules = INSTRUMENTS[d["instrument"]]
        assert {k: d[k] for k in rules} == rules
        assert d["min_qty"] == rules["lot_size"]
        assert d["max_qty"] == QTY_MAX - QTY_MAX % rules["lot_size"]
        assert d["symbol"] == SYMBOLS[d["instrument"]]
        assert (d["state"], d["update"]) == (TRADING, CURRENT)
        on_the_clock(d, since_ns)
    assert sorted(d["instrument"] for d in current) == [1, 2]
    alice.send(wire.instrument_request(99))
    assert alice.until("InstrumentsEnd")[0]["count"] == 0

    # Orders on every instrument, valid and invalid, each answered with the spec's reason.
    coid = 1000
    last_seq = 0
    for instrument, rules in INSTRUMENTS.items():
        tick, lot, ref = rules["tick_size"], rules["lot_size"], rules["reference_price"]
        band_high = ref + ref * rules["price_band_bps"] // 10_000
        cases = [
            (ref - tick, lot, None),
            (ref, 0, INVALID_QUANTITY),
            (ref, QTY_MAX + lot, INVALID_QUANTITY),
            (0, lot, INVALID_PRICE),
            (band_high + tick, lot, PRICE_BAND),
        ]
        if lot > 1:
            cases.append((ref, lot + 1, QTY_NOT_ON_LOT))
            # Above max_qty, not above 2^38: off the lot (SPEC rule 16), not too large.
            cases.append((ref, QTY_MAX - QTY_MAX % lot + 1, QTY_NOT_ON_LOT))
        if tick > 1:
            cases.append((ref + 1, lot, PRICE_NOT_ON_TICK))
        for price, qty, reason in cases:
            coid += 1
            alice.send(wire.new_order(coid, instrument, BUY, price, qty))
            m = order_answer(alice, coid)
            assert m["seq"] > last_seq, m
            last_seq = m["seq"]
            on_the_clock(m, since_ns)
            if reason is None:
                assert (m["type"], m["instrument"], m["price"], m["qty"]) == (
                    "Accepted", instrument, price, qty,
                )  # fmt: skip
            else:
                assert (m["type"], m["command"], m["reason"]) == ("Rejected", 1, reason), m
    coid += 1
    alice.send(wire.new_order(coid, 99, BUY, 100, 1))
    assert order_answer(alice, coid)["reason"] == UNKNOWN_INSTRUMENT

    # Cancels: the resting order goes; a second cancel is too late; an unknown id is unknown.
    alice.send(wire.cancel(1001))
    cancelled, _ = alice.until("Cancelled")
    assert (cancelled["client_order_id"], cancelled["reason"]) == (1001, 1)
    on_the_clock(cancelled, since_ns)
    alice.send(wire.cancel(1001))
    assert alice.until("CancelRejected")[0]["reason"] == TOO_LATE_TO_CANCEL
    alice.send(wire.cancel(5))
    late = alice.until("CancelRejected")[0]
    assert (late["client_order_id"], late["reason"]) == (5, UNKNOWN_ORDER)
    assert late["seq"] > 0  # the engine's answer: sequenced

    # Subscribe: a known instrument answers its top of book on the same clock; an unknown
    # one is refused with a reason.
    alice.send(wire.subscribe(2))
    top = alice.until("TopOfBook")[0]
    assert top["instrument"] == 2
    on_the_clock(top, since_ns)
    alice.send(wire.subscribe(99))
    refused = alice.until("FeedRejected")[0]
    assert refused == {"type": "FeedRejected", "instrument": 99, "feed": 0, "depth": 0,
                       "reason": 1}  # fmt: skip

    # Admin: a halt is answered with its request id and reaches alice's stream.
    admin, _ = logged_in(gateway.port, "admin", 0)
    admin.send(wire.set_halted(77, 2, True))
    result = admin.until("AdminResult")[0]
    assert (result["request_id"], result["command"], result["reason"]) == (77, 8, 0)
    on_the_clock(result, since_ns)
    halted = alice.until("InstrumentDefinition")[0]
    assert (halted["instrument"], halted["state"], halted["update"]) == (2, HALTED, HALTED_UPDATE)
    assert halted["seq"] > last_seq
    coid += 1
    alice.send(wire.new_order(coid, 2, BUY, 25_000, 10))
    assert order_answer(alice, coid)["reason"] == INSTRUMENT_HALTED
    admin.send(wire.set_halted(78, 2, False))
    assert admin.until("AdminResult")[0]["request_id"] == 78
    resumed = alice.until("InstrumentDefinition")[0]
    assert (resumed["state"], resumed["update"]) == (TRADING, RESUMED)
    # A trader's admin command is refused with its request id, unsequenced.
    alice.send(wire.set_halted(79, 1, True))
    refused_admin = alice.until("AdminResult")[0]
    assert (refused_admin["request_id"], refused_admin["reason"]) == (79, NOT_PERMITTED)
    on_the_clock(refused_admin, since_ns)

    # Reconnect with replay: what happened while away arrives, numbered without a gap.
    alice.send(wire.LOGOUT)
    goodbye = alice.until("Goodbye")[0]
    assert (goodbye["reason"], goodbye["detail"]) == (1, 0)
    alice.close()
    next_seq = resumed["seq"] + 1
    admin.send(wire.set_halted(80, 1, True))
    assert admin.until("AdminResult")[0]["reason"] == 0
    admin.send(wire.set_halted(81, 1, False))
    assert admin.until("AdminResult")[0]["reason"] == 0
    again, accepted = logged_in(gateway.port, "alice", next_seq)
    assert accepted["next_seq"] == next_seq
    replayed: list[dict[str, Any]] = []
    while len(replayed) < 2:
        m = again.receive()
        if m["type"] == "InstrumentDefinition":
            replayed.append(m)
    assert [(m["seq"], m["instrument"], m["update"]) for m in replayed] == [
        (next_seq, 1, HALTED_UPDATE),
        (next_seq + 1, 1, RESUMED),
    ]
    assert accepted["replay_end"] == next_seq + 2
    again.close()
    admin.close()
    every_timestamp_on_the_clock(alice, admin, again)


def sequenced(s: SpecSession) -> list[dict[str, Any]]:
    return [m for m in s.seen if m.get("seq")]


def about(s: SpecSession, name: str, instrument: int) -> dict[str, Any]:
    """The next message named ``name`` about ``instrument``."""
    while True:
        m = s.until(name)[0]
        if m["instrument"] == instrument:
            return m


def test_a_client_from_the_spec_alone_sees_its_trades_and_every_reply_on_one_clock(
    pair: tuple[Engine, Gateway],
) -> None:
    _, gateway = pair
    bob, _ = logged_in(gateway.port, "bob", 1)
    carol, _ = logged_in(gateway.port, "carol", 1)
    watcher, _ = logged_in(gateway.port, "erin", 0)
    coid = 2000
    for instrument, rules in INSTRUMENTS.items():
        tick, lot, ref = rules["tick_size"], rules["lot_size"], rules["reference_price"]
        watcher.send(wire.subscribe(instrument))
        about(watcher, "TopOfBook", instrument)
        watcher.send(wire.feed_subscribe(instrument, TRADES_FEED, 0))
        begin = watcher.until("SnapshotBegin")[0]
        end = watcher.until("SnapshotEnd")[0]
        assert (begin["count"], begin["checksum"], end["feed_seq"]) == (0, 0, begin["feed_seq"])

        # A trade: each side's Executed, the watcher's TradeReport and feed Trade, all
        # stamped with the one sequencing time of the input that traded.
        sell, buy = coid + 1, coid + 2
        bob.send(wire.new_order(sell, instrument, SELL, ref, 3 * lot))
        maker_order_id = order_answer(bob, sell)["order_id"]
        carol.send(wire.new_order(buy, instrument, BUY, ref, 2 * lot))
        assert order_answer(carol, buy)["type"] == "Accepted"
        taker = carol.until("Executed")[0]
        maker = bob.until("Executed")[0]
        report = about(watcher, "TradeReport", instrument)
        feed_trade = about(watcher, "Trade", instrument)
        assert (taker["side"], taker["liquidity"], taker["leaves"]) == (BUY, TAKER, 0)
        assert (maker["side"], maker["liquidity"], maker["leaves"]) == (SELL, MAKER, lot)
        assert (report["aggressor_side"], feed_trade["maker_order_id"]) == (BUY, maker_order_id)
        fills = [taker, maker, report, feed_trade]
        assert {(m["match_id"], m["price"], m["qty"]) for m in fills} == {
            (taker["match_id"], ref, 2 * lot)
        }
        assert len({m["timestamp_ns"] for m in fills}) == 1

        # Replace: refused off the tick or below 0 (naming the new id), then done.
        refused_id, moved = coid + 3, coid + 4
        bad_price = ref + 1 if tick > 1 else 0
        bob.send(wire.replace(sell, refused_id, bad_price, lot))
        refused = order_answer(bob, refused_id)
        reason = PRICE_NOT_ON_TICK if tick > 1 else INVALID_PRICE
        assert (refused["command"], refused["reason"]) == (REPLACE, reason)
        bob.send(wire.replace(sell, moved, ref + tick, lot))
        replaced = bob.until("Replaced")[0]
        assert (replaced["orig_client_order_id"], replaced["client_order_id"]) == (sell, moved)
        assert (replaced["price"], replaced["qty"], replaced["priority_kept"]) == (
            ref + tick, lot, 0,
        )  # fmt: skip

        # Mass cancel: the order goes (reason 2), then the count.
        bob.send(wire.mass_cancel(instrument))
        gone = bob.until("Cancelled")[0]
        assert (gone["client_order_id"], gone["qty"], gone["reason"]) == (moved, lot, 2)
        counted = bob.until("MassCancelled")[0]
        assert (counted["seq"], counted["instrument"], counted["count"]) == (
            gone["seq"] + 1, instrument, 1,
        )  # fmt: skip
        coid += 10

    # The gateway's own refusals: unsequenced, on the gateway's clock.
    viewer, _ = logged_in(gateway.port, "viewer", 0)
    viewer.send(wire.new_order(coid + 1, 1, BUY, 100_000, 1))
    refused = order_answer(viewer, coid + 1)
    assert (refused["seq"], refused["reason"]) == (0, NOT_PERMITTED)
    viewer.send(wire.cancel(coid + 1))
    refused = viewer.until("CancelRejected")[0]
    assert (refused["seq"], refused["reason"]) == (0, NOT_PERMITTED)
    # A feed of an unknown instrument is refused with a reason.
    viewer.send(wire.feed_subscribe(99, L3_FEED, 0))
    assert viewer.until("FeedRejected")[0] == {
        "type": "FeedRejected", "instrument": 99, "feed": L3_FEED, "depth": 0, "reason": 1,
    }  # fmt: skip
    # Bytes that do not decode end the session: BadInput, detail UnknownType.
    viewer.send(b"\x01")
    goodbye = viewer.until("Goodbye")[0]
    assert (goodbye["reason"], goodbye["detail"]) == (BAD_INPUT, UNKNOWN_TYPE)

    # bob's stream, numbered from 1 without a gap, is replayed byte for byte.
    live = sequenced(bob)
    assert [m["seq"] for m in live] == list(range(1, len(live) + 1))
    bob.send(wire.LOGOUT)
    bob.until("Goodbye")
    bob.close()
    again, accepted = logged_in(gateway.port, "bob", 1)
    assert accepted["replay_end"] == len(live) + 1
    assert [again.receive() for _ in live] == live
    again.close()

    every_timestamp_on_the_clock(bob, carol, watcher, viewer, again)
    for s in (carol, watcher):
        s.close()


def test_a_client_from_the_spec_alone_sees_each_session_end_as_stated(gateway: Gateway) -> None:
    wrong = SpecSession(gateway.port)
    wrong.send(wire.login("alice", "not the password", 0))
    assert wrong.receive() == {"type": "LoginRejected", "reason": NOT_AUTHORIZED}
    early = SpecSession(gateway.port)
    early.send(wire.cancel(1))
    # Half a frame, then nothing; and a connection that never logs in.
    dripping, silent = SpecSession(gateway.port), SpecSession(gateway.port)
    dripping.sock.sendall(b"\x39\x00L")
    ends = {
        NOT_LOGGED_IN: early.receive(),
        FRAME_TIMEOUT: dripping.receive(),
        LOGIN_TIMEOUT: silent.receive(),
    }
    for reason, goodbye in ends.items():
        assert goodbye == {"type": "Goodbye", "reason": reason, "detail": 0}
    for s in (wrong, early, dripping, silent):
        with pytest.raises(ConnectionError):
            s.receive()
        s.close()
