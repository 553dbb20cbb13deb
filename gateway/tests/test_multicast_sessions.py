"""The multicast session names a gateway has published under: a fixed name is refused
the second time, even after a reopen; unnamed sessions never repeat, even when two
starts fall in the same second; the record stays bounded."""

from pathlib import Path

import pytest

from ringex_gateway.multicast_sessions import (
    FILE_NAME,
    NAMES_MAX,
    SessionNameUsedError,
    UsedSessions,
)

pytestmark = pytest.mark.timeout(30)

NOW_S = 1_796_000_000


def test_a_fixed_name_serves_one_run(tmp_path: Path) -> None:
    assert UsedSessions(tmp_path).claim("DAY1", NOW_S) == "DAY1"
    with pytest.raises(SessionNameUsedError, match=r"'DAY1'.*Name a new session"):
        UsedSessions(tmp_path).claim("DAY1", NOW_S + 60)
    assert UsedSessions(tmp_path).claim("DAY2", NOW_S + 60) == "DAY2"
    assert (tmp_path / FILE_NAME).read_text() == "DAY1\nDAY2\n"


def test_unnamed_sessions_take_the_start_second_or_the_next_free_one(tmp_path: Path) -> None:
    names = [UsedSessions(tmp_path).claim("", NOW_S) for _ in range(3)]
    assert names == [str(NOW_S), str(NOW_S + 1), str(NOW_S + 2)]
    assert UsedSessions(tmp_path).claim("", NOW_S + 100) == str(NOW_S + 100)
    # A fixed name may look like a second; the unnamed one after it steps past it.
    assert UsedSessions(tmp_path).claim(str(NOW_S + 200), NOW_S) == str(NOW_S + 200)
    assert UsedSessions(tmp_path).claim("", NOW_S + 200) == str(NOW_S + 201)


def test_the_record_keeps_the_latest_names_only(tmp_path: Path) -> None:
    sessions = UsedSessions(tmp_path)
    for n in range(NAMES_MAX + 5):
        sessions.claim(f"S{n}", NOW_S)
    kept = (tmp_path / FILE_NAME).read_text().split()
    assert kept == [f"S{n}" for n in range(5, NAMES_MAX + 5)]
    assert UsedSessions(tmp_path).names == kept
    assert not list(tmp_path.glob("*.new")), "the staged file was renamed into place"


def test_a_missing_directory_is_made(tmp_path: Path) -> None:
    assert UsedSessions(tmp_path / "journal").claim("X", NOW_S) == "X"
    assert (tmp_path / "journal" / FILE_NAME).read_text() == "X\n"


def test_a_damaged_record_loses_only_its_damaged_lines(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"DAY1\n\xff\xfeX\nELEVENCHARS\nDAY2\n")
    sessions = UsedSessions(tmp_path)
    assert sessions.names == ["DAY1", "DAY2"]
    with pytest.raises(SessionNameUsedError):
        sessions.claim("DAY2", NOW_S)
    assert sessions.claim("DAY3", NOW_S) == "DAY3"
    assert (tmp_path / FILE_NAME).read_text() == "DAY1\nDAY2\nDAY3\n"
