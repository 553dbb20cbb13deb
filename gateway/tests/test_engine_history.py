"""Forgetting the engine history moves exactly the streams and the seen sequence aside."""

from pathlib import Path

import pytest

from ringex_gateway import acked_id_journal, seen_seq, stream_journal
from ringex_gateway.engine_history import forget_engine_history

pytestmark = pytest.mark.timeout(10)


def test_streams_and_seen_seq_move_aside_acked_ids_stay(tmp_path: Path) -> None:
    for name in (stream_journal.FILE_NAME, seen_seq.FILE_NAME, acked_id_journal.FILE_NAME):
        (tmp_path / name).write_bytes(b"x")
    aside = forget_engine_history(tmp_path)
    assert sorted(p.name for p in aside.iterdir()) == sorted(
        [stream_journal.FILE_NAME, seen_seq.FILE_NAME]
    )
    assert (tmp_path / acked_id_journal.FILE_NAME).exists()
    assert not (tmp_path / stream_journal.FILE_NAME).exists()


def test_missing_files_are_skipped_and_a_missing_directory_refused(tmp_path: Path) -> None:
    assert list(forget_engine_history(tmp_path).iterdir()) == []
    with pytest.raises(FileNotFoundError):
        forget_engine_history(tmp_path / "absent")
