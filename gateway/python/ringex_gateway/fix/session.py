"""The FIX 4.4 session layer of one connection, without I/O: it is fed parsed messages
and the time, and produces the bytes to send and the events for the application.

Logon comes first and names a configured CompID pair; its Username/Password are handed
out (:class:`LogonRequested`) for the gateway's own login check, and the session answers
once told the outcome. Then: MsgSeqNum checks (too high → ResendRequest, too low
without PossDupFlag → Logout), ResendRequests answered from the sequence store
(application messages again with PossDupFlag and OrigSendingTime, session messages as
SequenceReset-GapFill), Heartbeat, TestRequest on silence and disconnect when that goes
unanswered, session-level Reject for invalid messages, and Logout.
"""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ringex_gateway._native import (
    FixBroken,
    FixFramer,
    FixMessage,
    FixOrderRun,
    FixOrders,
    FixRefused,
    encode_fix,
)
from ringex_gateway.fix.seq_store import SeqStore
from ringex_gateway.fix.tags import ADMIN_TYPES, MsgType, SessionRejectReason, Tag

Fields = list[tuple[int, str]]
_S = 1_000_000_000


@dataclass(frozen=True)
class SessionSettings:
    """What the acceptor allows; see the ``[fix]`` configuration table."""

    comp_id: str
    peer_comp_ids: frozenset[str]
    heartbeat_min_s: int = 1
    heartbeat_max_s: int = 300
    logon_timeout_s: float = 5.0
    max_message_bytes: int = 4096
    #: Messages taken while the logon is being checked (more ends the session).
    held_max: int = 64


@dataclass(frozen=True)
class LogonRequested:
    """A valid Logon: check these credentials, then call accept_logon or refuse_logon."""

    peer_comp_id: str
    username: str
    password: str


