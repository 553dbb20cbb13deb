"""The stream journal: every engine events frame the gateway routed, appended to a file,
so a restarted gateway rebuilds every account's stream with the same sequence numbers
and epoch, and reconnecting clients are replayed what they missed.

The file is a header (magic, epoch) and then the engine link's events frames as they
arrived. It is written to the operating system before the messages it produced go to
clients (it survives a crash of the gateway, not of the machine; the engine's journal
is the source of truth for orders). A torn tail is cut off on open. The file is bounded
by ``journal_max_bytes``: once full, appending stops with a warning, and the next start
begins a new epoch in a new file.
"""

import logging
import struct
import time
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("ringex_gateway.stream_journal")

_MAGIC = b"RXGWSJ01"
_HEADER = struct.Struct("<8sQ")
FILE_NAME = "gateway-streams.journal"


class StreamJournal:
    """Appends events frames to ``directory/gateway-streams.journal``."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.path = directory / FILE_NAME
        self.max_bytes = max_bytes
        self.full = False
        self._file: BinaryIO | None = None
        self._size = 0

    def open(self) -> tuple[int, bytes]:
        """Opens (or starts) the journal; returns its epoch and the frames it holds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self.path.read_bytes() if self.path.exists() else b""
        if len(data) >= _HEADER.size and len(data) <= self.max_bytes:
            magic, epoch = _HEADER.unpack_from(data)
            if magic == _MAGIC:
                self._file = self.path.open("r+b")
                self._size = len(data)
                return int(epoch), data[_HEADER.size :]
        if data:
            log.warning("starting a new stream journal epoch (old file unusable or full)")
        epoch = time.time_ns()
        self._file = self.path.open("w+b")
        self._file.write(_HEADER.pack(_MAGIC, epoch))
        self._file.flush()
        self._size = _HEADER.size
        return epoch, b""

    def keep(self, frames_length: int) -> None:
        """Cuts the file after its first ``frames_length`` bytes of whole frames."""
        assert self._file is not None
        length = _HEADER.size + frames_length
        if length < self._size:
            log.warning("stream journal: cut a torn tail of %d bytes", self._size - length)
            self._file.truncate(length)
            self._size = length
        self._file.seek(length)

    def append(self, frames: bytes) -> None:
        """Appends frames and hands them to the operating system."""
        if self._file is None or self.full or not frames:
            return
        if self._size + len(frames) > self.max_bytes:
            self.full = True
            log.warning("stream journal full at %d bytes: no longer appending", self._size)
            return
        self._file.write(frames)
        self._file.flush()
        self._size += len(frames)

    def close(self) -> None:
        """Closes the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
