"""The multicast transport of the L3 feed (``protocol/SPEC.md``, "Multicast
transport"): packets of a session name, the sequence number of their first message and
a message count, then that many length-prefixed messages; and the retransmission
server's requests and replies. Every decoder checks lengths before it allocates and
raises :class:`ProtocolError` on anything malformed, never another exception."""

import struct
from enum import IntEnum

import msgspec

from ringex_client.codec import FRAME_MAX, ProtocolError
from ringex_client.enums import DecodeError

SESSION_LEN = 10
HEADER_LEN = 20
END_OF_SESSION = 0xFFFF
"""The count of the packet that ends a session (its sequence: the next one unsent)."""
REQUEST_LEN = HEADER_LEN
REPLY_MAX = 0xFFFF
"""Largest reply body after its ``u16`` length."""

_HEADER = struct.Struct("<10sQH")
_LEN = struct.Struct("<H")
# The shortest message: a u16 length and a type byte.
_MESSAGE_MIN = 3


class ReplyStatus(IntEnum):
    """What a retransmission reply says about its request."""

    MESSAGES = 0
    TOO_OLD = 1
    """The window no longer holds it; ``sequence`` is the oldest held: take a snapshot."""
    NOT_YET = 2
    """Not published yet; ``sequence`` is the next one to come."""
    WRONG_SESSION = 3
    BAD_COUNT = 4
    """A count of 0 or over the server's bound, which ``count`` states."""


class Packet(msgspec.Struct, frozen=True):
    """A multicast packet, or the packet of a retransmission reply."""

    session: bytes
    sequence: int
    count: int
    messages: list[bytes]
    """Frame bodies (type byte onwards) of the L3 feed messages, in sequence order."""

    @property
    def end_of_session(self) -> bool:
        """The session ended: no message numbered ``sequence`` or after will come."""
        return self.count == END_OF_SESSION


class Reply(msgspec.Struct, frozen=True):
    """A retransmission reply: a status and its packet."""

    status: ReplyStatus
    packet: Packet


def session_name(text: str) -> bytes:
    """A session name as packets carry it: 1-10 printable ASCII characters, padded."""
    raw = text.encode("ascii")
    if not 0 < len(raw) <= SESSION_LEN or not all(0x21 <= b <= 0x7E for b in raw):
        raise ValueError("a session name is 1-10 printable ASCII characters")
    return raw.ljust(SESSION_LEN)


def encode_header(session: bytes, sequence: int, count: int) -> bytes:
    """A packet header; as a retransmission request, it asks for ``count`` messages."""
    return _HEADER.pack(session, sequence, count)


def decode_packet(data: bytes) -> Packet:
    """Splits a packet into its header and messages; its count must match exactly."""
    if len(data) < HEADER_LEN:
        raise ProtocolError(DecodeError.TRUNCATED, "packet header")
    session, sequence, count = _HEADER.unpack_from(data)
    wanted = 0 if count == END_OF_SESSION else count
    # The count is checked against the bytes before any list of that size is made.
    if wanted > (len(data) - HEADER_LEN) // _MESSAGE_MIN:
        raise ProtocolError(DecodeError.TRUNCATED, "fewer messages than the count")
    messages: list[bytes] = []
    pos = HEADER_LEN
    for _ in range(wanted):
        if len(data) - pos < 2:
            raise ProtocolError(DecodeError.TRUNCATED, "message length")
        (length,) = _LEN.unpack_from(data, pos)
        if length == 0 or length > FRAME_MAX:
            raise ProtocolError(DecodeError.BAD_LENGTH, f"message length {length}")
        end = pos + 2 + length
        if end > len(data):
            raise ProtocolError(DecodeError.TRUNCATED, "message")
        messages.append(bytes(data[pos + 2 : end]))
        pos = end
    if pos != len(data):
        raise ProtocolError(DecodeError.TRAILING_BYTES, "after the last message")
    return Packet(bytes(session), sequence, count, messages)


def split_reply(buf: bytes | bytearray) -> tuple[Reply, int] | None:
    """The first whole retransmission reply in ``buf`` and the bytes it took; None while
    more bytes are needed."""
    if len(buf) < 2:
        return None
    (length,) = _LEN.unpack_from(buf)
    if length < 1 + HEADER_LEN:
        raise ProtocolError(DecodeError.BAD_LENGTH, f"reply length {length}")
    if len(buf) < 2 + length:
        return None
    try:
        status = ReplyStatus(buf[2])
    except ValueError:
        raise ProtocolError(DecodeError.BAD_ENUM, f"reply status {buf[2]}") from None
    body = bytes(buf[3 : 2 + length])
    if status == ReplyStatus.MESSAGES:
        packet = decode_packet(body)
    elif len(body) != HEADER_LEN:
        raise ProtocolError(DecodeError.TRAILING_BYTES, "after a status reply's header")
    else:
        session, sequence, count = _HEADER.unpack(body)
        packet = Packet(session, sequence, count, [])
    return Reply(status, packet), 2 + length
