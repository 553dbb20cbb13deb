"""The durable state of one FIX session (one SenderCompID/TargetCompID pair): the next
inbound and outbound MsgSeqNum, the account stream position its execution reports have
reached, and the application messages it sent, to answer ResendRequests.

Two files per pair in the store directory, handed to the operating system before the
messages they cover are written to the peer (they survive a gateway crash, as the
gateway's stream journal does):

Changes are gathered and written by :meth:`SeqStore.flush`, which the session calls
before it hands out bytes to send. The numbers are rewritten only when the records
written with them do not already say them: on open, the later of the two holds.

- ``<ours>-<theirs>.fixseq``: four little-endian u64, rewritten in place: next inbound
  and next outbound MsgSeqNum, the account stream's epoch and the last stream number
  turned into a FIX message.
- ``<ours>-<theirs>.fixmsgs``: records ``u32 length, u64 MsgSeqNum, u64 stream number,
  message bytes`` for each application message sent; a torn tail is cut on open. The
  application messages among the last ``keep_messages`` sequence numbers are kept in
  memory for resending, as the records themselves (a batch of messages is one block).
  Once the file would pass half of ``max_bytes`` it becomes ``<ours>-<theirs>.fixmsgs.old``
  (replacing the one before) and a new file starts, so the two stay within
  ``max_bytes`` and a restart can still resend the newest messages, the ones a peer
  that lost its connection asks for; messages older than both files are gap-filled.

Without a directory the store lives in memory only (numbers restart with the gateway).
"""

import logging
import os
import re
import struct
from collections import deque
from pathlib import Path

log = logging.getLogger("ringex_gateway.fix.seq_store")

