"""The local book on the asyncio client: the same books as :class:`LocalBook`, kept by
the client's reader task as messages arrive, with a timer of its own that asks again
for a resend or snapshot that did not come."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Self, Unpack

from ringex_client.aio import AsyncClient
from ringex_client.book_sync import BookOptions, BookSync, FeedRefusedError
from ringex_client.local_book import send_requests
from ringex_client.messages import Message


class AsyncLocalBook(BookSync):
    """Books kept from an :class:`AsyncClient`'s feeds; the options are
    :class:`BookSync`'s. ``async with AsyncLocalBook(client, 1) as book:`` subscribes
    and unsubscribes; :meth:`wait_synced` and :meth:`wait_until` wait for the books."""

    def __init__(
        self, client: AsyncClient, instrument: int, **options: Unpack[BookOptions]
    ) -> None:
        super().__init__(instrument, **options)
        self.client = client
        self._chained = client.on_message
        client.on_message = self._on_message
        self._changed = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None

    def _on_message(self, message: Message) -> None:
        self.receive(message, time.monotonic())
        self._flush()
        self._changed.set()
        if self._chained is not None:
            self._chained(message)

    def _flush(self) -> None:
        if self.requests_waiting:  # after most messages, none is
            send_requests(self.client, self.take_requests())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.limits.timeout_s / 4)
            self.tick(time.monotonic())
            self._flush()

    def subscribe(self) -> None:
        """Subscribes to the feeds and starts the timer; the books load as their
        snapshots arrive."""
        self.start(time.monotonic())
        self._flush()
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._tick())

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Waits until ``predicate()`` holds, checked after every message. Raises
        TimeoutError, or FeedRefusedError when the gateway refused a subscription."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self._check()
                self._changed.clear()
                await self._changed.wait()

    def _check(self) -> None:
        """Raises what keeps the books from getting anywhere."""
        if self.refused is not None:
            raise FeedRefusedError(self.refused)

    async def wait_synced(self, timeout: float = 10.0) -> None:
        """Waits until every feed is loaded and in step (see :meth:`wait_until`)."""
        await self.wait_until(self.synced, timeout)

    async def close(self) -> None:
        """Unsubscribes, stops the timer and lets go of the client."""
        self.stop()
        self._flush()
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self.client.on_message == self._on_message:
            self.client.on_message = self._chained

    async def __aenter__(self) -> Self:
        self.subscribe()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
