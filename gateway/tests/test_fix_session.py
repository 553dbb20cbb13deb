"""The FIX session layer alone: no sockets, a scripted peer and a fake clock."""

from collections.abc import Callable
from pathlib import Path

import pytest

from ringex_gateway._native import FixFramer, FixMessage, encode_fix
from ringex_gateway.fix.seq_store import SeqStore
from ringex_gateway.fix.session import (
    Application,
    Closed,
    FixSession,
    LogonRequested,
    SessionSettings,
    State,
)
from ringex_gateway.fix.tags import MsgType, Tag

pytestmark = pytest.mark.timeout(30)

S = 1_000_000_000
SETTINGS = SessionSettings(comp_id="RINGEX", peer_comp_ids=frozenset({"CLIENT"}))


class Peer:
    """Builds the client's messages and reads the session's answers."""

    def __init__(self, session: FixSession) -> None:
        self.session = session
        self.seq = 1
        self.framer = FixFramer(4096)
        self.now_ns = 0

    def message(self, msg_type: str, *body: tuple[int, str], seq: int | None = None) -> bytes:
        number = self.seq if seq is None else seq
        if seq is None:
            self.seq += 1
        return encode_fix(
            [
                (35, msg_type),
                (49, "CLIENT"),
                (56, "RINGEX"),
                (34, str(number)),
                (52, "20261203-22:00:00.000"),
                *body,
            ]
        )

    def send(self, data: bytes) -> list[object]:
        events: list[object] = []
        for item in FixFramer(4096).feed(data):
            events += self.session.receive(item, self.now_ns)
        return events

    def answers(self) -> list[dict[int, str]]:
        out = []
        for item in self.framer.feed(self.session.take_output()):
            assert isinstance(item, FixMessage)
            out.append(item.fields)
        return out

    def logon(self, *extra: tuple[int, str]) -> list[dict[int, str]]:
        events = self.send(
            self.message("A", (98, "0"), (108, "30"), *extra, (553, "alice"), (554, "pw"))
        )
        assert events == [LogonRequested("CLIENT", "alice", "pw")]
        self.session.accept_logon(self.now_ns)
        return self.answers()


def memory_store(ours: str, theirs: str) -> SeqStore:
    return SeqStore(None, ours, theirs, keep_messages=100, max_bytes=1 << 20)


def session(
    open_store: Callable[[str, str], SeqStore] = memory_store,
) -> tuple[FixSession, Peer]:
    s = FixSession(SETTINGS, open_store, now_ns=0, wall_ns=lambda: 1_764_800_000 * S)
    return s, Peer(s)


def test_logon_is_answered_with_the_heartbeat_interval() -> None:
    s, peer = session()
    [reply] = peer.logon()
    assert reply[Tag.MSG_TYPE] == "A"
    assert (reply[Tag.HEART_BT_INT], reply[Tag.MSG_SEQ_NUM], reply[Tag.TARGET_COMP_ID]) == (
        "30",
        "1",
        "CLIENT",
    )
    assert s.state == State.ACTIVE
    assert reply[Tag.SENDING_TIME].endswith(".000")


@pytest.mark.parametrize(
    ("sender", "target", "text"),
    [("STRANGER", "RINGEX", "SenderCompID"), ("CLIENT", "OTHER", "TargetCompID")],
)
def test_logon_from_an_unknown_comp_id_is_logged_out(sender: str, target: str, text: str) -> None:
    _s, peer = session()
    data = encode_fix(
        [(35, "A"), (49, sender), (56, target), (34, "1"), (52, "x"), (98, "0"), (108, "30")]
    )
    [closed] = peer.send(data)
    assert isinstance(closed, Closed)
    assert text in closed.reason
    [logout] = peer.answers()
    assert logout[Tag.MSG_TYPE] == "5"


def test_anything_before_logon_ends_the_session() -> None:
    s, peer = session()
    [closed] = peer.send(peer.message("D", (11, "1")))
    assert isinstance(closed, Closed)
    assert s.state == State.CLOSED


