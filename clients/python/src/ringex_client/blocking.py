"""The blocking client: plain sockets, no threads. Call :meth:`Client.poll` regularly
(it sends heartbeats, delivers messages and reconnects)."""

import contextlib
import logging
import socket
import time
from collections.abc import Callable

from ringex_client.codec import ProtocolError, encode
from ringex_client.enums import SessionEndReason
from ringex_client.messages import Heartbeat, LoginAccepted, Logout, Message
from ringex_client.orders import OrderEntry
from ringex_client.protocol import LOGIN_RETRY_S, ClientProtocol, LoginError, SessionEndedError
from ringex_client.session_timers import SessionTimers
from ringex_client.state import OrderTracker

log = logging.getLogger("ringex_client")


class Client(OrderEntry, SessionTimers):
    """A session with the gateway over a blocking socket.

    ``reconnect`` makes it log in again after a lost connection, or after the gateway
    was silent for ``timeout_s`` (with the next sequence number it expects, so the
    gateway replays what it missed), and resend unanswered orders. ``timeout_s`` and
    ``heartbeat_s`` default to the idle timeout and heartbeat interval the gateway
    states at login (SessionParameters). ``on_message`` is
    called for every delivered message. With ``pace_orders`` order and admin messages
    are held back to the session's stated rate limit and go out during later polls.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        replay_from_start: bool = False,
        reconnect: bool = True,
        heartbeat_s: float | None = None,
        timeout_s: float | None = None,
        on_message: Callable[[Message], None] | None = None,
        first_client_order_id: int | None = None,
        pace_orders: bool = True,
    ) -> None:
        self.address = (host, port)
        self.protocol = ClientProtocol(
            username, password, replay_from_start=replay_from_start, pace_orders=pace_orders
        )
        self.reconnect = reconnect
        self._heartbeat_s_chosen = heartbeat_s
        self._timeout_s_chosen = timeout_s
        self.on_message = on_message
        self._sock: socket.socket | None = None
        self._last_sent = 0.0
        self._last_heard = 0.0
        self._inbox: list[Message] = []
        # The session's end, raised by the poll after the one that returned what preceded it.
        self._ended: BaseException | None = None
        self._init_ids(first_client_order_id)

    @property
    def tracker(self) -> OrderTracker:
        """Open orders, fills and positions as this client has seen them."""
        return self.protocol.tracker

    def connect(self) -> LoginAccepted:
        """Connects and logs in; returns LoginAccepted. Raises LoginError or OSError."""
        self._close_socket()
        sock = socket.create_connection(self.address, timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._write(self.protocol.start())
        self._last_heard = time.monotonic()
        deadline = time.monotonic() + self.timeout_s
        while not self.protocol.logged_in:
            if time.monotonic() > deadline:
                raise TimeoutError("no login response")
            self._read(deadline - time.monotonic())
        accepted = next(m for m in self._inbox if isinstance(m, LoginAccepted))
        self._inbox.remove(accepted)
        return accepted

    def _send(self, message: Message) -> None:
        self.protocol.send(message)
        self._flush()

    def _flush(self) -> None:
        out = self.protocol.take_outgoing()
        if out and self._sock is not None:
            try:
                self._write(out)
            except OSError:
                self._close_socket()

    def _write(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(data)
        self._last_sent = time.monotonic()

    def _read(self, timeout: float) -> None:
        assert self._sock is not None
        self._sock.settimeout(max(timeout, 0.001))
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return
        if not data:
            raise ConnectionResetError("gateway closed the connection")
        self._last_heard = time.monotonic()
        for message in self.protocol.receive(data):
            self._inbox.append(message)
            if self.on_message is not None:
                self.on_message(message)
        self.protocol.raise_if_ended()
        self._flush()

    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Waits up to ``timeout`` seconds for messages; returns those delivered.

        Sends a heartbeat when due. On a lost connection it reconnects (if enabled) and
        the replay arrives through later polls; otherwise the error propagates, after
        the messages that came before it were returned."""
        if self._ended is not None:
            error, self._ended = self._ended, None
            raise error
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._sock is None:
                    self._reconnect()
                elif time.monotonic() - self._last_heard > self.timeout_s:
                    raise TimeoutError("gateway silent for longer than the timeout")
                elif time.monotonic() - self._last_sent >= self.heartbeat_s:
                    self._write(encode(Heartbeat()))
                if self._sock is not None:
                    self._read(min(deadline - time.monotonic(), self._wait_s()))
                    self._flush()
            except SessionEndedError as e:
                self._close_socket()
                if e.reason == SessionEndReason.LOGOUT or not self.reconnect:
                    return self._end(e)
                log.warning("%s; reconnecting", e)
            except (OSError, ProtocolError) as e:
                self._close_socket()
                if not self.reconnect:
                    return self._end(e)
                log.warning("connection lost (%s); reconnecting", e)
            if self._inbox or time.monotonic() >= deadline:
                break
        out, self._inbox = self._inbox, []
        return out

    def fileno(self) -> int:
        """The session socket's descriptor, to wait on it beside others; -1 while not
        connected. Read it only through :meth:`poll`."""
        return -1 if self._sock is None else self._sock.fileno()

    def _end(self, error: BaseException) -> list[Message]:
        """Raises ``error`` now if nothing waits to be returned, else on the next poll."""
        if not self._inbox:
            raise error
        self._ended = error
        out, self._inbox = self._inbox, []
        return out

    def _wait_s(self) -> float:
        """How long a read may wait: until the next heartbeat or held-back order."""
        pacing_s = self.protocol.pacing_wait_s()
        return self.heartbeat_s if pacing_s is None else min(self.heartbeat_s, pacing_s)

    def _reconnect(self) -> None:
        try:
            self.connect()
        except LoginError as e:
            if not e.retryable:
                raise
            log.warning("%s; retrying in %.1fs", e, LOGIN_RETRY_S)
            self._close_socket()
            time.sleep(LOGIN_RETRY_S)
        except OSError:
            self._close_socket()
            time.sleep(0.05)

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """Polls until a message satisfies ``predicate``; returns it. Messages before it
        are dropped (``on_message`` saw them). Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.poll(min(0.05, max(deadline - time.monotonic(), 0)))
            for i, message in enumerate(messages):
                if predicate(message):
                    self._inbox[:0] = messages[i + 1 :]
                    return message
        raise TimeoutError("no matching message")

    def drop_connection(self) -> None:
        """Closes the socket without logging out (as a network failure would)."""
        self._close_socket()

    def logout(self, timeout: float = 5.0) -> list[Message]:
        """Logs out, waiting for the gateway's Goodbye, and closes; returns every message
        delivered meanwhile. Before its Goodbye the gateway writes what the account's
        stream holds for this session, up to its ``drain_bytes`` (64 KiB by default,
        about a thousand answers), so the acknowledgements and fills it had are not left
        unread; any beyond that, and orders still on their way to the engine, are
        answered at the next login. Raises the session's error if it ended otherwise,
        TimeoutError if no Goodbye came within ``timeout`` (the socket is closed either
        way)."""
        if self._sock is None:
            return []
        got: list[Message] = []
        reconnect, self.reconnect = self.reconnect, False
        try:
            self._write(encode(Logout()))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                got += self.poll(left)
            raise TimeoutError("no Goodbye after Logout")
        except SessionEndedError as e:
            if e.reason != SessionEndReason.LOGOUT:
                raise
        finally:
            self.reconnect = reconnect
            self._close_socket()
        return got

    def close(self) -> None:
        """Logs out and closes at once, without waiting for the gateway's Goodbye (see
        :meth:`logout`)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._write(encode(Logout()))
        self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.protocol.logged_in = False

    def __enter__(self) -> "Client":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