_STATE = struct.Struct("<QQQQ")
_RECORD = struct.Struct("<IQQ")
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SeqStore:
    """Sequence numbers and sent application messages of one CompID pair."""

    def __init__(
        self, directory: Path | None, ours: str, theirs: str, keep_messages: int, max_bytes: int
    ) -> None:
        assert keep_messages > 0
        assert max_bytes > 0
        for comp_id in (ours, theirs):
            if not _SAFE.match(comp_id):
                raise ValueError(f"CompID {comp_id!r} is not a safe file name")
        self.next_in = 1
        self.next_out = 1
        self.stream_epoch = 0
        self.stream_seq = 0
        self._keep = keep_messages
        self._max_bytes = max_bytes
        #: Blocks of records held for resending: (first MsgSeqNum, last, records).
        self._held: deque[tuple[int, int, bytes]] = deque()
        self._state_fd: int | None = None
        self._log_fd: int | None = None
        self._log_path: Path | None = None
        self._log_bytes = 0
        self._records: list[bytes] = []
        self._dirty = False
        #: The numbers in the state file, and the highest (next outbound MsgSeqNum, stream
        #: number) the records in the message file give: what a restart would read.
        self._state_on_disk = self._numbers()
        self._records_on_disk = (0, 0)
        self._records_gathered = (0, 0)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._open(directory / f"{ours}-{theirs}")

    def _open(self, stem: Path) -> None:
        self._state_fd = os.open(stem.with_suffix(".fixseq"), os.O_RDWR | os.O_CREAT, 0o600)
        data = os.pread(self._state_fd, _STATE.size, 0)
        if len(data) == _STATE.size:
            self.next_in, self.next_out, self.stream_epoch, self.stream_seq = _STATE.unpack(data)
            self._state_on_disk = self._numbers()
        self._log_path = stem.with_suffix(".fixmsgs")
        older = _older(self._log_path)
        if older.exists():
            # Whole when it was set aside: anything after its last whole record is ignored.
            with older.open("rb") as f:
                self._read_records(f.read(self._max_bytes))
        self._log_fd = os.open(self._log_path, os.O_RDWR | os.O_CREAT, 0o600)
        size = os.fstat(self._log_fd).st_size
        whole = self._read_records(os.pread(self._log_fd, min(size, self._max_bytes), 0))
        if whole < size:
            log.warning("%s: cut a torn tail of %d bytes", stem.name, size - whole)
            os.ftruncate(self._log_fd, whole)
        self._log_bytes = whole

    def _read_records(self, data: bytes) -> int:
        """Loads the records of ``data``; returns the length of its whole records."""
        at, first, last = 0, 0, 0
        while at + _RECORD.size <= len(data):
            length, seq, stream_seq = _RECORD.unpack_from(data, at)
            end = at + _RECORD.size + length
            if end > len(data):
                break
            first, last = first or seq, seq
            self._records_on_disk = _later(self._records_on_disk, (seq + 1, stream_seq))
            at = end
        # A record reaches the file before the state: the later of the two holds.
        self.next_out = max(self.next_out, self._records_on_disk[0])
        self.stream_seq = max(self.stream_seq, self._records_on_disk[1])
        if at:
            self._hold(first, last, data[:at])
        return at

    def _hold(self, first: int, last: int, records: bytes) -> None:
        self._held.append((first, last, records))
        while self._held and self._held[0][1] < self.next_out - self._keep:
            self._held.popleft()

    def message(self, seq: int) -> bytes | None:
        """The application message sent as ``seq``, if it is still held."""
        if seq < self.next_out - self._keep:
            return None
        for first, last, records in reversed(self._held):
            if first <= seq <= last:
                return _find_record(records, seq)
        return None

    def sent(self, message: bytes, *, application: bool, stream_seq: int = 0) -> None:
        """Counts an outbound message; records it if it is an application message."""
        seq = self.next_out
        self.next_out += 1
        if application:
            record = _RECORD.pack(len(message), seq, stream_seq) + message
            self._hold(seq, seq, record)
            self._append(record, seq, stream_seq)
            self.stream_seq = max(self.stream_seq, stream_seq)
        self._write_state()

    def sent_batch(self, records: bytes, count: int, stream_seq: int) -> None:
        """Counts ``count`` application messages sent at once, numbered from
        :attr:`next_out`, as ``records`` in the file's format; ``stream_seq`` is the
        highest stream number they report."""
        assert count > 0
        first = self.next_out
        self.next_out += count
        self.stream_seq = max(self.stream_seq, stream_seq)
        self._hold(first, self.next_out - 1, records)
        self._append(records, self.next_out - 1, stream_seq)
        self._write_state()

    def received(self, next_in: int) -> None:
        """The next inbound MsgSeqNum expected is now ``next_in``."""
        self.next_in = next_in
        self._write_state()

    def set_stream(self, epoch: int, seq: int) -> None:
        """The account stream position (a new epoch restarts its numbering)."""
        self.stream_epoch, self.stream_seq = epoch, seq
        self._write_state()

    def reset(self) -> None:
        """ResetSeqNumFlag: both directions start at 1 and the sent messages are dropped."""
        self.next_in = self.next_out = 1
        self._held.clear()
        self._records.clear()
        if self._log_fd is not None and self._log_path is not None:
            os.ftruncate(self._log_fd, 0)
            _older(self._log_path).unlink(missing_ok=True)
        self._log_bytes = 0
        self._records_on_disk = (0, 0)
        self._write_state()

    def _append(self, records: bytes, last_seq: int, stream_seq: int) -> None:
        if self._log_fd is None:
            return
        file_max = self._max_bytes // 2
        if len(records) > file_max:
            log.warning("FIX messages of %d bytes: too many to keep for resending", len(records))
            return
        if self._log_bytes + len(records) > file_max:
            self._set_file_aside()
        self._records.append(records)
        self._log_bytes += len(records)
        self._records_gathered = _later(self._records_gathered, (last_seq + 1, stream_seq))

    def _set_file_aside(self) -> None:
        """The message file becomes the older one, and a new one starts: the records
        gathered go to the old file first, so no record is in neither. The numbers are
        not written here: they may already count the messages being recorded."""
        assert self._log_fd is not None
        assert self._log_path is not None
        self._write_records()
        os.close(self._log_fd)
        os.replace(self._log_path, _older(self._log_path))
        self._log_fd = os.open(self._log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        log.info(
            "FIX message file of %d bytes set aside: the one before it is dropped",
            self._log_bytes,
        )
        self._log_bytes = 0

    def _write_state(self) -> None:
        self._dirty = True

    def flush(self) -> None:
        """Writes the gathered records, then the numbers, to the operating system."""
        self._write_records()
        numbers = self._numbers()
        if self._dirty and self._state_fd is not None and numbers != self._on_open():
            os.pwrite(self._state_fd, _STATE.pack(*numbers), 0)
            self._state_on_disk = numbers
        self._dirty = False

    def _write_records(self) -> None:
        if self._records and self._log_fd is not None:
            data = b"".join(self._records)
            os.pwrite(self._log_fd, data, self._log_bytes - len(data))
            self._records_on_disk = _later(self._records_on_disk, self._records_gathered)
        self._records.clear()
        self._records_gathered = (0, 0)

    def _numbers(self) -> tuple[int, int, int, int]:
        return self.next_in, self.next_out, self.stream_epoch, self.stream_seq

    def _on_open(self) -> tuple[int, int, int, int]:
        """The numbers opening the files now would give."""
        next_in, next_out, epoch, stream_seq = self._state_on_disk
        records_out, records_stream = self._records_on_disk
        return next_in, max(next_out, records_out), epoch, max(stream_seq, records_stream)

    def close(self) -> None:
        """Writes what is gathered and closes the files."""
        self.flush()
        for fd in (self._state_fd, self._log_fd):
            if fd is not None:
                os.close(fd)
        self._state_fd = self._log_fd = None


def _find_record(records: bytes, seq: int) -> bytes | None:
    """The message of ``seq`` among ``records``."""
    at = 0
    while at < len(records):
        length, found, _ = _RECORD.unpack_from(records, at)
        start = at + _RECORD.size
        if found == seq:
            return records[start : start + length]
        at = start + length
    return None


def _older(path: Path) -> Path:
    """Where the message file before ``path`` is kept."""
    return path.with_name(path.name + ".old")


def _later(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return max(a[0], b[0]), max(a[1], b[1])
