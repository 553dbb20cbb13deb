"""Type stubs of the native module (gateway/native)."""

from typing import Final, overload

from ringex_gateway.instrument_terms import InstrumentTerms

#: Goodbye reason: the engine no longer holds the history asked for.
GOODBYE_HISTORY_UNAVAILABLE: Final[int]
#: Goodbye reason: the gateway asked to resume past the engine's last sequence.
GOODBYE_AHEAD_OF_ENGINE: Final[int]

class LoginRequested:
    """The session asked to log in: check these credentials, then call
    ``accept_login`` or ``reject_login``."""

    username: str
    password: str
    next_seq: int

class CloseSession:
    """The session must end: call ``end_session(reason, detail)``."""

    reason: int
    detail: int

class TimedOut:
    """A session whose timer ran out, and the session end reason to end it with."""

    sid: int
    reason: int

class Drained:
    """Bytes to write per session, and the sessions to end as slow consumers."""

    writes: list[tuple[int, bytes]]
    slow: list[int]

class EngineGoodbye:
    """The engine said Goodbye."""

    reason: int
    detail: int

class NotLeader:
    """The engine node is not the leader: the leader it names (0 if unknown), its term."""

    leader_id: int
    term: int

class LinkReport:
    """What the engine link's bytes said besides the events the core routed."""

    welcome_seq: int | None
    refused: bool
    goodbye: EngineGoodbye | None
    error: int | None
    not_leader: NotLeader | None

class Regression:
    """The engine's last sequence number is behind the one this gateway has seen."""

    engine_seq: int
    seen_seq: int

class AckedOutput:
    """Empty the acked-id journal first if ``cleared``, then append ``records``."""

    cleared: bool
    records: bytes

class GatewayCore:
    def __init__(
        self,
        *,
        epoch: int,
        journal_messages: int,
        max_backlog: int,
        unsequenced_bytes: int,
        drain_bytes: int,
        heartbeat_ns: int,
        idle_timeout_ns: int,
        frame_timeout_ns: int,
        login_timeout_ns: int,
        persist: bool = False,
        acked_ids_max: int = 1_000_000,
    ) -> None: ...
    def configure_feeds(
        self,
        *,
        max_orders: int,
        max_instruments: int,
        levels_per_side: int,
        l2_depths: list[int],
        window_events: int,
        subscriptions_per_session: int,
        backlog_bytes: int,
        conflate: bool,
        coalesce_ns: int,
        coalesce_bytes: int,
    ) -> None: ...
    def set_symbol(self, instrument: int, symbol: str) -> None: ...
    def listing(self, instrument: int) -> InstrumentTerms | None: ...
    def configure_multicast(
        self,
        *,
        session: str,
        mtu_bytes: int,
        window_messages: int,
        queue_packets: int,
        retransmit_max: int,
    ) -> None: ...
    def take_multicast_packets(self) -> list[bytes]: ...
    def multicast_heartbeat(self, end: bool = False) -> bytes: ...
    def multicast_retransmit(self, request: bytes) -> bytes: ...
    def open_session(self, sid: int, now_ns: int) -> None: ...
    def logged_in_count(self) -> int: ...
    def feed_session(
        self, sid: int, data: bytes, now_ns: int
    ) -> LoginRequested | CloseSession | None: ...
    def accept_login(
        self,
        sid: int,
        account: int,
        role: int,
        next_seq: int,
        rate_per_s: int,
        burst: int,
        cancel_on_disconnect: bool,
        now_ns: int,
    ) -> CloseSession | None: ...
    def reject_login(self, sid: int, reason: int) -> bytes: ...
    def end_session(self, sid: int, reason: int | None = None, detail: int = 0) -> bytes: ...
    def set_paused(self, sid: int, paused: bool) -> None: ...
    def has_pending(self) -> bool: ...
    def held_due_ns(self) -> int | None: ...
    def drain(self, now_ns: int) -> Drained: ...
    def start_writer(
        self, *, write_buffer_bytes: int, close_grace_ns: int, idle_priority: bool
    ) -> None: ...
    def take_writer_requests(self) -> list[int]: ...
    def hand_over(self, sid: int, fd: int) -> bool: ...
    def writer_events(self) -> list[int]: ...
    def writer_wake_fd(self) -> int | None: ...
    def writer_idle(self) -> bool: ...
    def publish_feeds(self) -> None: ...
    def tick(self, now_ns: int) -> list[TimedOut]: ...
    def link_reset(self) -> None: ...
    def link_down(self) -> None: ...
    def engine_up(self) -> bool: ...
    def set_answer_bound(self, bound_ns: int, allowance_ns: int) -> None: ...
    def set_clock_offset(self, offset_ns: int) -> None: ...
    def note_engine_seq(self, seq: int) -> None: ...
    def last_engine_seq(self) -> int: ...
    def engine_regressed(self) -> Regression | None: ...
    def link_heartbeat(self) -> None: ...
    def take_engine_output(self) -> bytes: ...
    def feed_engine(self, data: bytes, now_ns: int) -> LinkReport: ...
    def take_journal_output(self) -> bytes: ...
    def restore(self, data: bytes) -> int: ...
    def take_acked_output(self) -> AckedOutput: ...
    def restore_acked(self, data: bytes) -> int: ...
    def stats(self) -> dict[str, object]: ...

