"""The FIX hot path: NewOrderSingles the framer takes whole in native code become exactly
the NewOrder the order-entry layer would forward, anything else is left to the session
layer; fed random and split byte streams, it never takes what it should not; the
sequence store keeps a batch of reports for resending."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringex_client.codec import encode
from ringex_client.enums import OrderType, Side, TimeInForce
from ringex_client.messages import Accepted
from ringex_gateway._native import (
    FixBroken,
    FixFramer,
    FixMessage,
    FixOrderRun,
    FixOrders,
    FixRefused,
    encode_fix,
)
from ringex_gateway.fix.order_entry import Forward, InvalidFieldError, OrderEntry
from ringex_gateway.fix.seq_store import SeqStore
from ringex_gateway.fix.symbols import Symbol, SymbolTable
from ringex_gateway.instrument_terms import InstrumentTerms

pytestmark = pytest.mark.timeout(120)

SYMBOLS = SymbolTable([Symbol("XAU", 1, 2)])


def listed(_instrument: int) -> InstrumentTerms | None:
    """The engine's terms, which no message of these tests asks for."""
    return None


HEADER = [(49, "PEER"), (56, "RINGEX")]


def new_order(seq: int, **fields: str) -> list[tuple[int, str]]:
    body = {11: str(100 + seq), 55: "XAU", 54: "1", 60: "t", 38: "5", 40: "2", 44: "10.5"}
    body.update({int(k[1:]): v for k, v in fields.items()})
    return [(35, "D"), *HEADER, (34, str(seq)), (52, "t"), *body.items()]


def feed(orders: FixOrders, data: bytes, next_in: int) -> list[object]:
    return list(FixFramer(4096).feed(data, orders, "RINGEX", "PEER", next_in))


def test_in_sequence_orders_come_as_one_run_of_new_order_frames() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    messages = [new_order(seq) for seq in (4, 5, 6)]
    items = feed(entry.orders, b"".join(encode_fix(m) for m in messages), 4)
    assert len(items) == 1
    run = items[0]
    assert isinstance(run, FixOrderRun)
    assert (run.count, run.next_in) == (3, 7)
    slow = OrderEntry(SYMBOLS, 100, listed)
    forwarded = [slow.request(dict(m)) for m in messages]
    assert run.frames == b"".join(encode(f.message) for f in forwarded if isinstance(f, Forward))


def test_anything_else_and_all_behind_it_is_left_to_the_session() -> None:
    orders = FixOrders([("XAU", 1, 2)], 100)
    cases = [
        new_order(5),  # out of sequence
        new_order(4, t44="10.555"),  # off the tick
        new_order(4, t55="XAG"),  # unknown symbol
        [(35, "0"), *HEADER, (34, "4"), (52, "t")],  # a Heartbeat
        [(35, "D"), (49, "OTHER"), (56, "RINGEX"), (34, "4"), (52, "t")],
    ]
    for case in cases:
        data = encode_fix(case) + encode_fix(new_order(5))
        items = feed(orders, data, 4)
        assert [type(i) for i in items] == [FixMessage, FixMessage], case


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            t: st.sampled_from(values)
            for t, values in {
                11: ["0", "7", "-1", "18446744073709551615", "18446744073709551616", "x"],
                54: ["1", "2", "3"],
                40: ["1", "2", "3"],
                59: ["0", "1", "2", "3", "4"],
                38: ["0", "1", "+1", "99"],
                44: ["1", "1.01", "1.001", "-2", "x"],
                18: ["6", "5"],
                55: ["XAU", "XAG"],
                60: ["t"],
            }.items()
        },
    )
)
def test_the_fast_path_forwards_only_what_order_entry_forwards(fields: dict[int, str]) -> None:
    message = [(35, "D"), *HEADER, (34, "1"), (52, "t"), *fields.items()]
    entry = OrderEntry(SYMBOLS, 100, listed)
    items = feed(entry.orders, encode_fix(message), 1)
    try:
        expected = OrderEntry(SYMBOLS, 100, listed).request(dict(message))
    except InvalidFieldError:
        expected = None
    if isinstance(items[0], FixOrderRun):
        assert isinstance(expected, Forward)
        assert items[0].frames == encode(expected.message)
    else:
        assert not isinstance(expected, Forward)


SAMPLE = encode_fix(new_order(1))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 80), max_size=20))
def test_framer_with_orders_takes_any_bytes_split_anywhere(data: bytes, cuts: list[int]) -> None:
    framer, orders = FixFramer(512), FixOrders([("XAU", 1, 2)], 10)
    stream, at, items = SAMPLE + data, 0, []
    next_in = 1
    for cut in [*cuts, len(SAMPLE) + len(data)]:
        for item in framer.feed(stream[at : at + cut], orders, "RINGEX", "PEER", next_in):
            if isinstance(item, FixOrderRun):
                next_in = item.next_in
            items.append(item)
        at += cut
    assert isinstance(items[0], FixOrderRun)
    kinds = FixOrderRun | FixMessage | FixRefused | FixBroken
    assert all(isinstance(i, kinds) for i in items)
    broken = [i for i, item in enumerate(items) if isinstance(item, FixBroken)]
    assert broken in ([], [len(items) - 1])


def test_a_batch_of_reports_is_held_for_resending_across_a_restart(tmp_path: Path) -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    store = SeqStore(tmp_path, "RINGEX", "PEER", keep_messages=100, max_bytes=1 << 20)
    store.sent(b"heartbeat", application=False)
    frames = b"".join(
        encode(Accepted(s, 0, s, s, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False, 5, 1))
        for s in (1, 2)
    )
    batch = entry.orders.reports(frames, 0, "RINGEX", "PEER", store.next_out, "t", 0, True)
    assert (batch.count, batch.stream_seq, batch.consumed) == (2, 2, len(frames))
    store.sent_batch(batch.records, batch.count, batch.reported_seq)
    store.close()
    again = SeqStore(tmp_path, "RINGEX", "PEER", keep_messages=100, max_bytes=1 << 20)
    assert (again.next_out, again.stream_seq) == (4, 2)
    assert again.message(1) is None
    assert (again.message(2) or b"") + (again.message(3) or b"") == batch.wire
    again.sent(b"heartbeat", application=False)  # numbers the records do not give
    again.received(9)
    again.close()
    third = SeqStore(tmp_path, "RINGEX", "PEER", keep_messages=100, max_bytes=1 << 20)
    assert (third.next_in, third.next_out, third.stream_seq) == (9, 5, 2)
