"""Session behaviour end to end: login, replay after reconnect, limits, timeouts."""

import socket
import time

import pytest

from ringex_client import (
    Accepted,
    Cancelled,
    CancelReason,
    Client,
    Executed,
    Goodbye,
    Heartbeat,
    LoginAccepted,
    LoginError,
    LoginRejected,
    LoginRejectReason,
    Logout,
    Message,
    NewOrder,
    OrderType,
    Rejected,
    RejectReason,
    SessionEndReason,
    Side,
    TimeInForce,
    encode,
)
from tests.session_tools import RawSession, accepted_ids, expect
from tests.system_processes import PASSWORD, ClientFactory, Gateway

pytestmark = pytest.mark.timeout(60)

P = 100_000


def test_wrong_password_and_unknown_user_are_refused(gateway: Gateway) -> None:
    for user, password in (("alice", "wrong"), ("nobody", PASSWORD)):
        raw = RawSession(gateway.port)
        rejected = raw.login(user, password)
        assert rejected == LoginRejected(LoginRejectReason.NOT_AUTHORIZED)
        assert raw.read_until_closed() == []
    with pytest.raises(LoginError):
        Client("127.0.0.1", gateway.port, "alice", "wrong", reconnect=False).connect()


def test_logout_says_goodbye(gateway: Gateway) -> None:
    raw = RawSession(gateway.port)
    assert isinstance(raw.login("alice", PASSWORD), LoginAccepted)
    raw.send(encode(Logout()))
    assert raw.read_until_closed() == [Goodbye(SessionEndReason.LOGOUT, 0)]


def test_logout_returns_every_answer_the_gateway_had_before_its_goodbye(
    connect: ClientFactory,
) -> None:
    """Orders answered but not yet read by the session that logs out come back from
    ``logout()``; a second session of the account says when the engine answered them."""
    leaving, watcher = connect("alice"), connect("alice")
    ids = {leaving.sell(1, 1, P + 1_000 * (n + 1)) for n in range(5)}
    seen: list[Message] = []
    while not ids <= accepted_ids(seen):
        seen += watcher.poll(0.1)
    assert ids <= accepted_ids(leaving.logout())
    assert leaving.logout() == []  # nothing more to log out of


def test_reconnect_mid_stream_replays_everything_once(
    connect: ClientFactory, gateway: Gateway
) -> None:
    bob = connect("bob")
    seen: list[Message] = []
    alice = connect("alice", on_message=seen.append)
    ids = [alice.sell(1, 1, P + 200 + i) for i in range(20)]
    expect(alice, Accepted, client_order_id=ids[4])
    alice.drop_connection()
    # While alice is away: ten of her orders trade and more are accepted.
    for i in range(10):
        bob.buy(1, 1, P + 200 + i, time_in_force=TimeInForce.IOC)
    expect(bob, Executed, price=P + 209)
    # Back: the replay fills the gap, and orders sent while disconnected go out after it.
    late = alice.sell(1, 1, P + 300)
    expect(alice, Accepted, client_order_id=late, timeout=10)
    alice.poll(0.3)
    sequenced = [m for m in seen if getattr(m, "seq", 0)]
    seqs = [m.seq for m in sequenced]  # type: ignore[attr-defined]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap or duplicate"
    accepted = [m.client_order_id for m in sequenced if isinstance(m, Accepted)]
    assert accepted == [*ids, late]
    fills = [m for m in sequenced if isinstance(m, Executed)]
    assert [f.client_order_id for f in fills] == ids[:10]
    assert alice.protocol.gaps == 0
    assert alice.tracker.positions[1].qty == -10


def test_unacked_orders_are_resent_and_duplicates_recognised(connect: ClientFactory) -> None:
    alice = connect("alice")
    coid = alice.sell(1, 3, P + 500)
    # Drop before the answer can be read; the resend after login must not double it.
    alice.drop_connection()
    expect(alice, Accepted, client_order_id=coid, timeout=10)
    alice.poll(0.5)
    assert alice.tracker.orders[coid].leaves == 3
    assert [o.client_order_id for o in alice.tracker.open_orders()].count(coid) == 1
    alice.cancel(coid)
    expect(alice, Cancelled, client_order_id=coid)