def test_refused_credentials_answer_logout() -> None:
    s, peer = session()
    peer.send(peer.message("A", (98, "0"), (108, "30"), (553, "alice"), (554, "bad")))
    [closed] = s.refuse_logon("not authorized", 0)
    assert closed == Closed("not authorized")
    assert peer.answers()[0][Tag.TEXT] == "not authorized"


def test_heartbeat_interval_out_of_bounds_is_refused() -> None:
    _s, peer = session()
    [closed] = peer.send(peer.message("A", (98, "0"), (108, "0"), (553, "a"), (554, "b")))
    assert isinstance(closed, Closed)
    assert "HeartBtInt" in closed.reason


def test_application_messages_pass_in_order() -> None:
    _s, peer = session()
    peer.logon()
    [app] = peer.send(peer.message("D", (11, "7")))
    assert isinstance(app, Application)
    assert app.fields[11] == "7"


def test_too_high_asks_for_a_resend_once_and_gap_fill_closes_it() -> None:
    _s, peer = session()
    peer.logon()
    assert peer.send(peer.message("D", (11, "7"), seq=5)) == []
    assert peer.send(peer.message("D", (11, "8"), seq=6)) == []
    [resend] = peer.answers()
    assert (resend[Tag.MSG_TYPE], resend[Tag.BEGIN_SEQ_NO], resend[Tag.END_SEQ_NO]) == (
        "2",
        "2",
        "0",
    )
    gap_fill = peer.message("4", (43, "Y"), (122, "x"), (123, "Y"), (36, "5"), seq=2)
    assert peer.send(gap_fill) == []
    [app] = peer.send(peer.message("D", (11, "7"), (43, "Y"), (122, "x"), seq=5))
    assert isinstance(app, Application)


def test_too_low_without_possdup_is_logged_out_and_with_it_ignored() -> None:
    s, peer = session()
    peer.logon()
    peer.send(peer.message("0"))
    assert peer.send(peer.message("D", (43, "Y"), (122, "x"), seq=2)) == []
    assert s.state == State.ACTIVE
    [closed] = peer.send(peer.message("D", seq=2))
    assert isinstance(closed, Closed)
    logout = peer.answers()[-1]
    assert logout[Tag.MSG_TYPE] == "5"
    assert "too low" in logout[Tag.TEXT]


def test_resend_replays_application_messages_and_gap_fills_session_ones() -> None:
    s, peer = session()
    peer.logon()  # our seq 1: Logon
    s.send_application("8", [(Tag.ORDER_ID, "1")], 0)  # 2
    s.tick(31 * S)  # 3: Heartbeat (nothing sent for the interval)... or TestRequest
    s.send_application("8", [(Tag.ORDER_ID, "2")], 31 * S)  # 4
    peer.answers()
    peer.send(peer.message("2", (7, "1"), (16, "0")))
    replies = peer.answers()
    kinds = [(r[Tag.MSG_TYPE], r[Tag.MSG_SEQ_NUM], r.get(Tag.NEW_SEQ_NO)) for r in replies]
    assert kinds == [("4", "1", "2"), ("8", "2", None), ("4", "3", "4"), ("8", "4", None)]
    assert all(r[Tag.POSS_DUP_FLAG] == "Y" for r in replies)
    assert replies[1][Tag.ORIG_SENDING_TIME]
    assert replies[0][Tag.GAP_FILL_FLAG] == "Y"


def test_resend_keeps_repeating_groups_and_gap_fills_market_data() -> None:
    s, peer = session()
    peer.logon()  # our seq 1: Logon
    listing = [(146, "2"), (55, "XAU"), (55, "XAG")]
    s.send_application("y", [(320, "all"), *listing], 0)  # 2
    s.send_market_data("X", [(262, "md"), (268, "1"), (279, "2"), (269, "0"), (270, "1")], 0)
    peer.answers()
    peer.send(peer.message("2", (7, "2"), (16, "0")))
    data = s.take_output()
    assert b"\x01146=2\x0155=XAU\x0155=XAG\x01" in data  # the group, in its place
    replies = [item for item in FixFramer(4096).feed(data) if isinstance(item, FixMessage)]
    assert [(r.fields[Tag.MSG_TYPE], r.fields.get(Tag.NEW_SEQ_NO)) for r in replies] == [
        ("y", None),
        ("4", "4"),
    ]
    assert replies[0].groups[146] == [{55: "XAU"}, {55: "XAG"}]


