"""The local book on the blocking client: the feeds' snapshots and incrementals kept as
books, resynced by themselves, read with plain calls.

It rides on the client: every message the client delivers (through :meth:`Client.poll`,
:meth:`Client.wait_for`, or :meth:`LocalBook.poll`) also reaches the book, and the
book's subscriptions and resend requests go out on the same session. A reconnect of the
client subscribes again and loads fresh snapshots.
"""

import time
from collections.abc import Callable
from typing import Self, Unpack

from ringex_client.blocking import Client
from ringex_client.book_sync import BookOptions, BookSync, FeedRefusedError, FeedRequest
from ringex_client.messages import FeedSubscribe, Message
from ringex_client.orders import OrderEntry


def send_requests(client: OrderEntry, requests: list[FeedRequest]) -> None:
    """Sends a local book's requests through a client's session."""
    for r in requests:
        if isinstance(r, FeedSubscribe):
            client.subscribe_feed(r.instrument, r.feed, r.depth, r.subscribe)
        else:
            client.request_resend(r.instrument, r.feed, r.from_seq, r.to_seq, r.depth)


class LocalBook(BookSync):
    """Books kept from a :class:`Client`'s feeds; the options are :class:`BookSync`'s.

    ``with LocalBook(client, 1, l2_depth=10) as book:`` subscribes, and unsubscribes at
    the end; :meth:`wait_synced` waits for the snapshots; :meth:`poll` (or any polling
    of the client) keeps the books current.
    """

    def __init__(self, client: Client, instrument: int, **options: Unpack[BookOptions]) -> None:
        super().__init__(instrument, **options)
        self.client = client
        self._chained = client.on_message
        client.on_message = self._on_message

    def _on_message(self, message: Message) -> None:
        self.receive(message, time.monotonic())
        self._flush()
        if self._chained is not None:
            self._chained(message)

    def _flush(self) -> None:
        if self.requests_waiting:  # after most messages, none is
            send_requests(self.client, self.take_requests())

    def subscribe(self) -> None:
        """Subscribes to the feeds; the books load as their snapshots arrive."""
        self.start(time.monotonic())
        self._flush()

    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Polls the client (which feeds the books) for up to ``timeout`` seconds and
        asks again for what did not come; returns every message delivered."""
        messages = self.client.poll(timeout)
        self.tick(time.monotonic())
        self._flush()
        return messages

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Polls until ``predicate()`` holds. Raises TimeoutError, or FeedRefusedError
        when the gateway refused a subscription."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.refused is not None:
                raise FeedRefusedError(self.refused)
            if time.monotonic() > deadline:
                raise TimeoutError("the local book did not get there in time")
            self.poll(min(0.05, max(deadline - time.monotonic(), 0.0)))

    def wait_synced(self, timeout: float = 10.0) -> None:
        """Polls until every feed is loaded and in step (see :meth:`wait_until`)."""
        self.wait_until(self.synced, timeout)

    def close(self) -> None:
        """Unsubscribes (if the session is up) and lets go of the client."""
        self.stop()
        self._flush()
        if self.client.on_message == self._on_message:
            self.client.on_message = self._chained

    def __enter__(self) -> Self:
        self.subscribe()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
