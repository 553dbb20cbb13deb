"""Malformed input: the offending session is closed with a reason, other sessions are
unaffected, and the gateway keeps running."""

import random
import select
import struct
import time

import pytest

from ringex_client import (
    Accepted,
    DecodeError,
    Goodbye,
    Login,
    LoginAccepted,
    SessionEndReason,
    encode,
)
from tests.session_tools import RawSession, expect, frame
from tests.system_processes import PASSWORD, ClientFactory, Gateway

pytestmark = pytest.mark.timeout(60)

P = 100_000


def logged_in(gateway: Gateway, user: str = "bob") -> RawSession:
    raw = RawSession(gateway.port)
    assert isinstance(raw.login(user, PASSWORD), LoginAccepted)
    return raw


def bad_input(detail: DecodeError) -> Goodbye:
    return Goodbye(SessionEndReason.BAD_INPUT, int(detail))


@pytest.mark.parametrize(
    ("data", "goodbye"),
    [
        (frame(b"\x00garbage"), bad_input(DecodeError.UNKNOWN_TYPE)),
        (struct.pack("<H", 257) + b"N" * 257, bad_input(DecodeError.BAD_LENGTH)),
        (struct.pack("<H", 0), bad_input(DecodeError.BAD_LENGTH)),
        (frame(b"N" + b"\x00" * 10), bad_input(DecodeError.TRUNCATED)),
        (frame(b"X" + b"\x00" * 9), bad_input(DecodeError.TRAILING_BYTES)),
        (
            frame(b"N" + bytes(8) + bytes(4) + b"\x07\x01\x01\x00" + bytes(16)),
            bad_input(DecodeError.BAD_ENUM),
        ),
        (
            frame(b"N" + bytes(8) + bytes(4) + b"\x01\x01\x01\x80" + bytes(16)),
            bad_input(DecodeError.BAD_FLAGS),
        ),
        (encode(Login("bob", PASSWORD, 0)), Goodbye(SessionEndReason.NOT_LOGGED_IN, 0)),
    ],
    ids=[
        "unknown-type",
        "oversize",
        "zero-length",
        "truncated",
        "trailing",
        "bad-enum",
        "bad-flags",
        "second-login",
    ],
)
def test_bad_frames_close_only_their_session(
    connect: ClientFactory, gateway: Gateway, data: bytes, goodbye: Goodbye
) -> None:
    bystander = connect("alice")
    raw = logged_in(gateway)
    raw.send(data)
    assert raw.read_until_closed()[-1:] == [goodbye]
    coid = bystander.buy(1, 1, P - 1000)
    expect(bystander, Accepted, client_order_id=coid)
    assert gateway.alive()


def test_oversize_length_is_refused_before_the_body_arrives(gateway: Gateway) -> None:
    raw = logged_in(gateway)
    raw.send(struct.pack("<H", 60000))
    assert raw.read_until_closed() == [bad_input(DecodeError.BAD_LENGTH)]


def test_slow_drip_is_cut_off(connect: ClientFactory, gateway: Gateway) -> None:
    raw = logged_in(gateway)
    start = time.monotonic()
    for byte in encode(Login("bob", PASSWORD, 0)):
        readable, _, _ = select.select([raw.sock], [], [], 0.1)
        if readable:
            break
        raw.send(bytes([byte]))
    assert raw.read_until_closed(timeout=5)[-1:] == [Goodbye(SessionEndReason.FRAME_TIMEOUT, 0)]
    assert time.monotonic() - start < 5


def test_garbage_before_login_and_random_bytes(connect: ClientFactory, gateway: Gateway) -> None:
    bystander = connect("alice")
    rng = random.Random(7)
    for _ in range(8):
        raw = RawSession(gateway.port)
        raw.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))))
        messages = raw.read_until_closed(timeout=5)
        assert all(isinstance(m, Goodbye) for m in messages)
    coid = bystander.buy(1, 1, P - 1000)
    expect(bystander, Accepted, client_order_id=coid)
    assert gateway.alive()


def test_truncated_frame_then_disconnect_leaves_nothing_behind(
    connect: ClientFactory, gateway: Gateway
) -> None:
    bystander = connect("alice")
    for cut in (1, 2, 10, 30):
        raw = logged_in(gateway)
        raw.send(encode(Login("bob", PASSWORD, 0))[:cut])
        raw.close()
    coid = bystander.buy(1, 1, P - 1000)
    expect(bystander, Accepted, client_order_id=coid)
    assert gateway.alive()