def latency_bounds_ns() -> list[int]: ...

class FixMessage:
    """A FIX message that parsed: its fields after BodyLength, without CheckSum, and its
    repeating groups' entries by their NumInGroup tag."""

    fields: dict[int, str]
    groups: dict[int, list[dict[int, str]]]

class FixRefused:
    """A whole FIX message that is garbled (ignored) or invalid (session Reject)."""

    garbled: bool
    reason: int
    ref_tag: int
    text: str
    seq_num: int
    msg_type: str

class FixBroken:
    """The stream cannot be split into FIX messages any more."""

    text: str

class FixFramer:
    """Splits one connection's bytes into FIX messages (at most ``max_bytes`` each)."""

    def __init__(self, max_bytes: int) -> None: ...
    @overload
    def feed(self, data: bytes) -> list[FixMessage | FixRefused | FixBroken]:
        """The messages ``data`` completes."""
    @overload
    def feed(
        self, data: bytes, orders: FixOrders, comp_id: str, peer_comp_id: str, next_in: int
    ) -> list[FixOrderRun | FixMessage | FixRefused | FixBroken]:
        """The messages ``data`` completes; the leading in-sequence NewOrderSingles
        (numbered from ``next_in``) come as one FixOrderRun, noted in ``orders``."""

class FixOrderRun:
    """In-sequence NewOrderSingles taken whole: their NewOrder frames for the core."""

    frames: bytes
    count: int
    next_in: int

class FixReportBatch:
    """Order reports of one batch of core output, encoded."""

    wire: bytes
    records: bytes
    count: int
    reported_seq: int
    stream_seq: int
    consumed: int

class FixOrders:
    """The account's orders as one FIX session reports them, and its pending requests."""

    def __init__(self, symbols: list[tuple[str, int, int]], max_orders: int) -> None: ...
    def expect_new(self, client_order_id: int, instrument: int, side_code: int) -> None: ...
    def expect_cancel(self, orig: int, cl_ord_id: str) -> None: ...
    def expect_replace(self, client_order_id: int, orig: str) -> None: ...
    def expect_mass_cancel(self, cl_ord_id: str, kind: str) -> None: ...
    def cum_qty(self, client_order_id: int) -> int | None: ...
    def status_report(self, client_order_id: int, exec_id: str) -> list[tuple[int, str]] | None: ...
    def cancel_reject(
        self, cl_ord_id: str, orig: str, response_to: str, reason: str, text: str
    ) -> list[tuple[int, str]]: ...
    def reports(
        self,
        frames: bytes,
        start: int,
        comp_id: str,
        peer_comp_id: str,
        next_out: int,
        sending_time: str,
        reported_to: int,
        sending: bool,
    ) -> FixReportBatch:
        """Reports for the order responses of ``frames`` (binary frames) leading from
        byte ``start``; ``consumed`` counts from there."""

def encode_fix(fields: list[tuple[int, str]]) -> bytes:
    """BeginString, BodyLength, ``fields`` (MsgType first), CheckSum."""

def price_to_units(text: str, decimals: int) -> int:
    """A FIX decimal price in units of 10^-decimals; ValueError saying why it is refused."""

def units_to_price(units: int, decimals: int) -> str:
    """``units`` of 10^-decimals as a FIX decimal price."""
