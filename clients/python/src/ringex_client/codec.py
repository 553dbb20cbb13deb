"""Encoding and decoding of session messages and frames, checked whole before parsing.

The layouts come from :mod:`ringex_client.messages`, generated from the protocol's
declarations; this module only interprets them.

Frames are a little-endian ``u16`` length and that many bytes (type byte, then fields);
a body is at most :data:`FRAME_MAX` bytes. Every message type has one size, so a body
of the wrong size, an unknown type, an enum out of range or an undefined flag bit is a
:class:`ProtocolError` carrying the protocol's decode error code — never another
exception.
"""

import struct
import typing
from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import Any

import msgspec

from ringex_client.enums import DecodeError
from ringex_client.messages import CLIENT_TYPES, SERVER_TYPES, Message

FRAME_MAX = 256
"""Largest frame body on a client session."""

_LEN = struct.Struct("<H")


class ProtocolError(Exception):
    """Bytes that are not a valid message; ``code`` is the protocol's decode error."""

    def __init__(self, code: DecodeError, detail: str = "") -> None:
        super().__init__(f"{code.name.lower()}{': ' + detail if detail else ''}")
        self.code = code


def _text(raw: bytes) -> str:
    if not all(0x20 <= b <= 0x7E for b in raw):
        raise ProtocolError(DecodeError.BAD_ENUM, "text field not printable ASCII")
    return raw.rstrip(b" ").decode("ascii")


def _boolean(v: int) -> bool:
    if v > 1:
        raise ProtocolError(DecodeError.BAD_ENUM, "bool out of range")
    return v == 1


def _flag(bit: int) -> Callable[[int], bool]:
    def decode(v: int) -> bool:
        if v & ~bit:
            raise ProtocolError(DecodeError.BAD_FLAGS)
        return v == bit

    return decode


def _flag_byte(bit: int) -> Callable[[bool], int]:
    def encode(v: bool) -> int:
        return bit if v else 0

    return encode


class _Spec:
    """How one message type is laid out: its struct, size and field converters."""

    def __init__(self, cls: type[Message]) -> None:
        self.cls = cls
        self.struct = struct.Struct("<c" + cls.LAYOUT)
        self.size = self.struct.size
        # The fields alone, unpacked from after the type byte.
        self.fields = struct.Struct("<" + cls.LAYOUT)
        hints = typing.get_type_hints(cls)
        names = [f.name for f in msgspec.structs.fields(cls)]
        self.decoders: list[tuple[int, Callable[[Any], Any]]] = []
        # Enum fields: their index, their members by value and the enum's name. Looked
        # up in place: calling the enum class, or a function per field, costs several
        # times as much, on every feed message.
        self.enums: list[tuple[int, dict[int, IntEnum], str]] = []
        self.encoders: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(names):
            hint = hints[name]
            if name in cls.FLAGS:
                self.decoders.append((i, _flag(cls.FLAGS[name])))
                self.encoders.append((i, _flag_byte(cls.FLAGS[name])))
            elif hint is bool:
                self.decoders.append((i, _boolean))
                self.encoders.append((i, int))
            elif hint is str:
                width = cls.TEXT_WIDTHS[name]
                self.decoders.append((i, _text))
                self.encoders.append((i, _padder(width)))
            elif isinstance(hint, type) and issubclass(hint, IntEnum):
                self.enums.append((i, {m.value: m for m in hint}, hint.__name__))


def _padder(width: int) -> Callable[[str], bytes]:
    def pad(text: str) -> bytes:
        raw = text.encode("ascii")
        if len(raw) > width or not all(0x20 <= b <= 0x7E for b in raw):
            raise ValueError(f"{text!r}: at most {width} printable ASCII characters")
        return raw.ljust(width, b" ")

    return pad


_CLIENT = {cls.TYPE[0]: _Spec(cls) for cls in CLIENT_TYPES}
_SERVER = {cls.TYPE[0]: _Spec(cls) for cls in SERVER_TYPES}
_SPECS = {
    cls: spec for table in (_CLIENT, _SERVER) for spec in table.values() for cls in [spec.cls]
}


def encode_body(message: Message) -> bytes:
    """The message's bytes without the frame prefix."""
    spec = _SPECS[type(message)]
    values = list(msgspec.structs.astuple(message))
    for i, convert in spec.encoders:
        values[i] = convert(values[i])
    return spec.struct.pack(message.TYPE, *values)


def encode(message: Message) -> bytes:
    """The message as one frame, ready to write."""
    body = encode_body(message)
    return _LEN.pack(len(body)) + body


def _decode(table: dict[int, _Spec], body: bytes) -> Any:
    if not body:
        raise ProtocolError(DecodeError.TRUNCATED)
    spec = table.get(body[0])
    if spec is None:
        raise ProtocolError(DecodeError.UNKNOWN_TYPE, f"type byte {body[0]:#04x}")
    if len(body) != spec.size:
        short = len(body) < spec.size
        raise ProtocolError(DecodeError.TRUNCATED if short else DecodeError.TRAILING_BYTES)
    if not spec.decoders and not spec.enums:
        return spec.cls(*spec.fields.unpack_from(body, 1))
    values = list(spec.fields.unpack_from(body, 1))
    for i, members, name in spec.enums:
        member = members.get(values[i])
        if member is None:
            raise ProtocolError(DecodeError.BAD_ENUM, f"{name} {values[i]}")
        values[i] = member
    for i, convert in spec.decoders:
        values[i] = convert(values[i])
    return spec.cls(*values)


def decode_server(body: bytes) -> Any:
    """Decodes one message the gateway sent (a frame body). Returns a ServerMessage."""
    return _decode(_SERVER, body)


def decode_client(body: bytes) -> Any:
    """Decodes one message a client sent (a frame body). Returns a ClientMessage."""
    return _decode(_CLIENT, body)


class FrameReader:
    """Splits a byte stream into frame bodies. The declared length is checked against
    the limit before any body byte is awaited, so memory never exceeds one frame."""

    def __init__(self, max_body: int = FRAME_MAX) -> None:
        self._buf = bytearray()
        self._max = max_body

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Adds bytes; yields every whole frame body now available."""
        # Immutable, so that each body is one slice (one copy); what is left of the
        # last frame is kept for the next call.
        buf = bytes(self._buf + data) if self._buf else bytes(data)
        size = len(buf)
        pos = 0
        try:
            while size - pos >= 2:
                (length,) = _LEN.unpack_from(buf, pos)
                if length == 0 or length > self._max:
                    raise ProtocolError(DecodeError.BAD_LENGTH, f"frame length {length}")
                end = pos + 2 + length
                if size < end:
                    break
                yield buf[pos + 2 : end]
                pos = end
        finally:
            self._buf = bytearray(buf[pos:])

    def pending(self) -> int:
        """Bytes of an incomplete frame held."""
        return len(self._buf)
