"""The gateway's configuration: a TOML file read with msgspec, then command-line flags.

Every setting has a default and a line of help (:data:`SETTING_HELP`), which
``ringex-gateway --help`` prints per flag. Users and accounts come only from the file.
"""

import ipaddress
from pathlib import Path
from typing import Literal

import msgspec

from ringex_client.enums import Role
from ringex_gateway.credentials import check_hash_format
from ringex_gateway.leader_follow import EngineNode
from ringex_gateway.multicast_sessions import is_session_name

USERNAME_MAX = 16
SYMBOL_MAX = 16
PASSWORD_MAX = 32
#: Engine nodes a gateway may be configured with (a Raft cluster has a handful).
ENGINE_NODES_MAX = 16


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[gateway]`` table: addresses, bounds and timers."""

    listen: str = "127.0.0.1:7701"
    engine: str = "127.0.0.1:7700"
    engines: list[str] | dict[str, str] = msgspec.field(default_factory=list)
    metrics: str = "127.0.0.1:9701"
    max_sessions: int = 1024
    heartbeat_ms: int = 1000
    idle_timeout_ms: int = 10_000
    frame_timeout_ms: int = 2000
    login_timeout_ms: int = 5000
    journal_messages: int = 100_000
    max_backlog: int = 20_000
    unsequenced_bytes: int = 262_144
    write_buffer_bytes: int = 262_144
    drain_bytes: int = 65_536
    rate_per_s: int = 5000
    burst: int = 1000
    engine_heartbeat_ms: int = 1000
    engine_timeout_ms: int = 5000
    engine_answer_ms: int = 1000
    engine_deadline_allowance_ms: int = 100
    reconnect_min_ms: int = 10
    reconnect_max_ms: int = 100
    shutdown_grace_ms: int = 2000
    journal_dir: str = ""
    journal_max_bytes: int = 1 << 30
    acked_ids_max: int = 1_000_000
    login_workers: int = 1
    login_queue: int = 64
    login_queue_per_source: int = 4
    login_pending_per_source: int = 16
    login_failures_per_source: int = 5
    login_failures_per_user: int = 10
    login_backoff_ms: int = 1000
    login_backoff_max_ms: int = 60_000
    login_failure_half_life_ms: int = 60_000
    book_max_orders: int = 1 << 20
    book_max_instruments: int = 1024
    book_levels_per_side: int = 1024
    feed_l2_depths: str = "1,10"
    feed_window_events: int = 4096
    feed_subscriptions: int = 64
    feed_backlog_bytes: int = 1 << 20
    feed_slow: str = "conflate"
    feed_coalesce_us: int = 1000
    feed_coalesce_bytes: int = 65_536
    feed_writer: str = "idle"
    multicast_group: str = ""
    multicast_interface: str = "127.0.0.1"
    multicast_ttl: int = 0
    multicast_scope: str = "host"
    multicast_session: str = ""
    multicast_mtu_bytes: int = 1472
    multicast_queue_packets: int = 1024
    multicast_window_messages: int = 65_536
    multicast_heartbeat_ms: int = 1000
    multicast_retransmit: str = "127.0.0.1:7702"
    multicast_retransmit_max: int = 1024
    multicast_retransmit_connections: int = 16

    @property
    def l2_depths(self) -> list[int]:
        """``feed_l2_depths`` as numbers (ValueError if it is not a list of integers)."""
        try:
            return [int(d) for d in self.feed_l2_depths.split(",")]
        except ValueError:
            raise ValueError("gateway.feed_l2_depths: comma-separated integers") from None


SETTING_HELP: dict[str, str] = {
    "listen": "address client sessions connect to (host:port; keep it on loopback or a "
    "private network; port 0 picks a free one)",
    "engine": "address of the engine daemon's link (host:port), when it is a single node",
    "engines": "every node of a replicated engine: a list of link addresses (node ids "
    "1, 2, … in order) or a table of node id to address; replaces engine; on the "
    "command line, addresses separated by commas",
    "metrics": "address of the Prometheus /metrics endpoint; empty turns it off",
    "max_sessions": "logged-in sessions at once; further logins are rejected "
    "(SessionLimit) and connections past twice this are closed at once",
    "heartbeat_ms": "the gateway sends a Heartbeat to a session it has said nothing to "
    "for this long",
    "idle_timeout_ms": "a session the client says nothing to (not even a heartbeat) for "
    "this long is ended (IdleTimeout)",
    "frame_timeout_ms": "a frame left incomplete for this long ends the session "
    "(FrameTimeout: slow-drip defence)",
    "login_timeout_ms": "a connection not logged in this long after connecting is ended "
    "(LoginTimeout)",
    "journal_messages": "sequenced messages kept per account for replay after a "
    "reconnect (in memory; older ones fall off)",
    "max_backlog": "sequenced messages a session may fall behind its account's stream "
    "before it is ended as a slow consumer",
    "unsequenced_bytes": "unsequenced bytes (rejects, market data) a session may have "
    "waiting before it is ended as a slow consumer",
    "write_buffer_bytes": "socket write buffer per session; past it the gateway stops "
    "writing to that session until it drains",
    "drain_bytes": "bytes of a session's stream written per pass, so one replay cannot "
    "monopolise the event loop",
    "rate_per_s": "order messages per second a session may send on average; beyond it "
    "they are rejected (RateLimited); 0 for no limit",
    "burst": "order messages a session may send at once above the rate",
    "engine_heartbeat_ms": "the gateway sends a heartbeat on the engine link this often",
    "engine_timeout_ms": "an engine link silent this long is dropped and reconnected",
    "engine_answer_ms": "every order is answered within this long: EngineUnavailable if the "
    "engine has not answered and its clock on the link shows it will not; an order whose "
    "link went down waits for the next engine's history (0 turns the bound and order "
    "deadlines off)",
    "engine_deadline_allowance_ms": "each order's deadline is its send time plus "
    "engine_answer_ms less this, the time allowed between sequencing and durability",
    "reconnect_min_ms": "first wait before reconnecting to the engine; doubles per failed "
    "attempt (10 on loopback; 50 on a LAN)",
    "reconnect_max_ms": "longest wait between engine reconnect attempts (100 on loopback, "
    "so a returning engine is relinked within 200 ms; 500 on a LAN)",
    "shutdown_grace_ms": "on SIGTERM/SIGINT, how long sessions get to receive their "
    "Goodbye before the process exits",
    "journal_dir": "directory of the stream journal, so a restarted gateway replays "
    "clients' streams with the same numbering (put it next to the engine's data); "
    "empty keeps the streams in memory only",
    "journal_max_bytes": "largest stream journal file; once full it stops growing and the "
    "next start begins a new epoch",
    "acked_ids_max": "client order ids acknowledged today the gateway remembers (and "
    "journals in journal_dir, 16 bytes each) to refuse their reuse itself; past it, "
    "only the engine's own check applies",
    "login_workers": "threads that check passwords (each check is a deliberately slow "
    "hash); keep below the machine's cores so order entry keeps one",
    "login_queue": "password checks that may wait for a worker; further logins are "
    "refused at once (Throttled)",
    "login_queue_per_source": "password checks one source address may have waiting; "
    "further logins from it are refused at once (Throttled)",
    "login_pending_per_source": "connections from one address that may await their "
    "login's answer at once; further ones are cut before anything is read",
    "login_failures_per_source": "failed logins (decaying) from one address before its "
    "logins are refused unchecked (Throttled) for a back-off window",
    "login_failures_per_user": "failed logins (decaying) for one username before its "
    "logins are refused unchecked (Throttled) for a back-off window",
    "login_backoff_ms": "first refusal window once a failure limit is reached; doubles "
    "with each further failure",
    "login_backoff_max_ms": "longest refusal window",
    "login_failure_half_life_ms": "failed logins count half as much after this long",
    "book_max_orders": "resting orders the gateway's copy of the books holds for market "
    "data: at least the engine's [engine] max_orders, or the feeds stop",
    "book_max_instruments": "instruments the market data books hold: at least the engine's "
    "max_instruments",
    "book_levels_per_side": "price levels reserved per book side (the engine's levels_per_side)",
    "feed_l2_depths": "L2 depths a client may subscribe to, comma-separated (up to 4, "
    "each 1-50, or 0 for every level; 1 is always offered: it feeds TopOfBook)",
    "feed_window_events": "incrementals kept per instrument and feed to answer "
    "ResendRequests; older ranges are answered with a snapshot",
    "feed_subscriptions": "feed subscriptions one session may hold",
    "feed_backlog_bytes": "market data bytes a session may have waiting; past it the "
    "session is conflated or disconnected (feed_slow)",
    "feed_slow": "what a session over feed_backlog_bytes gets: conflate (its subscriptions "
    "are cut to fresh snapshots) or disconnect (SlowConsumer)",
    "feed_coalesce_us": "longest a session's feed incrementals wait to be written together "
    "with later ones (one write per subscriber per interval, not per batch); 0 writes them "
    "at once. Sessions the idle socket writer serves (feed_writer idle) are not held: "
    "they are written once it has sent their last bytes",
    "feed_coalesce_bytes": "waiting feed incrementals this large are written at once",
    "feed_writer": "who writes the sockets of sessions that subscribe to a feed: idle (a "
    "thread of their own in the idle scheduling class, which only takes CPU nothing else "
    "wants: on a saturated host subscribers fall behind, never order entry), normal (that "
    "thread at normal priority) or loop (the event loop's thread, with order entry)",
    "multicast_group": "publish the L3 feed as UDP multicast packets to this group "
    "(239.x.y.z:port, administratively scoped); empty turns multicast off",
    "multicast_interface": "IPv4 address of the interface multicast leaves by (127.0.0.1: "
    "loopback, this host only)",
    "multicast_ttl": "multicast time to live: 0 (this host only) or 1 (the local network "
    "segment, with multicast_scope = network)",
    "multicast_scope": "host (refuse any multicast setting that could reach another host) "
    "or network (allow TTL 1 on a non-loopback interface and a non-loopback "
    "retransmission listener)",
    "multicast_session": "the session name on every packet (1-10 printable ASCII characters); "
    "empty: the gateway's start time in Unix seconds, so each run is a new session. With "
    "journal_dir set, a gateway refuses to start under a name it published under before "
    "(exit 2): it numbers messages from 1 again, and receivers would take them for ones "
    "they hold",
    "multicast_mtu_bytes": "largest multicast packet (UDP payload), 278-65507; messages are "
    "packed until the next would not fit",
    "multicast_queue_packets": "packets that may wait for the socket in one batch; past it "
    "the oldest is dropped and counted (receivers recover it by retransmission)",
    "multicast_window_messages": "newest multicast messages kept to answer retransmission "
    "requests; older ones are answered TooOld (take a snapshot over TCP)",
    "multicast_heartbeat_ms": "a heartbeat packet goes out when nothing was sent for this long",
    "multicast_retransmit": "address of the TCP retransmission server (host:port, on "
    "loopback unless multicast_scope = network; port 0 picks a free one)",
    "multicast_retransmit_max": "most messages one retransmission request may ask for "
    "(1-65534); a reply holds what fits in 64 KiB",
    "multicast_retransmit_connections": "retransmission connections at once; further ones "
    "are closed at once",
}

_AT_LEAST_ONE = (
    "book_max_orders",
    "book_max_instruments",
    "book_levels_per_side",
    "feed_window_events",
    "feed_subscriptions",
    "feed_coalesce_bytes",
    "login_workers",
    "login_queue",
    "login_queue_per_source",
    "login_pending_per_source",
    "login_failures_per_source",
    "login_failures_per_user",
    "login_failure_half_life_ms",
    "multicast_queue_packets",
    "multicast_window_messages",
    "multicast_heartbeat_ms",
    "multicast_retransmit_connections",
)

_MULTICAST_GROUPS = ipaddress.IPv4Network("239.0.0.0/8")
_MTU_MIN, _MTU_MAX = 278, 65_507
#: The smallest FIX message store: its two files split it.
_FIX_STORE_MIN_BYTES = 1 << 20


class AccountConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An ``[[accounts]]`` entry: per-account session options."""

    account: int
    cancel_on_disconnect: bool = False
    rate_per_s: int | None = None
    burst: int | None = None


class InstrumentConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An ``[[instruments]]`` entry: the symbol InstrumentDefinitions give an instrument
    (its trading rules come from the engine)."""

    instrument: int
    symbol: str


class UserConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A ``[[users]]`` entry: a login name, its password hash, account and role."""

    username: str
    password_hash: str
    account: int
    role: Literal["trader", "read-only", "admin"] = "trader"

    @property
    def role_code(self) -> Role:
        """The role as the protocol numbers it."""
        return {"trader": Role.TRADER, "read-only": Role.READ_ONLY, "admin": Role.ADMIN}[self.role]


class FixSymbolConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A ``[[fix.symbols]]`` entry: the FIX Symbol of an instrument and its price decimals
    (a FIX price of ``1.25`` with 2 decimals is 125 engine price units)."""

    symbol: str
    instrument: int
    price_decimals: int = 0


class FixSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[fix]`` table: the FIX 4.4 acceptor (off unless ``listen`` is set)."""

    listen: str = ""
    comp_id: str = "RINGEX"
    peer_comp_ids: list[str] = msgspec.field(default_factory=list)
    store_dir: str = ""
    heartbeat_min_s: int = 1
    heartbeat_max_s: int = 300
    logon_timeout_ms: int = 5000
    max_message_bytes: int = 4096
    resend_messages: int = 100_000
    store_max_bytes: int = 1 << 28
    max_orders: int = 100_000
    symbols: list[FixSymbolConfig] = msgspec.field(default_factory=list)

    def validate(self) -> None:
        """Raises ValueError naming the first inconsistent FIX setting."""
        if not self.listen:
            return
        host, _ = parse_address(self.listen)
        if not _is_loopback(host):
            raise ValueError("fix.listen must be a loopback address")
        for comp_id in [self.comp_id, *self.peer_comp_ids]:
            if not comp_id or not all(c.isalnum() or c in "_.-" for c in comp_id):
                raise ValueError(f"fix CompID {comp_id!r}: letters, digits, _ . -")
        if not 1 <= self.heartbeat_min_s <= self.heartbeat_max_s:
            raise ValueError("fix.heartbeat_min_s must be 1 to heartbeat_max_s")
        if self.max_message_bytes < 256 or min(self.resend_messages, self.max_orders) < 1:
            raise ValueError(
                "fix: max_message_bytes at least 256, resend_messages and max_orders at least 1"
            )
        if self.store_max_bytes < _FIX_STORE_MIN_BYTES:
            # The two message files split it, and a batch of reports must fit one.
            raise ValueError(f"fix.store_max_bytes must be at least {_FIX_STORE_MIN_BYTES}")
        for s in self.symbols:
            if not 0 <= s.price_decimals <= 18 or not s.symbol:
                raise ValueError(f"fix symbol {s.symbol!r}: a name and 0-18 price decimals")


class GatewayConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole configuration file."""

    gateway: Settings = msgspec.field(default_factory=Settings)
    fix: FixSettings = msgspec.field(default_factory=FixSettings)
    accounts: list[AccountConfig] = msgspec.field(default_factory=list)
    instruments: list[InstrumentConfig] = msgspec.field(default_factory=list)
    users: list[UserConfig] = msgspec.field(default_factory=list)

    def validate(self) -> None:
        """Raises ValueError naming the first inconsistent setting."""
        for field in msgspec.structs.fields(Settings):
            value = getattr(self.gateway, field.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"gateway.{field.name} must not be negative")
        for name in _AT_LEAST_ONE:
            if getattr(self.gateway, name) < 1:
                raise ValueError(f"gateway.{name} must be at least 1")
        g = self.gateway
        if g.engine_answer_ms and g.engine_deadline_allowance_ms >= g.engine_answer_ms:
            raise ValueError("gateway.engine_deadline_allowance_ms must be below engine_answer_ms")
        depths = g.l2_depths
        if not 0 < len(depths) <= 4 or not all(0 <= d <= 50 for d in depths):
            raise ValueError("gateway.feed_l2_depths: 1 to 4 depths, each 0-50 (0: every level)")
        if g.feed_slow not in ("conflate", "disconnect"):
            raise ValueError("gateway.feed_slow must be conflate or disconnect")
        if g.feed_writer not in ("idle", "normal", "loop"):
            raise ValueError("gateway.feed_writer must be idle, normal or loop")
        parse_address(self.gateway.listen)
        if g.multicast_group:
            _validate_multicast(g)
        self.gateway_engine_nodes()
        self.fix.validate()
        if self.gateway.metrics:
            parse_address(self.gateway.metrics)
        seen: set[str] = set()
        for user in self.users:
            if not 0 < len(user.username) <= USERNAME_MAX or not _printable(user.username):
                raise ValueError(f"username {user.username!r}: 1-16 printable ASCII characters")
            if user.username != user.username.rstrip(" "):
                raise ValueError(f"username {user.username!r} must not end with a space")
            if user.username in seen:
                raise ValueError(f"username {user.username!r} appears twice")
            seen.add(user.username)
            check_hash_format(user.password_hash)
        accounts = [a.account for a in self.accounts]
        if len(set(accounts)) != len(accounts):
            raise ValueError("an account appears twice in [[accounts]]")
        self._validate_instruments()

    def _validate_instruments(self) -> None:
        ids = [i.instrument for i in self.instruments]
        if len(set(ids)) != len(ids):
            raise ValueError("an instrument appears twice in [[instruments]]")
        for i in self.instruments:
            if not 0 < len(i.symbol) <= SYMBOL_MAX or not _printable(i.symbol):
                raise ValueError(f"symbol {i.symbol!r}: 1-16 printable ASCII characters")
            if i.symbol != i.symbol.rstrip(" "):
                raise ValueError(f"symbol {i.symbol!r} must not end with a space")

    def gateway_engine_nodes(self) -> list[EngineNode]:
        """The engine nodes to link to: ``engines`` if given, else ``engine`` as node 1."""
        g = self.gateway
        if isinstance(g.engines, dict):
            pairs = [(_node_id(key), address) for key, address in g.engines.items()]
        else:
            pairs = list(enumerate(g.engines or [g.engine], start=1))
        if len(pairs) > ENGINE_NODES_MAX:
            raise ValueError(f"gateway.engines: at most {ENGINE_NODES_MAX} nodes")
        nodes = [EngineNode(node_id, *parse_address(address)) for node_id, address in pairs]
        if len({(n.host, n.port) for n in nodes}) != len(nodes):
            raise ValueError("gateway.engines: an address appears twice")
        if len({n.node_id for n in nodes}) != len(nodes):
            raise ValueError("gateway.engines: a node id appears twice")
        return sorted(nodes, key=lambda n: n.node_id)

    def account(self, account: int) -> AccountConfig:
        """The options of ``account`` (the defaults if it has no entry)."""
        for a in self.accounts:
            if a.account == account:
                return a
        return AccountConfig(account=account)


def _validate_multicast(g: Settings) -> None:
    """Refuses multicast settings that are out of range or could leave this host
    without ``multicast_scope = "network"``."""
    host, port = parse_address(g.multicast_group)
    if not _is_ipv4(host) or ipaddress.IPv4Address(host) not in _MULTICAST_GROUPS or not port:
        raise ValueError("gateway.multicast_group: a 239.x.y.z:port group with a port")
    if not _is_ipv4(g.multicast_interface):
        raise ValueError("gateway.multicast_interface: an IPv4 address")
    if g.multicast_ttl not in (0, 1):
        raise ValueError("gateway.multicast_ttl must be 0 or 1")
    if g.multicast_scope not in ("host", "network"):
        raise ValueError("gateway.multicast_scope must be host or network")
    retransmit_host, _ = parse_address(g.multicast_retransmit)
    on_host = g.multicast_ttl == 0 or ipaddress.IPv4Address(g.multicast_interface).is_loopback
    if g.multicast_scope == "host" and not (on_host and _is_loopback(retransmit_host)):
        raise ValueError(
            "multicast would reach other hosts (TTL 1 on a non-loopback interface, or a "
            "retransmission listener off loopback): set gateway.multicast_scope = network"
        )
    session = g.multicast_session
    if session and not is_session_name(session):
        raise ValueError("gateway.multicast_session: up to 10 printable ASCII characters")
    if not _MTU_MIN <= g.multicast_mtu_bytes <= _MTU_MAX:
        raise ValueError(f"gateway.multicast_mtu_bytes must be {_MTU_MIN}-{_MTU_MAX}")
    if not 1 <= g.multicast_retransmit_max < 0xFFFF:
        raise ValueError("gateway.multicast_retransmit_max must be 1-65534")


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _node_id(key: str) -> int:
    if not key.isdigit() or int(key) < 1:
        raise ValueError(f"gateway.engines: node id {key!r} must be a whole number from 1")
    return int(key)


def _printable(text: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E for c in text)


def parse_address(text: str) -> tuple[str, int]:
    """Splits ``host:port`` (``[v6]:port`` for IPv6) into host and port."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"address {text!r} must be host:port")
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"port of {text!r} out of range")
    return host.strip("[]"), int(port)


def load(path: Path | None) -> GatewayConfig:
    """Reads and validates a configuration file; the defaults without one."""
    config = (
        GatewayConfig()
        if path is None
        else msgspec.toml.decode(path.read_bytes(), type=GatewayConfig)
    )
    config.validate()
    return config
