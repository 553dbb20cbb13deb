"""The local book kept from the L3 feed over UDP multicast, on the blocking client: a
:class:`MulticastReceiver` brings the incrementals (its gaps filled from the
retransmission server), a :class:`Client` session the snapshots, and :meth:`poll`
waits on both sockets at once."""

import select
import time
from typing import Unpack

from ringex_client.blocking import Client
from ringex_client.book_sync import BookOptions
from ringex_client.local_book import LocalBook
from ringex_client.messages import Message
from ringex_client.multicast_book_sync import MulticastBookSync, MulticastEndedError
from ringex_client.multicast_receiver import MulticastReceiver

#: The longest the client goes unpolled while the multicast socket is busy: its
#: heartbeats and reconnects happen in its poll.
CLIENT_POLL_S = 0.25


class MulticastLocalBook(LocalBook, MulticastBookSync):
    """Books of one instrument (or every instrument: ``ALL_INSTRUMENTS``) kept from a
    :class:`MulticastReceiver` of the gateway's L3 multicast session, with snapshots
    taken through ``client``'s session; the options are :class:`BookSync`'s but L3
    only. Use as :class:`LocalBook`: ``with MulticastLocalBook(client, receiver, 1) as
    book:`` loads the snapshot, :meth:`poll` keeps the books current."""

    def __init__(
        self,
        client: Client,
        receiver: MulticastReceiver,
        instrument: int,
        **options: Unpack[BookOptions],
    ) -> None:
        super().__init__(client, instrument, **options)
        self.receiver = receiver
        self._client_polled = 0.0

    def subscribe(self) -> None:
        """Loads the books from snapshots (with ``ALL_INSTRUMENTS``, of every instrument
        listed)."""
        self.know(self.client.instruments, time.monotonic())
        super().subscribe()

    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Takes what the multicast receiver and the client have, waiting up to
        ``timeout`` seconds for either; returns the client's messages delivered. Raises
        :class:`MulticastEndedError` once the receiver's session has ended."""
        deadline = time.monotonic() + timeout
        while True:
            if self.receiver.ended:
                raise MulticastEndedError("the multicast session ended")
            client_readable = self._wait(deadline)
            taken = self._take_multicast()
            delivered = self._poll_client(client_readable)
            self.tick(time.monotonic())
            self._flush()
            if taken or delivered or time.monotonic() >= deadline:
                return delivered

    def _wait(self, deadline: float) -> bool:
        """Waits for either socket, until ``deadline`` at most; whether the client's
        is readable."""
        client_fd = self.client.fileno()
        sockets = [self.receiver.sock.fileno()] + ([client_fd] if client_fd >= 0 else [])
        wait_s = max(min(deadline - time.monotonic(), CLIENT_POLL_S), 0.0)
        readable, _, _ = select.select(sockets, [], [], wait_s)
        return client_fd in readable

    def _take_multicast(self) -> int:
        """Hands the book what the receiver has in order now; how many items."""
        items = self.receiver.poll(0.0)
        for item in items:
            self.receive_multicast(item, time.monotonic())
        return len(items)

    def _poll_client(self, readable: bool) -> list[Message]:
        """Polls the client when it has something, is not connected, or is due."""
        now = time.monotonic()
        if not readable and self.client.fileno() >= 0 and now - self._client_polled < CLIENT_POLL_S:
            return []
        self._client_polled = now
        return self.client.poll(0.0)