def test_garbled_message_is_ignored_and_its_number_resent() -> None:
    s, peer = session()
    peer.logon()
    bad = bytearray(peer.message("D", (11, "1")))
    bad[-2] = ord("0") if bad[-2] != ord("0") else ord("1")
    assert peer.send(bytes(bad)) == []
    assert s.garbled == 1
    assert peer.answers() == []
    peer.send(peer.message("0"))
    [resend] = peer.answers()
    assert (resend[Tag.MSG_TYPE], resend[Tag.BEGIN_SEQ_NO]) == ("2", "2")


def test_invalid_message_gets_a_session_reject_with_its_reason() -> None:
    _s, peer = session()
    peer.logon()
    dup = peer.message("D", (11, "1"), (55, "X"), (55, "Y"))
    assert peer.send(dup) == []
    [reject] = peer.answers()
    assert reject[Tag.MSG_TYPE] == "3"
    assert (reject[Tag.REF_SEQ_NUM], reject[Tag.SESSION_REJECT_REASON], reject[Tag.REF_TAG_ID]) == (
        "2",
        "13",
        "55",
    )
    [app] = peer.send(peer.message("D", (11, "2")))  # the number was used: in sequence
    assert isinstance(app, Application)


def test_test_request_is_answered_and_silence_ends_the_session() -> None:
    s, peer = session()
    peer.logon()
    peer.send(peer.message("1", (112, "ping")))
    [beat] = peer.answers()
    assert (beat[Tag.MSG_TYPE], beat[Tag.TEST_REQ_ID]) == ("0", "ping")
    s.tick(37 * S)
    [test] = peer.answers()
    assert test[Tag.MSG_TYPE] == MsgType.TEST_REQUEST
    assert s.tick(50 * S) == []
    [closed] = s.tick(67 * S)
    assert closed == Closed("no answer to TestRequest")


def test_logout_is_answered_after_the_last_reports_and_closes() -> None:
    s, peer = session()
    peer.logon()
    peer.answers()
    [closed] = peer.send(peer.message("5"))
    assert closed == Closed("logout")
    # Until the gateway's last reports are sent: no answer yet, and nothing more taken.
    assert peer.answers() == []
    assert peer.send(peer.message("0")) == []
    s.send_application("8", [(Tag.CL_ORD_ID, "7")], 0)
    s.finish("session ended", 0)
    report, answer = peer.answers()
    assert (report[Tag.MSG_TYPE], answer[Tag.MSG_TYPE]) == ("8", "5")
    assert Tag.TEXT not in answer
    assert s.state == State.CLOSED
    assert s.tick(100 * S) == []


def test_numbers_survive_a_restart_and_reset_flag_starts_over(tmp_path: Path) -> None:
    def durable(ours: str, theirs: str) -> SeqStore:
        return SeqStore(tmp_path, ours, theirs, keep_messages=100, max_bytes=1 << 20)

    s, peer = session(durable)
    peer.logon()
    s.send_application("8", [(Tag.ORDER_ID, "1")], 0, stream_seq=9)
    assert s.store is not None
    s.store.close()
    again = durable("RINGEX", "CLIENT")
    assert (again.next_in, again.next_out, again.stream_seq) == (2, 3, 9)
    assert again.message(2) is not None
    again.close()

    _s2, peer2 = session(durable)
    peer2.seq = 2
    [reply] = peer2.logon()
    assert reply[Tag.MSG_SEQ_NUM] == "3"

    _s3, peer3 = session(durable)
    [reply] = peer3.logon((141, "Y"))
    assert (reply[Tag.MSG_SEQ_NUM], reply[Tag.RESET_SEQ_NUM_FLAG]) == ("1", "Y")
