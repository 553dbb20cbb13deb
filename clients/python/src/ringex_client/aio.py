"""The asyncio client: a background task reads, heartbeats and reconnects; messages
arrive through :meth:`AsyncClient.messages`, :meth:`AsyncClient.next_message` and
the ``on_message`` callback."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from ringex_client.codec import ProtocolError, encode
from ringex_client.enums import SessionEndReason
from ringex_client.messages import Heartbeat, LoginAccepted, Logout, Message
from ringex_client.orders import OrderEntry
from ringex_client.protocol import LOGIN_RETRY_S, ClientProtocol, LoginError, SessionEndedError
from ringex_client.session_timers import SessionTimers
from ringex_client.state import OrderTracker

log = logging.getLogger("ringex_client")

#: How many delivered messages may wait for next_message() or messages() by default.
MAX_QUEUED_MESSAGES = 10_000


class AsyncClient(OrderEntry, SessionTimers):
    """A session with the gateway on asyncio streams; the same options as
    :class:`ringex_client.Client`. Use ``async with AsyncClient(...) as c:``. Held-back
    order messages (``pace_orders``) go out from the background task.

    ``max_queued_messages`` bounds the delivered messages that wait to be taken with
    :meth:`next_message` or :meth:`messages`. When that many wait, the background task
    stops reading the socket until one is taken (a warning is logged), just as the
    blocking client reads only inside ``poll()``: TCP pushes back on the gateway, and no
    message is dropped. The paused client sends no heartbeats either, so a pause longer
    than the gateway's bounds ends the session (Goodbye IdleTimeout or SlowConsumer);
    the client then reconnects and the gateway replays the account's stream from the
    next sequence number it expects. With 0 nothing is queued: ``on_message`` alone sees
    the messages, and :meth:`next_message` only reports the session's end.
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
        max_queued_messages: int = MAX_QUEUED_MESSAGES,
    ) -> None:
        if max_queued_messages < 0:
            raise ValueError("max_queued_messages must be 0 or more")
        self.address = (host, port)
        self.protocol = ClientProtocol(
            username, password, replay_from_start=replay_from_start, pace_orders=pace_orders
        )
        self.reconnect = reconnect
        self._heartbeat_s_chosen = heartbeat_s
        self._timeout_s_chosen = timeout_s
        self.on_message = on_message
        self._writer: asyncio.StreamWriter | None = None
        self.max_queued_messages = max_queued_messages
        # One place more than the bound, so the session's end fits behind a full queue
        # (and asyncio's maxsize 0 would mean unbounded).
        self._queue: asyncio.Queue[Message | BaseException] = asyncio.Queue(max_queued_messages + 1)
        self._ended: BaseException | None = None
        # Set whenever a message is taken: a paused reader waits for it.
        self._taken = asyncio.Event()
        # Whether the queue filled since the consumer last emptied it (warned once).
        self._paused_since_empty = False
        self._task: asyncio.Task[None] | None = None
        self._logged_in: asyncio.Future[LoginAccepted] | None = None
        self._closing = False
        self._init_ids(first_client_order_id)

    @property
    def tracker(self) -> OrderTracker:
        """Open orders, fills and positions as this client has seen them."""
        return self.protocol.tracker

    async def connect(self) -> LoginAccepted:
        """Connects and logs in; returns LoginAccepted. Raises LoginError or OSError."""
        self._logged_in = asyncio.get_running_loop().create_future()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*self.address), self.timeout_s
        )
        self._writer = writer
        writer.write(self.protocol.start())
        self._task = asyncio.create_task(self._run(reader, writer))
        return await asyncio.wait_for(asyncio.shield(self._logged_in), self.timeout_s)

    def _send(self, message: Message) -> None:
        self.protocol.send(message)
        self._flush()

    def _flush(self) -> None:
        out = self.protocol.take_outgoing()
        if out and self._writer is not None and not self._writer.is_closing():
            self._writer.write(out)

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await self._session(reader, writer)
                error: BaseException = ConnectionResetError("gateway closed the connection")
            except SessionEndedError as e:
                error = e
            except (OSError, ProtocolError, TimeoutError) as e:
                error = e
            except LoginError as e:
                # Only a reconnect retries: the first login's refusal goes to connect().
                if not e.retryable or not self._logged_in or not self._logged_in.done():
                    self._fail(e)
                    return
                error = e
            writer.close()
            self._writer = None
            self.protocol.logged_in = False
            final = isinstance(error, SessionEndedError) and error.reason == SessionEndReason.LOGOUT
            if self._closing or final or not self.reconnect:
                self._fail(error)
                return
            log.warning("connection lost (%s); reconnecting", error)
            if isinstance(error, LoginError):
                await asyncio.sleep(LOGIN_RETRY_S)
            while True:
                await asyncio.sleep(0.05)
                try:
                    reader, writer = await asyncio.open_connection(*self.address)
                    break
                except OSError:
                    continue
            self._writer = writer
            writer.write(self.protocol.start())

    def _fail(self, error: BaseException) -> None:
        if self._logged_in is not None and not self._logged_in.done():
            self._logged_in.set_exception(error)
        self._ended = error
        self._queue.put_nowait(error)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        last_sent = last_heard = time.monotonic()
        while True:
            pacing_s = self.protocol.pacing_wait_s()
            wait_s = self.heartbeat_s if pacing_s is None else min(self.heartbeat_s, pacing_s)
            try:
                data = await asyncio.wait_for(reader.read(65536), max(wait_s, 0.001))
            except TimeoutError:
                data = None
            if data == b"":
                return
            if data:
                last_heard = time.monotonic()
            elif time.monotonic() - last_heard > self.timeout_s:
                raise TimeoutError("gateway silent for longer than the timeout")
            if data:
                for message in self.protocol.receive(data):
                    waiting = self._logged_in is not None and not self._logged_in.done()
                    if isinstance(message, LoginAccepted) and waiting:
                        assert self._logged_in is not None
                        self._logged_in.set_result(message)
                    if self.on_message is not None:
                        self.on_message(message)
                    if self.max_queued_messages:
                        if self._queue.qsize() >= self.max_queued_messages:
                            await self._room()
                        self._queue.put_nowait(message)
                self.protocol.raise_if_ended()
            self._flush()
            if self.protocol.logged_in and time.monotonic() - last_sent >= self.heartbeat_s:
                writer.write(encode(Heartbeat()))
                last_sent = time.monotonic()
            await writer.drain()

    async def _room(self) -> None:
        """Waits (and so reads nothing more) while the queue holds
        ``max_queued_messages``. Only a full queue awaits this: a message costs no
        coroutine of its own on the way in."""
        if not self._paused_since_empty:
            log.warning(
                "%d messages wait unread: reading paused until next_message() takes one",
                self.max_queued_messages,
            )
            self._paused_since_empty = True
        while self._queue.qsize() >= self.max_queued_messages:
            await self._taken.wait()
            self._taken.clear()

    async def next_message(self, timeout: float | None = None) -> Message:
        """The next delivered message. Raises the session's final error when it ended
        (again on every later call)."""
        if not self._queue.empty():
            item = self._queue.get_nowait()  # most calls: no coroutine, no timer
        elif self._ended is not None:
            raise self._ended
        else:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        self._taken.set()
        if self._queue.empty():
            self._paused_since_empty = False
        if isinstance(item, BaseException):
            raise item
        return item

    async def messages(self) -> AsyncIterator[Message]:
        """Every delivered message until the session ends."""
        while True:
            try:
                yield await self.next_message()
            except (SessionEndedError, ConnectionError):
                return

    async def logout(self, timeout: float = 5.0) -> None:
        """Logs out and waits for the gateway's Goodbye. What the gateway sent before it
        (what the account's stream held for this session, as for
        :meth:`ringex_client.Client.logout`) stays queued for :meth:`next_message` and
        :meth:`messages`, which then report the end; a full queue pauses reading as
        always, so take messages meanwhile. Raises the session's error if it ended otherwise,
        TimeoutError if no Goodbye came within ``timeout``; the connection is closed
        either way."""
        task = self._task
        if task is None or task.done() or self._writer is None or self._writer.is_closing():
            await self.close()
            return
        self._closing = True  # a lost connection now ends the session, not a reconnect
        self._writer.write(encode(Logout()))
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        finally:
            await self.close()
        ended = self._ended
        if not (isinstance(ended, SessionEndedError) and ended.reason == SessionEndReason.LOGOUT):
            raise ended or ConnectionResetError("the session ended without a Goodbye")

    async def close(self) -> None:
        """Logs out and closes at once, without waiting for the gateway's Goodbye (see
        :meth:`logout`)."""
        self._closing = True
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(encode(Logout()))
            with contextlib.suppress(OSError):
                await self._writer.drain()
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aenter__(self) -> "AsyncClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
