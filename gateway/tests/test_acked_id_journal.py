"""The acked-id journal's file: records survive a reopen, a torn tail is cut, a day end
empties it, and a file without its header starts over empty."""

from pathlib import Path

import pytest

from ringex_gateway._native import GatewayCore
from ringex_gateway.acked_id_journal import FILE_NAME, RECORD_BYTES, AckedIdJournal

pytestmark = pytest.mark.timeout(30)


def core() -> GatewayCore:
    return GatewayCore(
        epoch=1,
        journal_messages=10,
        max_backlog=10,
        unsequenced_bytes=1024,
        drain_bytes=1024,
        heartbeat_ns=10**9,
        idle_timeout_ns=10**9,
        frame_timeout_ns=10**9,
        login_timeout_ns=10**9,
        persist=True,
        acked_ids_max=4,
    )


def test_records_survive_a_reopen_and_a_torn_tail_is_cut(tmp_path: Path) -> None:
    journal = AckedIdJournal(tmp_path, max_ids=4)
    assert journal.open() == b""
    records = bytes(range(2 * RECORD_BYTES))
    journal.append(False, records)
    journal.append(False, b"torn!")
    journal.close()
    reopened = AckedIdJournal(tmp_path, max_ids=4)
    assert reopened.open() == records + b"torn!"
    reopened.keep(len(records))
    reopened.append(False, records[:RECORD_BYTES])
    reopened.close()
    assert AckedIdJournal(tmp_path, max_ids=4).open() == records + records[:RECORD_BYTES]


def test_a_day_end_empties_the_file_before_the_new_records(tmp_path: Path) -> None:
    journal = AckedIdJournal(tmp_path, max_ids=4)
    journal.open()
    journal.append(False, bytes(3 * RECORD_BYTES))
    journal.append(True, bytes([7]) * RECORD_BYTES)
    journal.close()
    assert AckedIdJournal(tmp_path, max_ids=4).open() == bytes([7]) * RECORD_BYTES


def test_a_file_without_its_header_starts_empty(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a journal at all")
    journal = AckedIdJournal(tmp_path, max_ids=4)
    assert journal.open() == b""
    journal.close()
    assert (tmp_path / FILE_NAME).stat().st_size == 8


def test_the_core_keeps_only_records_whose_checksum_holds() -> None:
    c = core()
    assert c.restore_acked(bytes(RECORD_BYTES) + b"\x01" * RECORD_BYTES) == 0
    out = c.take_acked_output()
    assert (out.cleared, out.records) == (False, b"")
    assert c.stats()["acked_ids"] == 0