@dataclass(frozen=True)
class Application:
    """An in-sequence application message for the order-entry layer: its fields, and its
    repeating groups' entries by NumInGroup tag."""

    fields: dict[int, str]
    groups: dict[int, list[dict[int, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Closed:
    """The session is over; the transport closes after writing the output."""

    reason: str


Event = LogonRequested | Application | Closed


class State(Enum):
    """Where the session is."""

    AWAITING_LOGON = 1
    CHECKING_LOGON = 2
    ACTIVE = 3
    LOGOUT_SENT = 4
    #: The peer sent Logout: the session's last reports go before the answer
    #: (:meth:`FixSession.finish`).
    LOGOUT_RECEIVED = 5
    CLOSED = 6


#: The states in which application messages are sent.
_SENDING = frozenset((State.ACTIVE, State.LOGOUT_SENT, State.LOGOUT_RECEIVED))


@functools.lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(seconds))


def sending_time(wall_ns: int) -> str:
    """UTCTimestamp with milliseconds: ``YYYYMMDD-HH:MM:SS.sss``."""
    seconds, rest = divmod(wall_ns, _S)
    return f"{_second(seconds)}.{rest // 1_000_000:03d}"


@dataclass
class _Timers:
    """When the session last heard and spoke, and its TestRequest outstanding."""

    opened_ns: int
    received_ns: int = 0
    sent_ns: int = 0
    test_request_ns: int = 0
    logout_ns: int = 0
    test_requests: int = 0


@dataclass
class _Pending:
    """A Logon being checked, and the messages that arrived behind it."""

    fields: dict[int, str]
    held: list[FixMessage | FixRefused] = field(default_factory=list)


class FixSession:
    """One FIX connection's session state; feed it with :meth:`receive` and :meth:`tick`."""

    def __init__(
        self,
        settings: SessionSettings,
        open_store: Callable[[str, str], SeqStore],
        now_ns: int,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.settings = settings
        self.state = State.AWAITING_LOGON
        self.store: SeqStore | None = None
        self.peer_comp_id = ""
        self.heartbeat_ns = 0
        self.garbled = 0
        self._open_store = open_store
        self._wall_ns = wall_ns
        self._timers = _Timers(opened_ns=now_ns, received_ns=now_ns)
        self._pending: _Pending | None = None
        self._reset_requested = False
        self._resend_requested_to = 0
        self._out: list[bytes] = []
        self._events: list[Event] = []

    # Output -----------------------------------------------------------------------

    def take_output(self) -> bytes:
        """The bytes to write, in order; the sequence store is written first."""
        # One store write per batch is as durable as one per message: no byte of the
        # batch reaches the peer before the records and numbers of all its messages are
        # with the operating system, so a restarted gateway never reuses a MsgSeqNum it
        # sent and can resend every application message the peer may have seen.
        if self.store is not None:
            self.store.flush()
        out, self._out = b"".join(self._out), []
        return out

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _send(
        self,
        msg_type: str,
        body: Fields,
        now_ns: int,
        *,
        stream_seq: int = 0,
        resendable: bool = True,
    ) -> None:
        store = self.store
        assert store is not None
        message = encode_fix(
            [
                (Tag.MSG_TYPE, msg_type),
                (Tag.SENDER_COMP_ID, self.settings.comp_id),
                (Tag.TARGET_COMP_ID, self.peer_comp_id),
                (Tag.MSG_SEQ_NUM, str(store.next_out)),
                (Tag.SENDING_TIME, sending_time(self._wall_ns())),
                *body,
            ]
        )
        application = resendable and msg_type not in ADMIN_TYPES
        store.sent(message, application=application, stream_seq=stream_seq)
        self._out.append(message)
        self._timers.sent_ns = now_ns

    def send_application(
        self, msg_type: str, body: Fields, now_ns: int, stream_seq: int = 0
    ) -> None:
        """Sends an application message (stored for resending); ``stream_seq`` is the
        account stream number it reports, kept so a reconnect resumes after it."""
        if self.state in _SENDING:
            self._send(msg_type, body, now_ns, stream_seq=stream_seq)

    def send_reports(self, orders: FixOrders, frames: bytes, start: int, now_ns: int) -> int:
        """Sends the reports of the order responses of ``frames`` (the core's binary
        frames) leading from byte ``start``, stored for resending, and moves the account
        stream position on; returns the bytes taken."""
        store = self._store()
        batch = orders.reports(
            frames,
            start,
            self.settings.comp_id,
            self.peer_comp_id,
            store.next_out,
            sending_time(self._wall_ns()),
            store.stream_seq,
            self.state in _SENDING,
        )
        if batch.count:
            store.sent_batch(batch.records, batch.count, batch.reported_seq)
            self._out.append(batch.wire)
            self._timers.sent_ns = now_ns
        if batch.stream_seq > store.stream_seq:
            store.set_stream(store.stream_epoch, batch.stream_seq)
        return batch.consumed

    def send_market_data(self, msg_type: str, body: Fields, now_ns: int) -> None:
        """Sends a market data message, not stored: stale once missed, so a resend
        covers it with a gap fill (the peer asks for a fresh snapshot)."""
        if self.state in _SENDING:
            self._send(msg_type, body, now_ns, resendable=False)

    def _close(self, reason: str) -> None:
        if self.state != State.CLOSED:
            self.state = State.CLOSED
            self._emit(Closed(reason))

    def logout(self, text: str, now_ns: int) -> None:
        """Sends Logout; the session closes when the peer answers, or after a heartbeat
        interval without an answer."""
        if self.state == State.ACTIVE:
            self._send(MsgType.LOGOUT, [(Tag.TEXT, text)] if text else [], now_ns)
            self.state = State.LOGOUT_SENT
            self._timers.logout_ns = now_ns

    def finish(self, text: str, now_ns: int) -> None:
        """The gateway ended the session and its last reports are sent: answers the
        peer's Logout, or sends one saying ``text`` (a logon being checked is refused)."""
        if self.state == State.LOGOUT_RECEIVED:
            self._send(MsgType.LOGOUT, [], now_ns)
            self.state = State.CLOSED
        elif self.state == State.CHECKING_LOGON:
            self.refuse_logon(text, now_ns)
        else:
            self.logout(text, now_ns)

    def _logout_and_close(self, text: str, now_ns: int) -> None:
        if self.store is not None and self.state in _SENDING:
            self._send(MsgType.LOGOUT, [(Tag.TEXT, text)], now_ns)
        else:
            self._out.append(self._unsequenced_logout(text))
        self._close(text)

    def _unsequenced_logout(self, text: str) -> bytes:
        """A Logout for a peer the session has no sequence numbers with (its Logon was
        refused): MsgSeqNum 1, as nothing else was sent on this connection."""
        return encode_fix(
            [
                (Tag.MSG_TYPE, MsgType.LOGOUT),
                (Tag.SENDER_COMP_ID, self.settings.comp_id),
                (Tag.TARGET_COMP_ID, self.peer_comp_id or "UNKNOWN"),
                (Tag.MSG_SEQ_NUM, "1"),
                (Tag.SENDING_TIME, sending_time(self._wall_ns())),
                (Tag.TEXT, text),
            ]
        )

    # Input ------------------------------------------------------------------------

    def next_in_order(self) -> int:
        """The MsgSeqNum an application message must have to be taken in a run of
        orders (:meth:`take_orders`) now; 0 while only :meth:`receive` may take it."""
        if self.state != State.ACTIVE:
            return 0
        return self._store().next_in

    def take_orders(self, run: FixOrderRun, now_ns: int) -> None:
        """In-sequence NewOrderSingles, valid and forwarded already (the framer took
        them numbered from :meth:`next_in_order`)."""
        store = self._store()
        assert self.state == State.ACTIVE
        assert run.next_in == store.next_in + run.count, "a run continues the sequence"
        self._timers.received_ns = now_ns
        self._timers.test_requests = 0
        store.received(run.next_in)

    def receive(self, item: FixMessage | FixRefused | FixBroken, now_ns: int) -> list[Event]:
        """Takes one item from the framer; returns the events it caused."""
        if self.state not in (State.CLOSED, State.LOGOUT_RECEIVED):
            self._timers.received_ns = now_ns
            self._timers.test_requests = 0
            self._receive(item, now_ns)
        events, self._events = self._events, []
        return events

    def _receive(self, item: FixMessage | FixRefused | FixBroken, now_ns: int) -> None:
        if isinstance(item, FixBroken):
            self._logout_and_close(item.text, now_ns)
        elif self.state == State.CHECKING_LOGON:
            assert self._pending is not None
            if len(self._pending.held) >= self.settings.held_max:
                self._logout_and_close("too many messages before the Logon was answered", now_ns)
            else:
                self._pending.held.append(item)
        elif isinstance(item, FixRefused):
            self._refused(item, now_ns)
        elif self.state == State.AWAITING_LOGON:
            self._logon(item.fields, now_ns)
        else:
            self._in_session(item, now_ns)

    def _refused(self, item: FixRefused, now_ns: int) -> None:
        if self.state == State.AWAITING_LOGON:
            self._logout_and_close(f"invalid Logon: {item.text}", now_ns)
        elif item.garbled:
            # Ignored without consuming its number: the next message shows the gap and
            # the peer resends it.
            self.garbled += 1
        elif item.seq_num == 0:
            self._logout_and_close(f"MsgSeqNum(34) unreadable: {item.text}", now_ns)
        elif self._in_sequence(item.seq_num, {}, now_ns):
            self._reject(item.seq_num, item.msg_type, item.reason, item.ref_tag, item.text, now_ns)
            self._advance(item.seq_num)

    def _reject(
        self, seq: int, msg_type: str, reason: int, ref_tag: int, text: str, now_ns: int
    ) -> None:
        body: Fields = [(Tag.REF_SEQ_NUM, str(seq))]
        if ref_tag:
            body.append((Tag.REF_TAG_ID, str(ref_tag)))
        if msg_type:
            body.append((Tag.REF_MSG_TYPE, msg_type))
        body += [(Tag.SESSION_REJECT_REASON, str(reason)), (Tag.TEXT, text)]
        self._send(MsgType.REJECT, body, now_ns)

    def reject(
        self,
        fields: dict[int, str],
        reason: SessionRejectReason,
        ref_tag: int,
        text: str,
        now_ns: int,
    ) -> None:
        """A session-level Reject of an application message the order-entry layer found
        invalid (a missing or malformed field)."""
        seq = int(fields[Tag.MSG_SEQ_NUM])
        self._reject(seq, fields[Tag.MSG_TYPE], reason, ref_tag, text, now_ns)

    # Logon ------------------------------------------------------------------------

    def _logon(self, fields: dict[int, str], now_ns: int) -> None:
        s = self.settings
        self.peer_comp_id = fields.get(Tag.SENDER_COMP_ID, "")
        problem = self._logon_problem(fields)
        if problem:
            self._logout_and_close(problem, now_ns)
            return
        self.heartbeat_ns = int(fields[Tag.HEART_BT_INT]) * _S
        self.store = self._open_store(s.comp_id, self.peer_comp_id)
        self._reset_requested = fields.get(Tag.RESET_SEQ_NUM_FLAG) == "Y"
        self.state = State.CHECKING_LOGON
        self._pending = _Pending(fields)
        self._emit(LogonRequested(self.peer_comp_id, fields[Tag.USERNAME], fields[Tag.PASSWORD]))

    def _logon_problem(self, fields: dict[int, str]) -> str:
        s = self.settings
        if fields[Tag.MSG_TYPE] != MsgType.LOGON:
            return "the first message must be a Logon"
        if self.peer_comp_id not in s.peer_comp_ids:
            return f"unknown SenderCompID(49) {self.peer_comp_id!r}"
        if fields.get(Tag.TARGET_COMP_ID) != s.comp_id:
            return f"TargetCompID(56) must be {s.comp_id}"
        for tag in (
            Tag.MSG_SEQ_NUM,
            Tag.SENDING_TIME,
            Tag.HEART_BT_INT,
            Tag.USERNAME,
            Tag.PASSWORD,
        ):
            if tag not in fields:
                return f"Logon without {tag.name}({int(tag)})"
        if fields.get(Tag.ENCRYPT_METHOD, "0") != "0":
            return "EncryptMethod(98) must be 0"
        heartbeat_s = int(fields[Tag.HEART_BT_INT])
        if not s.heartbeat_min_s <= heartbeat_s <= s.heartbeat_max_s:
            return f"HeartBtInt(108) must be {s.heartbeat_min_s}-{s.heartbeat_max_s}"
        if fields.get(Tag.RESET_SEQ_NUM_FLAG) == "Y" and fields[Tag.MSG_SEQ_NUM] != "1":
            return "a Logon with ResetSeqNumFlag(141)=Y must have MsgSeqNum(34)=1"
        return ""

    def accept_logon(self, now_ns: int) -> list[Event]:
        """The credentials are good: answer the Logon and process what came behind it."""
        assert self.state == State.CHECKING_LOGON
        assert self._pending is not None
        assert self.store is not None
        pending, self._pending = self._pending, None
        if self._reset_requested:
            self.store.reset()
        seq = int(pending.fields[Tag.MSG_SEQ_NUM])
        if seq < self.store.next_in:
            self.state = State.ACTIVE
            self._logout_and_close(
                f"MsgSeqNum too low, expecting {self.store.next_in} but received {seq}", now_ns
            )
            return self._take_events()
        self.state = State.ACTIVE
        body: Fields = [
            (Tag.ENCRYPT_METHOD, "0"),
            (Tag.HEART_BT_INT, pending.fields[Tag.HEART_BT_INT]),
        ]
        if self._reset_requested:
            body.append((Tag.RESET_SEQ_NUM_FLAG, "Y"))
        self._send(MsgType.LOGON, body, now_ns)
        if self._in_sequence(seq, pending.fields, now_ns):
            self._advance(seq)
        for item in pending.held:
            if self.state == State.CLOSED:
                break
            self._receive(item, now_ns)
        return self._take_events()

    def refuse_logon(self, text: str, now_ns: int) -> list[Event]:
        """The credentials are refused: Logout, unsequenced, and close."""
        self._pending = None
        self._out.append(self._unsequenced_logout(text))
        self._close(text)
        return self._take_events()

    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # Sequence numbers -------------------------------------------------------------

    def _in_sequence(self, seq: int, fields: dict[int, str], now_ns: int) -> bool:
        """Whether a message numbered ``seq`` is processed now: too high asks for a resend
        (once per gap), too low is a duplicate (PossDupFlag) or ends the session."""
        store = self.store
        assert store is not None
        if seq == store.next_in:
            return True
        if seq > store.next_in:
            if self._resend_requested_to < store.next_in:
                self._send(
                    MsgType.RESEND_REQUEST,
                    [(Tag.BEGIN_SEQ_NO, str(store.next_in)), (Tag.END_SEQ_NO, "0")],
                    now_ns,
                )
                self._resend_requested_to = seq
            return False
        if fields.get(Tag.POSS_DUP_FLAG) != "Y":
            self._logout_and_close(
                f"MsgSeqNum too low, expecting {store.next_in} but received {seq}", now_ns
            )
        return False

    def _advance(self, seq: int) -> None:
        assert self.store is not None
        self.store.received(seq + 1)

    # Established session ----------------------------------------------------------

    def _in_session(self, item: FixMessage, now_ns: int) -> None:
        fields = item.fields
        if Tag.MSG_SEQ_NUM not in fields:
            self._logout_and_close("MsgSeqNum(34) missing", now_ns)
            return
        seq = int(fields[Tag.MSG_SEQ_NUM])
        msg_type = fields[Tag.MSG_TYPE]
        if msg_type == MsgType.SEQUENCE_RESET and fields.get(Tag.GAP_FILL_FLAG) != "Y":
            self._sequence_reset(fields, seq, now_ns)
            return
        if msg_type in (MsgType.RESEND_REQUEST, MsgType.LOGOUT) and seq > self._store().next_in:
            # Answered even out of order, so both sides can recover a gap at once.
            self._in_sequence(seq, fields, now_ns)
            self._admin(fields, msg_type, seq, now_ns)
            return
        if not self._in_sequence(seq, fields, now_ns):
            return
        problem = self._header_problem(fields)
        if problem is not None:
            reason, tag, text = problem
            self._reject(seq, msg_type, reason, tag, text, now_ns)
            self._advance(seq)
            if reason == SessionRejectReason.COMP_ID_PROBLEM:
                self._logout_and_close(text, now_ns)
            return
        if msg_type == MsgType.SEQUENCE_RESET:
            self._gap_fill(fields, seq, now_ns)
            return
        self._advance(seq)
        if msg_type in ADMIN_TYPES:
            self._admin(fields, msg_type, seq, now_ns)
        else:
            self._emit(Application(fields, item.groups))

    def _store(self) -> SeqStore:
        assert self.store is not None
        return self.store

    def _header_problem(
        self, fields: dict[int, str]
    ) -> tuple[SessionRejectReason, int, str] | None:
        if fields.get(Tag.SENDER_COMP_ID) != self.peer_comp_id:
            return (
                SessionRejectReason.COMP_ID_PROBLEM,
                Tag.SENDER_COMP_ID,
                "SenderCompID(49) changed",
            )
        if fields.get(Tag.TARGET_COMP_ID) != self.settings.comp_id:
            return SessionRejectReason.COMP_ID_PROBLEM, Tag.TARGET_COMP_ID, "TargetCompID(56) wrong"
        if Tag.SENDING_TIME not in fields:
            return (
                SessionRejectReason.REQUIRED_TAG_MISSING,
                Tag.SENDING_TIME,
                "SendingTime(52) missing",
            )
        if fields.get(Tag.POSS_DUP_FLAG) == "Y" and Tag.ORIG_SENDING_TIME not in fields:
            return (
                SessionRejectReason.REQUIRED_TAG_MISSING,
                Tag.ORIG_SENDING_TIME,
                "OrigSendingTime(122) missing on a possible duplicate",
            )
        return None

    def _required(
        self, fields: dict[int, str], tags: tuple[Tag, ...], seq: int, now_ns: int
    ) -> bool:
        for tag in tags:
            if tag not in fields:
                text = f"{tag.name}({int(tag)}) missing"
                self._reject(
                    seq,
                    fields[Tag.MSG_TYPE],
                    SessionRejectReason.REQUIRED_TAG_MISSING,
                    tag,
                    text,
                    now_ns,
                )
                return False
        return True

    def _admin(self, fields: dict[int, str], msg_type: str, seq: int, now_ns: int) -> None:
        if msg_type == MsgType.TEST_REQUEST:
            if self._required(fields, (Tag.TEST_REQ_ID,), seq, now_ns):
                self._send(MsgType.HEARTBEAT, [(Tag.TEST_REQ_ID, fields[Tag.TEST_REQ_ID])], now_ns)
        elif msg_type == MsgType.RESEND_REQUEST:
            if self._required(fields, (Tag.BEGIN_SEQ_NO, Tag.END_SEQ_NO), seq, now_ns):
                self._resend(int(fields[Tag.BEGIN_SEQ_NO]), int(fields[Tag.END_SEQ_NO]), now_ns)
        elif msg_type == MsgType.LOGOUT:
            if self.state == State.ACTIVE:
                # Answered by finish(), after what the gateway still has for the session.
                self.state = State.LOGOUT_RECEIVED
                self._emit(Closed("logout"))
            else:
                self._close("logout")
        elif msg_type == MsgType.LOGON:
            self._logout_and_close("Logon while logged on", now_ns)
        # Heartbeat and Reject need nothing more: hearing from the peer reset the timers.

    def _gap_fill(self, fields: dict[int, str], seq: int, now_ns: int) -> None:
        if not self._required(fields, (Tag.NEW_SEQ_NO,), seq, now_ns):
            self._advance(seq)
            return
        new_seq = int(fields[Tag.NEW_SEQ_NO])
        if new_seq <= seq:
            self._bad_new_seq_no(seq, "NewSeqNo(36) must be above MsgSeqNum(34)", now_ns)
            self._advance(seq)
            return
        self._store().received(new_seq)

    def _bad_new_seq_no(self, seq: int, text: str, now_ns: int) -> None:
        reason = SessionRejectReason.VALUE_INCORRECT
        self._reject(seq, MsgType.SEQUENCE_RESET, reason, Tag.NEW_SEQ_NO, text, now_ns)

    def _sequence_reset(self, fields: dict[int, str], seq: int, now_ns: int) -> None:
        """SequenceReset-Reset: the peer's numbers jump to NewSeqNo whatever MsgSeqNum says."""
        if not self._required(fields, (Tag.NEW_SEQ_NO,), seq, now_ns):
            return
        new_seq = int(fields[Tag.NEW_SEQ_NO])
        if new_seq < self._store().next_in:
            self._bad_new_seq_no(seq, "NewSeqNo(36) below the expected MsgSeqNum", now_ns)
            return
        self._store().received(new_seq)

    def _resend(self, begin: int, end: int, now_ns: int) -> None:
        """Replays application messages ``begin..=end`` (0: up to the last sent) with
        PossDupFlag; a gap fill covers session messages and anything no longer held."""
        store = self._store()
        last = store.next_out - 1
        end = last if end == 0 or end > last else end
        gap_from = 0
        for seq in range(max(begin, 1), end + 1):
            stored = store.message(seq)
            if stored is None:
                gap_from = gap_from or seq
                continue
            if gap_from:
                self._out.append(self._gap_fill_message(gap_from, seq))
                gap_from = 0
            self._out.append(self._possible_duplicate(stored))
        if gap_from:
            self._out.append(self._gap_fill_message(gap_from, end + 1))
        self._timers.sent_ns = now_ns

    def _gap_fill_message(self, seq: int, new_seq: int) -> bytes:
        return encode_fix(
            [
                (Tag.MSG_TYPE, MsgType.SEQUENCE_RESET),
                (Tag.SENDER_COMP_ID, self.settings.comp_id),
                (Tag.TARGET_COMP_ID, self.peer_comp_id),
                (Tag.MSG_SEQ_NUM, str(seq)),
                (Tag.POSS_DUP_FLAG, "Y"),
                (Tag.SENDING_TIME, sending_time(self._wall_ns())),
                (Tag.ORIG_SENDING_TIME, sending_time(self._wall_ns())),
                (Tag.GAP_FILL_FLAG, "Y"),
                (Tag.NEW_SEQ_NO, str(new_seq)),
            ]
        )

    def _possible_duplicate(self, stored: bytes) -> bytes:
        """``stored`` again: PossDupFlag=Y, OrigSendingTime its SendingTime, a new SendingTime."""
        items = FixFramer(self.settings.max_message_bytes).feed(stored)
        assert len(items) == 1, "a stored message is one message"
        assert isinstance(items[0], FixMessage), "stored messages parse"
        fields = dict(items[0].fields)
        groups = items[0].groups
        original = fields.pop(Tag.SENDING_TIME)
        header = [
            (Tag.MSG_TYPE, fields.pop(Tag.MSG_TYPE)),
            (Tag.SENDER_COMP_ID, fields.pop(Tag.SENDER_COMP_ID)),
            (Tag.TARGET_COMP_ID, fields.pop(Tag.TARGET_COMP_ID)),
            (Tag.MSG_SEQ_NUM, fields.pop(Tag.MSG_SEQ_NUM)),
            (Tag.POSS_DUP_FLAG, "Y"),
            (Tag.SENDING_TIME, sending_time(self._wall_ns())),
            (Tag.ORIG_SENDING_TIME, original),
        ]
        body: Fields = []
        for tag, value in fields.items():
            body.append((tag, value))
            for entry in groups.get(tag, []):
                body += entry.items()
        return encode_fix(header + body)

    # Timers -----------------------------------------------------------------------

    def tick(self, now_ns: int) -> list[Event]:
        """Heartbeats, TestRequests and timeouts due at ``now_ns``."""
        t = self._timers
        if self.state in (State.AWAITING_LOGON, State.CHECKING_LOGON):
            if now_ns - t.opened_ns >= self.settings.logon_timeout_s * _S:
                self._logout_and_close("no Logon in time", now_ns)
        elif self.state == State.LOGOUT_SENT:
            if now_ns - t.logout_ns >= max(self.heartbeat_ns, _S):
                self._close("no answer to Logout")
        elif self.state == State.ACTIVE:
            self._heartbeats(now_ns)
        return self._take_events()

    def _heartbeats(self, now_ns: int) -> None:
        t, interval = self._timers, self.heartbeat_ns
        silent_ns = now_ns - t.received_ns
        if t.test_requests and now_ns - t.test_request_ns >= interval:
            self._logout_and_close("no answer to TestRequest", now_ns)
            return
        # A fifth more than the interval allows for transmission time.
        if not t.test_requests and silent_ns >= interval + interval // 5:
            t.test_requests += 1
            t.test_request_ns = now_ns
            self._send(MsgType.TEST_REQUEST, [(Tag.TEST_REQ_ID, str(now_ns))], now_ns)
        elif now_ns - t.sent_ns >= interval:
            self._send(MsgType.HEARTBEAT, [], now_ns)
