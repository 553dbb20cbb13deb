"""The local book kept from the L3 feed over UDP multicast, on the asyncio client: a task
of its own reads the :class:`AsyncMulticastReceiver`, the client's reader task brings
the snapshots."""

import asyncio
import contextlib
import time
from typing import Unpack

from ringex_client.aio import AsyncClient
from ringex_client.aio_local_book import AsyncLocalBook
from ringex_client.aio_multicast_receiver import AsyncMulticastReceiver
from ringex_client.book_sync import BookOptions
from ringex_client.multicast_book_sync import MulticastBookSync, MulticastEndedError

#: How long the multicast group may be silent (the gateway sends heartbeats) before the
#: book stops reading it and :meth:`AsyncMulticastLocalBook.wait_until` raises; a
#: receiver that follows sessions is read on (a restarting gateway is silent a while).
IDLE_TIMEOUT_S = 5.0


class AsyncMulticastLocalBook(AsyncLocalBook, MulticastBookSync):
    """Books of one instrument (or every instrument: ``ALL_INSTRUMENTS``) kept from an
    :class:`AsyncMulticastReceiver`, with snapshots through ``client``'s session; the
    options are :class:`BookSync`'s but L3 only. ``async with
    AsyncMulticastLocalBook(client, receiver, 1) as book:`` loads the snapshot and keeps
    the books current until the end of the block."""

    def __init__(
        self,
        client: AsyncClient,
        receiver: AsyncMulticastReceiver,
        instrument: int,
        **options: Unpack[BookOptions],
    ) -> None:
        super().__init__(client, instrument, **options)
        self.receiver = receiver
        self._reader: asyncio.Task[None] | None = None
        self.feed_error: BaseException | None = None
        """What ended the reading of the multicast group, if it ended."""

    def subscribe(self) -> None:
        """Loads the books from snapshots and starts reading the multicast group."""
        self.know(self.client.instruments, time.monotonic())
        super().subscribe()
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while not self.receiver.ended:
                try:
                    async for item in self.receiver.messages(IDLE_TIMEOUT_S):
                        self.receive_multicast(item, time.monotonic())
                        self._flush()
                        self._changed.set()
                except TimeoutError:
                    if not self.receiver.options.follow_sessions:
                        raise
                    # Silent while a gateway restarts: the next session comes later.
            raise MulticastEndedError("the multicast session ended")
        except Exception as e:  # reported through wait_until, not lost in the task
            self.feed_error = e
            self._changed.set()

    def _check(self) -> None:
        if isinstance(self.feed_error, MulticastEndedError):
            raise self.feed_error
        if self.feed_error is not None:
            raise ConnectionError(f"the multicast feed stopped: {self.feed_error!r}")
        super()._check()

    async def close(self) -> None:
        """Stops reading the multicast group, ends the snapshot subscriptions still on
        and lets go of the client (the receiver stays open: it is the caller's)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await super().close()
