"""The book checksum a feed snapshot carries (SPEC.md, "Market data feeds"), computed
from a client's own book so it can check itself against the exchange's.

CRC-32C (Castagnoli, reflected, initial and final XOR 0xFFFFFFFF) over a canonical
little-endian encoding: bids then asks, each side best price first; L3 entries are
``side u8, price i64, order_id u64, qty u64`` per resting order in queue order, L2
entries ``side u8, price i64, qty u64, order_count u32`` per level. An empty book's
checksum is 0.
"""

import struct
from collections.abc import Iterable

from ringex_client.enums import Side

_L3 = struct.Struct("<BqQQ")
_L2 = struct.Struct("<BqQI")


def _table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (the check value of b"123456789" is 0xE3069283)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def l3_checksum(orders: Iterable[tuple[Side, int, int, int]]) -> int:
    """Checksum of ``(side, price, order_id, qty)`` in canonical order; 0 when empty."""
    data = b"".join(_L3.pack(side, price, oid, qty) for side, price, oid, qty in orders)
    return crc32c(data) if data else 0


def l2_checksum(levels: Iterable[tuple[Side, int, int, int]]) -> int:
    """Checksum of ``(side, price, qty, order_count)`` in canonical order; 0 when empty."""
    data = b"".join(_L2.pack(side, price, qty, count) for side, price, qty, count in levels)
    return crc32c(data) if data else 0
