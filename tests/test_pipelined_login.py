"""A client that pipelines its first orders behind its Login has them processed as soon
as the login is accepted, however TCP splits the bytes (every split point is covered in
the native core's tests; here a few, through real sockets)."""

import socket
import time

import pytest

from ringex_client import (
    Accepted,
    Cancelled,
    Login,
    LoginAccepted,
    MassCancelled,
    NewOrder,
    OrderType,
    SessionParameters,
    Side,
    TimeInForce,
    encode,
)
from tests.session_tools import RawSession
from tests.system_processes import PASSWORD, Gateway

pytestmark = pytest.mark.timeout(60)

P = 100_000
LOGIN_BYTES = len(encode(Login("carol", PASSWORD, 0)))
ORDER_BYTES = len(encode(NewOrder(1, 1, Side.SELL, OrderType.LIMIT, TimeInForce.GTC, False, P, 1)))
SPLITS = [
    1,
    LOGIN_BYTES - 1,
    LOGIN_BYTES,
    LOGIN_BYTES + 5,
    LOGIN_BYTES + ORDER_BYTES,
    LOGIN_BYTES + 3 * ORDER_BYTES - 1,
    LOGIN_BYTES + 3 * ORDER_BYTES,  # everything in one write
]


@pytest.mark.parametrize("split", SPLITS)
def test_orders_pipelined_behind_a_login_are_answered(gateway: Gateway, split: int) -> None:
    first = time.time_ns() // 1000
    ids = [first + i for i in range(3)]
    data = encode(Login("carol", PASSWORD, 0)) + b"".join(
        encode(NewOrder(i, 1, Side.SELL, OrderType.LIMIT, TimeInForce.GTC, False, P + 900, 1))
        for i in ids
    )
    # carol's account cancels her orders when her last session ends: nothing is left over.
    raw = RawSession(gateway.port)
    try:
        raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.send(data[:split])
        time.sleep(0.05)
        raw.send(data[split:])
        assert isinstance(raw.read(), LoginAccepted)
        assert isinstance(raw.read(), SessionParameters)
        accepted: list[int] = []
        while len(accepted) < len(ids):
            m = raw.read()
            # The previous case's session end may still be cancelling its orders.
            assert isinstance(m, Accepted | MassCancelled | Cancelled), m
            if isinstance(m, Accepted):
                accepted.append(m.client_order_id)
        assert accepted == ids
    finally:
        raw.close()
