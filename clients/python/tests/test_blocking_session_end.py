"""The blocking client at a session's end, against a gateway stand-in on loopback: the
messages that arrive in the same read as the Goodbye are returned before it is raised."""

import socket
import threading

import pytest

from ringex_client import Client, Goodbye, LoginAccepted, Role, SessionEndReason
from ringex_client.codec import encode
from ringex_client.messages import Message, TopOfBook
from ringex_client.protocol import SessionEndedError

pytestmark = pytest.mark.timeout(30)


def quote(n: int) -> TopOfBook:
    return TopOfBook(timestamp_ns=n, instrument=1, bid_price=0, bid_qty=0, ask_price=0, ask_qty=0)


def serve_once(listener: socket.socket) -> None:
    """Logs one session in and, once it has asked for quotes, sends five and a Goodbye
    in one write."""
    conn, _ = listener.accept()
    with conn:
        conn.recv(1024)  # the Login
        login = LoginAccepted(account=1, role=Role.TRADER, epoch=1, next_seq=1, replay_end=0)
        conn.sendall(encode(login))
        conn.recv(1024)  # the Subscribe
        ending = [quote(i) for i in range(5)] + [Goodbye(reason=SessionEndReason.LOGOUT)]
        conn.sendall(b"".join(encode(m) for m in ending))
        conn.recv(1024)  # until the client closes


def polled_until_end(c: Client) -> list[Message]:
    """Every message polled until the session's end is raised."""
    got: list[Message] = []
    for _ in range(100):
        try:
            got += c.poll(0.5)
        except SessionEndedError:
            return got
    raise AssertionError("the session did not end")


def test_messages_before_a_goodbye_are_returned_before_it_is_raised() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=serve_once, args=(listener,))
        server.start()
        port = listener.getsockname()[1]
        c = Client("127.0.0.1", port, "alice", "pw", reconnect=False, heartbeat_s=30, timeout_s=30)
        c.connect()
        c.subscribe(1)
        got = polled_until_end(c)
        c.close()
        server.join()
    assert [m.timestamp_ns for m in got if isinstance(m, TopOfBook)] == list(range(5))