def twelve_invalid_orders(client: Client, timeout_s: float) -> list[RejectReason | None]:
    """Sends twelve orders at price 0, refused by the engine once through the rate limit
    (not checked locally); returns each one's reject reason, in order."""
    ids = [client.buy(1, 1, 0, check=False) for _ in range(12)]
    by_id: dict[int, RejectReason] = {}
    deadline = time.monotonic() + timeout_s
    while len(by_id) < len(ids) and time.monotonic() < deadline:
        for m in client.poll(0.1):
            if isinstance(m, Rejected):
                by_id[m.client_order_id] = m.reason
    return [by_id.get(c) for c in ids]


def test_rate_limit_rejects_beyond_the_burst(connect: ClientFactory) -> None:
    # A client that does not pace itself to the limit the gateway stated.
    dave = connect("dave", pace_orders=False)
    reasons = twelve_invalid_orders(dave, timeout_s=10)
    assert reasons.count(RejectReason.RATE_LIMITED) >= 5
    assert reasons[:5] == [RejectReason.INVALID_PRICE] * 5
    time.sleep(1.2)
    coid = dave.buy(1, 1, 0, check=False)
    assert expect(dave, Rejected, client_order_id=coid).reason == RejectReason.INVALID_PRICE


def test_a_paced_client_stays_within_the_stated_rate(connect: ClientFactory) -> None:
    """The client holds orders back to the rate and burst in SessionParameters (here 5
    and 5), so none is refused RateLimited, and each still gets its own answer."""
    dave = connect("dave")
    assert dave.protocol.parameters is not None
    assert dave.protocol.parameters.order_rate_per_s == 5
    assert twelve_invalid_orders(dave, timeout_s=15) == [RejectReason.INVALID_PRICE] * 12


def test_a_client_that_stops_reading_is_disconnected(
    connect: ClientFactory, gateway: Gateway
) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", gateway.port))
    sock.sendall(encode(__import__("ringex_client").Login("erin", PASSWORD, 0)))
    flood = connect("erin")
    other = connect("bob")
    # Every invalid order is a sequenced reject on erin's stream; the raw session never reads.
    for _ in range(40):
        for _ in range(200):
            flood.protocol.send(
                NewOrder(
                    flood.next_client_order_id(),
                    1,
                    Side.BUY,
                    OrderType.LIMIT,
                    TimeInForce.GTC,
                    False,
                    0,
                    1,
                )
            )
        flood.poll(0.05)
    sock.settimeout(10)
    data = b""
    deadline = time.monotonic() + 20
    closed = False
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    sock.close()
    assert closed, "a non-reading session was never disconnected"
    # The rest of the gateway carries on.
    coid = other.buy(1, 1, 0)
    assert expect(other, Rejected, client_order_id=coid).reason == RejectReason.INVALID_PRICE


def test_cancel_on_disconnect(connect: ClientFactory, gateway: Gateway) -> None:
    carol = connect("carol")
    coid = carol.buy(1, 2, P - 300)
    expect(carol, Accepted, client_order_id=coid)
    carol.drop_connection()
    watcher = Client("127.0.0.1", gateway.port, "carol", PASSWORD, replay_from_start=True)
    watcher.connect()
    try:
        cancelled = expect(watcher, Cancelled, client_order_id=coid, timeout=10)
        assert cancelled.reason == CancelReason.MASS_CANCEL
    finally:
        watcher.close()


def test_idle_session_times_out_and_heartbeats_flow(gateway: Gateway) -> None:
    raw = RawSession(gateway.port)
    assert isinstance(raw.login("bob", PASSWORD), LoginAccepted)
    raw.sock.settimeout(2)
    assert Heartbeat.TYPE in raw.sock.recv(64)
    messages = raw.read_until_closed(timeout=10)
    assert messages[-1] == Goodbye(SessionEndReason.IDLE_TIMEOUT, 0)


def test_a_connection_that_never_logs_in_is_closed(gateway: Gateway) -> None:
    raw = RawSession(gateway.port)
    assert raw.read_until_closed(timeout=10) == [Goodbye(SessionEndReason.LOGIN_TIMEOUT, 0)]


def test_orders_before_login_end_the_session(gateway: Gateway) -> None:
    raw = RawSession(gateway.port)
    raw.send(encode(NewOrder(1, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False, P, 1)))
    assert raw.read_until_closed() == [Goodbye(SessionEndReason.NOT_LOGGED_IN, 0)]
