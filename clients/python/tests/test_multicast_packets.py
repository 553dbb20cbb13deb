"""The multicast packet decoders fed random and mutated bytes (hypothesis): nothing but
ProtocolError escapes and a count is never trusted beyond the bytes that carry it; and
the sequencer, fed packets dropped, duplicated and reordered, with gaps filled from a
retransmission window, yields every message once, in order."""

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringex_client import OrderAdded, ProtocolError, Side, encode
from ringex_client.mold_packet import (
    END_OF_SESSION,
    HEADER_LEN,
    Packet,
    Reply,
    ReplyStatus,
    decode_packet,
    encode_header,
    session_name,
    split_reply,
)
from ringex_client.mold_sequencer import MoldSequencer, MulticastLost

pytestmark = pytest.mark.timeout(120)

SESSION = session_name("TEST")


def added(seq: int) -> OrderAdded:
    return OrderAdded(1, seq, 7, seq, Side.BUY, 100, 1)


def packet(first: int, count: int) -> bytes:
    return encode_header(SESSION, first, count) + b"".join(
        encode(added(s)) for s in range(first, first + count)
    )


def reply(status: ReplyStatus, body: bytes) -> bytes:
    return (1 + len(body)).to_bytes(2, "little") + bytes([status]) + body


SEEDS = [
    packet(1, 3),
    packet(9, 0),
    encode_header(SESSION, 4, END_OF_SESSION),
    reply(ReplyStatus.MESSAGES, packet(2, 2)),
    reply(ReplyStatus.TOO_OLD, encode_header(SESSION, 40, 0)),
]


def check(data: bytes) -> None:
    try:
        p = decode_packet(data)
    except ProtocolError:
        pass
    else:
        assert len(p.messages) == (0 if p.end_of_session else p.count)
        assert encode_header(p.session, p.sequence, p.count) == data[:HEADER_LEN]
    with contextlib.suppress(ProtocolError):
        split_reply(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 2))
        if op == 0 and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif op == 1 and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        else:
            data.append(draw(st.integers(0, 255)))
    return bytes(data)


@settings(max_examples=3000, deadline=None)
@given(mutated())
def test_mutated_packets_and_replies(data: bytes) -> None:
    check(data)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=96))
def test_random_bytes(data: bytes) -> None:
    check(data)


def test_a_count_beyond_the_bytes_is_refused_before_allocating() -> None:
    with pytest.raises(ProtocolError):
        decode_packet(encode_header(SESSION, 1, 0xFFFE) + b"\x01\x00")


def retransmit(window: dict[int, bytes], oldest: int, sequence: int, count: int) -> Reply:
    """A retransmission server holding messages ``oldest`` onwards of ``window``."""
    if sequence < oldest:
        return Reply(ReplyStatus.TOO_OLD, Packet(SESSION, oldest, 0, []))
    held = [window[s] for s in range(sequence, sequence + count) if s in window]
    return Reply(ReplyStatus.MESSAGES, Packet(SESSION, sequence, len(held), held))


@pytest.mark.parametrize("seed", range(20))
def test_dropped_duplicated_and_reordered_packets_come_out_once_in_order(seed: int) -> None:
    rng = random.Random(seed)
    total = 500
    window = {s: encode(added(s))[2:] for s in range(1, total + 1)}
    packets, first = [], 1
    while first <= total:
        count = min(rng.randint(1, 8), total - first + 1)
        packets.append(decode_packet(packet(first, count)))
        first += count
    sent = [p for p in packets if rng.random() > 0.2]
    sent += rng.sample(sent, len(sent) // 5)
    for i in range(len(sent) - 1):
        if rng.random() < 0.2:
            sent[i], sent[i + 1] = sent[i + 1], sent[i]
    sent.append(Packet(SESSION, total + 1, END_OF_SESSION, []))
    seq = MoldSequencer(next_seq=1, max_pending=64)
    got: list[object] = []
    for p in sent:
        got += seq.accept(p)
        while (gap := seq.gap(16)) is not None:
            got += seq.accept_reply(retransmit(window, 1, *gap))
    assert got == [added(s) for s in range(1, total + 1)]
    assert seq.ended


def test_a_range_the_server_no_longer_holds_is_reported_lost() -> None:
    window = {s: encode(added(s))[2:] for s in range(1, 21)}
    seq = MoldSequencer(session=SESSION, next_seq=1)
    assert seq.accept(decode_packet(packet(15, 2))) == []
    got = seq.accept_reply(retransmit(window, 10, *seq.gap(100) or (0, 0)))
    assert got == [MulticastLost(1, 9)]
    got = seq.accept_reply(retransmit(window, 10, *seq.gap(100) or (0, 0)))
    assert got == [added(s) for s in range(10, 17)]
    assert seq.stats().lost == 9


def test_packets_of_another_session_are_ignored() -> None:
    seq = MoldSequencer(session=session_name("OTHER"), next_seq=1)
    assert seq.accept(decode_packet(packet(1, 2))) == []
    assert seq.stats().other_session == 1
