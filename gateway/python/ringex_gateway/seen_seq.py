"""The highest engine sequence number this gateway has seen, kept in a file next to the
stream journal, so a restarted gateway still refuses an engine that went back in time
and resumes its link from where it was, even when its stream journal was full or lost.

The file holds one little-endian u64, rewritten in place when the number grows and
handed to the operating system before the messages of that sequence reach clients.
"""

import os
import struct
from pathlib import Path

FILE_NAME = "gateway-engine-seq"
_SEQ = struct.Struct("<Q")


class SeenSeq:
    """Reads and keeps ``directory/gateway-engine-seq`` up to date."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        directory.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        data = os.pread(self._fd, _SEQ.size, 0)
        # A short file (a crash before the first write) holds nothing yet.
        self.seq = int(_SEQ.unpack(data)[0]) if len(data) == _SEQ.size else 0

    def record(self, seq: int) -> None:
        """Stores ``seq`` if it is higher than the stored one."""
        if seq > self.seq:
            os.pwrite(self._fd, _SEQ.pack(seq), 0)
            self.seq = seq

    def close(self) -> None:
        """Closes the file."""
        os.close(self._fd)
