"""Puts a multicast session's messages back in sequence order, with no I/O: packets
and retransmission replies go in, in any order and any number of times; decoded feed
messages come out once each, in order; the missing range to ask the retransmission
server for is always known. Bounded: messages ahead of the next one expected are held
only within ``max_pending`` of it (further ones are dropped and asked for again)."""

import msgspec

from ringex_client.codec import ProtocolError, decode_server
from ringex_client.messages import Message
from ringex_client.mold_packet import Packet, Reply, ReplyStatus


class MulticastLost(msgspec.Struct, frozen=True):
    """Messages ``first_seq`` to ``first_seq + count - 1`` of the session are gone (older
    than the retransmission window): a book kept from the feed must take a snapshot
    through the TCP feed subscription."""

    first_seq: int
    count: int


class SequencerStats(msgspec.Struct, frozen=True):
    """What the sequencer saw (counts of messages unless named packets)."""

    duplicates: int
    beyond_bound: int
    bad_packets: int
    other_session: int
    lost: int


class MoldSequencer:
    """One session's messages in order. ``session`` and ``next_seq`` are taken from the
    first packet when not given (a heartbeat's sequence is the next message to come)."""

    def __init__(
        self,
        session: bytes | None = None,
        next_seq: int | None = None,
        max_pending: int = 65_536,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.session = session
        self.next_seq = next_seq
        self.max_pending = max_pending
        self.end_seq: int | None = None
        # Sequence numbers heard of: every message below this exists.
        self.high_seq = 0
        self._pending: dict[int, Message] = {}
        self._duplicates = self._beyond = self._bad = self._other = self._lost = 0

    @property
    def ended(self) -> bool:
        """The end of the session was seen and every message before it delivered."""
        return (
            self.end_seq is not None
            and self.next_seq is not None
            and (self.next_seq >= self.end_seq)
        )

    def stats(self) -> SequencerStats:
        """Counters so far."""
        return SequencerStats(self._duplicates, self._beyond, self._bad, self._other, self._lost)

    def accept(self, packet: Packet) -> list[Message]:
        """Takes a packet; returns the messages now in order after those returned before."""
        if self.session is None:
            self.session = packet.session
        elif packet.session != self.session:
            self._other += 1
            return []
        if self.next_seq is None:
            self.next_seq = packet.sequence
        try:
            decoded = [decode_server(body) for body in packet.messages]
        except ProtocolError:
            self._bad += 1
            return []
        if packet.end_of_session:
            self.end_seq = packet.sequence
        self.high_seq = max(self.high_seq, packet.sequence + len(decoded))
        for seq, message in enumerate(decoded, packet.sequence):
            if seq < self.next_seq or seq in self._pending:
                self._duplicates += 1
            elif seq - self.next_seq >= self.max_pending:
                self._beyond += 1
            else:
                self._pending[seq] = message
        return self._release()

    def accept_reply(self, reply: Reply) -> list[Message | MulticastLost]:
        """Takes a retransmission reply. TooOld skips to the oldest message the server
        holds: returns a :class:`MulticastLost` for the range skipped, then what follows."""
        if reply.status == ReplyStatus.MESSAGES:
            return list(self.accept(reply.packet))
        if reply.status != ReplyStatus.TOO_OLD or self.next_seq is None:
            return []
        oldest = reply.packet.sequence
        if oldest <= self.next_seq:
            return []
        lost = MulticastLost(self.next_seq, oldest - self.next_seq)
        self._lost += lost.count
        self._pending = {s: m for s, m in self._pending.items() if s >= oldest}
        self.next_seq = oldest
        self.high_seq = max(self.high_seq, oldest)
        return [lost, *self._release()]

    def gap(self, limit: int) -> tuple[int, int] | None:
        """The first missing range as (first sequence, count ≤ ``limit``), or None."""
        start = self.next_seq
        if start is None or start >= self.high_seq:
            return None
        end = start
        while end < self.high_seq and end not in self._pending and end - start < limit:
            end += 1
        return start, end - start

    def _release(self) -> list[Message]:
        assert self.next_seq is not None
        out: list[Message] = []
        while self.next_seq in self._pending:
            out.append(self._pending.pop(self.next_seq))
            self.next_seq += 1
        return out
