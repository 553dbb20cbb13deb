"""The acked-id journal: the client order ids the gateway has seen Accepted today, so a
restarted gateway still refuses their reuse (DuplicateClientOrderId) without asking an
engine that may have forgotten them.

The file is a magic header, then 16-byte records appended as ids are acknowledged
(``account u32, client_order_id u64, crc32c u32`` over the first 12 bytes; the native
core encodes and checks them). A torn or damaged tail is cut on open. At the engine's
day end the file is emptied back to its header: ids are unique per day only. It holds at
most ``acked_ids_max`` records (16 MB at the default million); the core stops adding ids
past that. Like the stream journal it is handed to the operating system before the
Accepted it records reaches a client.

Why a file of its own rather than the ids in the stream journal: the stream journal is
cut to a new epoch when full and holds no checksums, so the ids derived from it would be
incomplete exactly when a long day filled it.
"""

import logging
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("ringex_gateway.acked_id_journal")

_MAGIC = b"RXGWAK01"
RECORD_BYTES = 16
FILE_NAME = "gateway-acked-ids.journal"


class AckedIdJournal:
    """Appends acked-id records to ``directory/gateway-acked-ids.journal``."""

    def __init__(self, directory: Path, max_ids: int) -> None:
        self.path = directory / FILE_NAME
        self.max_bytes = len(_MAGIC) + max_ids * RECORD_BYTES
        self._file: BinaryIO | None = None
        self._size = 0

    def open(self) -> bytes:
        """Opens (or starts) the journal; returns the records it holds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self.path.read_bytes() if self.path.exists() else b""
        if data.startswith(_MAGIC):
            self._file = self.path.open("r+b")
            self._size = len(data)
            return data[len(_MAGIC) :]
        if data:
            log.warning("acked-id journal has no valid header: starting it empty")
        self._file = self.path.open("w+b")
        self._reset()
        return b""

    def keep(self, records_length: int) -> None:
        """Cuts the file after its first ``records_length`` bytes of good records."""
        assert self._file is not None
        length = len(_MAGIC) + records_length
        if length < self._size:
            log.warning("acked-id journal: cut a torn tail of %d bytes", self._size - length)
            self._file.truncate(length)
            self._size = length
        self._file.seek(length)

    def append(self, cleared: bool, records: bytes) -> None:
        """Empties the file first if the day ended, then appends ``records``."""
        assert self._file is not None
        if cleared:
            self._reset()
        if records:
            assert self._size + len(records) <= self.max_bytes, "the core bounds the ids"
            self._file.write(records)
            self._file.flush()
            self._size += len(records)

    def _reset(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(_MAGIC)
        self._file.flush()
        self._size = len(_MAGIC)

    def close(self) -> None:
        """Closes the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
