"""The asyncio receiver of the L3 feed over UDP multicast: the same as
:class:`~ringex_client.multicast_receiver.MulticastReceiver` (sequence order, gaps
filled from the TCP retransmission server, duplicates dropped, bounded buffers), read
with ``async for``."""

import asyncio
from collections.abc import AsyncIterator

from ringex_client.mold_packet import Reply
from ringex_client.multicast_receiver import (
    DATAGRAM_MAX,
    REQUESTS_PER_PACKET,
    FeedItem,
    JoinedGroup,
)


class AsyncMulticastReceiver(JoinedGroup):
    """Receives one multicast session of the L3 feed on the running event loop; close
    with :meth:`close` (or ``async with``)."""

    _streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def __aenter__(self) -> "AsyncMulticastReceiver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Leaves the group and closes the retransmission connection."""
        self.sock.close()
        self._forget_retransmission()

    def _forget_retransmission(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def messages(self, idle_timeout: float = 5.0) -> AsyncIterator[FeedItem]:
        """Every message in order until the session ends; TimeoutError after
        ``idle_timeout`` seconds with no packet."""
        loop = asyncio.get_running_loop()
        while not self.ended:
            data = await asyncio.wait_for(loop.sock_recv(self.sock, DATAGRAM_MAX), idle_timeout)
            packet = self._packet(data)
            if packet is None:
                continue
            for message in self._accept(packet):
                yield message
            for _ in range(REQUESTS_PER_PACKET):
                gap = self._gap()
                if gap is None:
                    break
                items, again = self._accept_reply(await self._request(*gap))
                for item in items:
                    yield item
                if not again:
                    break  # not published yet: the next packet brings it

    async def _request(self, sequence: int, count: int) -> Reply:
        """One request and its reply over the (lazily opened) TCP connection."""
        if self._streams is None:
            self._streams = await asyncio.wait_for(
                asyncio.open_connection(*self.retransmit), self.options.retransmit_timeout_s
            )
        reader, writer = self._streams
        writer.write(self._request_bytes(sequence, count))
        while (reply := self._take_reply()) is None:
            data = await asyncio.wait_for(reader.read(1 << 16), self.options.retransmit_timeout_s)
            if not data:
                writer.close()
                self._streams = None
                raise ConnectionError("the retransmission server closed the connection")
            self._replies += data
        return reply
