"""The session state machine's decisions that need no socket."""

from collections.abc import Iterator

import pytest

from ringex_client import (
    Heartbeat,
    LoginAccepted,
    LoginError,
    LoginRejectReason,
    NewOrder,
    OrderType,
    Role,
    SessionParameters,
    Side,
    TimeInForce,
)
from ringex_client.codec import FrameReader, decode_client, encode
from ringex_client.protocol import ClientProtocol

pytestmark = pytest.mark.timeout(10)


def test_only_throttled_and_unavailable_logins_are_retried() -> None:
    retried = {r for r in LoginRejectReason if LoginError(r).retryable}
    assert retried == {LoginRejectReason.THROTTLED, LoginRejectReason.UNAVAILABLE}


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def logged_in(clock: FakeClock, rate_per_s: int, burst: int) -> ClientProtocol:
    """A session past its login and replay, with the stated rate limit."""
    p = ClientProtocol("alice", "pw", clock=clock)
    p.start()
    login = accepted()
    parameters = SessionParameters(
        heartbeat_ms=1000,
        idle_timeout_ms=10000,
        frame_timeout_ms=2000,
        login_timeout_ms=5000,
        answer_timeout_ms=1000,
        order_rate_per_s=rate_per_s,
        order_burst=burst,
        backlog_messages_max=1000,
        unsequenced_bytes_max=1 << 20,
    )
    p.receive(encode(login) + encode(parameters))
    p.take_outgoing()
    return p


def accepted() -> LoginAccepted:
    return LoginAccepted(account=1, role=Role.TRADER, epoch=1, next_seq=1, replay_end=1)


def decode_client_frames(data: bytes) -> Iterator[object]:
    return (decode_client(body) for body in FrameReader().feed(data))


def order(client_order_id: int) -> NewOrder:
    return NewOrder(client_order_id, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False, 100, 1)


def orders_in(data: bytes) -> int:
    return sum(1 for m in decode_client_frames(data) if isinstance(m, NewOrder))


def test_order_messages_are_held_to_the_stated_rate_and_released_in_order() -> None:
    clock = FakeClock()
    p = logged_in(clock, rate_per_s=10, burst=3)
    for i in range(5):
        p.send(order(i))
    # One token short of the burst goes at once, as a cushion for bunching on the way.
    assert orders_in(p.take_outgoing()) == 2
    wait_s = p.pacing_wait_s()
    assert wait_s is not None
    assert 0.1 < wait_s < 0.11
    clock.now_s += wait_s
    released = list(decode_client_frames(p.take_outgoing()))
    assert [m.client_order_id for m in released if isinstance(m, NewOrder)] == [2]
    clock.now_s += 1.0
    assert orders_in(p.take_outgoing()) == 2
    assert p.pacing_wait_s() is None
    # Other messages are never held.
    p.send(Heartbeat())
    assert p.take_outgoing() == encode(Heartbeat())


def test_no_pacing_when_the_session_has_no_limit_or_the_client_declines() -> None:
    clock = FakeClock()
    unlimited = logged_in(clock, rate_per_s=0, burst=0)
    declined = ClientProtocol("alice", "pw", clock=clock, pace_orders=False)
    declined.start()
    declined.receive(encode(accepted()))
    declined.take_outgoing()
    for p in (unlimited, declined):
        for i in range(50):
            p.send(order(i))
        assert orders_in(p.take_outgoing()) == 50
        assert p.pacing_wait_s() is None
