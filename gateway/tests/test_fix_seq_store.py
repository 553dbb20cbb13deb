"""The FIX session store's message files: bounded, and a restart resends the newest."""

from pathlib import Path

import pytest

from ringex_gateway.fix.seq_store import SeqStore

pytestmark = pytest.mark.timeout(60)

MAX_BYTES = 4096


def open_store(directory: Path) -> SeqStore:
    return SeqStore(directory, "RINGEX", "PEER", keep_messages=10_000, max_bytes=MAX_BYTES)


def report(seq: int) -> bytes:
    return f"8=FIX.4.4|35=8|34={seq}|37=order {seq:06d}|".encode()


def files_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("RINGEX-PEER.fixmsgs*"))


def test_the_message_files_stay_bounded_and_a_restart_resends_the_newest(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 301):
        store.sent(report(seq), application=True, stream_seq=seq)
        store.flush()
        assert files_bytes(tmp_path) <= MAX_BYTES
    store.close()
    again = open_store(tmp_path)
    assert (again.next_out, again.stream_seq) == (301, 300)
    held = [seq for seq in range(1, 301) if again.message(seq) is not None]
    # Whatever the files still hold is the newest run of messages, at least half of them.
    assert held == list(range(held[0], 301))
    assert len(held) * (20 + len(report(300))) >= MAX_BYTES // 2
    assert all(again.message(seq) == report(seq) for seq in held)
    assert again.message(1) is None


def test_setting_a_file_aside_never_lets_the_numbers_pass_the_records(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    seq = 1
    while not (tmp_path / "RINGEX-PEER.fixmsgs.old").exists():
        store.sent(report(seq), application=True, stream_seq=seq)
        seq += 1
    # The last message's record is gathered, not written, and the gateway stops before
    # it hands the message out (no flush): a restart numbers that message again.
    again = open_store(tmp_path)
    assert again.next_out == seq - 1
    assert again.message(seq - 2) == report(seq - 2)
    store.close()


def test_a_reset_drops_both_files(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 200):
        store.sent(report(seq), application=True)
    store.reset()
    store.close()
    again = open_store(tmp_path)
    assert (again.next_in, again.next_out) == (1, 1)
    assert files_bytes(tmp_path) == 0
    assert all(again.message(seq) is None for seq in range(1, 200))
