"""The gateway process: the client listener, the engine link, timers, login checks,
metrics and graceful shutdown, around one native core that does the per-message work."""

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ringex_client.enums import LoginRejectReason, SessionEndReason
from ringex_gateway._native import CloseSession, GatewayCore, LoginRequested
from ringex_gateway.acked_id_journal import AckedIdJournal
from ringex_gateway.client_session import ClientSession
from ringex_gateway.config import GatewayConfig, UserConfig, parse_address
from ringex_gateway.credentials import hash_password, verify_password
from ringex_gateway.engine_link import EngineLink
from ringex_gateway.fix.acceptor import FixAcceptor
from ringex_gateway.gateway_session import GatewaySession
from ringex_gateway.instrument_terms import InstrumentTerms
from ringex_gateway.leader_follow import LeaderFollower
from ringex_gateway.login_queue import LoginQueue
from ringex_gateway.login_throttle import LoginThrottles, ThrottlePolicy
from ringex_gateway.metrics import GatewayMetrics, LoginStats, serve_metrics
from ringex_gateway.multicast_publisher import MulticastPublisher
from ringex_gateway.multicast_sessions import UsedSessions
from ringex_gateway.pending_logins import PendingLogins
from ringex_gateway.retransmit_server import RetransmitServer
from ringex_gateway.seen_seq import SeenSeq
from ringex_gateway.stream_journal import StreamJournal

log = logging.getLogger("ringex_gateway")

_MS = 1_000_000


class Gateway:
    """One gateway: ``await start()``, then ``await stop()`` (or :meth:`run`)."""

    def __init__(self, config: GatewayConfig) -> None:
        config.validate()
        self.config = config
        self.settings = config.gateway
        s = self.settings
        self.journal: StreamJournal | None = None
        self.acked_journal: AckedIdJournal | None = None
        self.seen_seq: SeenSeq | None = None
        epoch, frames = time.time_ns(), b""
        if s.journal_dir:
            self.journal = StreamJournal(Path(s.journal_dir), s.journal_max_bytes)
            self.acked_journal = AckedIdJournal(Path(s.journal_dir), s.acked_ids_max)
            epoch, frames = self.journal.open()
            self.seen_seq = SeenSeq(Path(s.journal_dir))
        self.core = GatewayCore(
            epoch=epoch,
            journal_messages=s.journal_messages,
            max_backlog=s.max_backlog,
            unsequenced_bytes=s.unsequenced_bytes,
            drain_bytes=s.drain_bytes,
            heartbeat_ns=s.heartbeat_ms * _MS,
            idle_timeout_ns=s.idle_timeout_ms * _MS,
            frame_timeout_ns=s.frame_timeout_ms * _MS,
            login_timeout_ns=s.login_timeout_ms * _MS,
            persist=self.journal is not None,
            acked_ids_max=s.acked_ids_max,
        )
        self.core.configure_feeds(
            max_orders=s.book_max_orders,
            max_instruments=s.book_max_instruments,
            levels_per_side=s.book_levels_per_side,
            l2_depths=s.l2_depths,
            window_events=s.feed_window_events,
            subscriptions_per_session=s.feed_subscriptions,
            backlog_bytes=s.feed_backlog_bytes,
            conflate=s.feed_slow == "conflate",
            coalesce_ns=s.feed_coalesce_us * 1000,
            coalesce_bytes=s.feed_coalesce_bytes,
        )
        if s.feed_writer != "loop":
            # Market data sessions' sockets are written from a native thread of their own.
            self.core.start_writer(
                write_buffer_bytes=s.write_buffer_bytes,
                close_grace_ns=s.shutdown_grace_ms * _MS,
                idle_priority=s.feed_writer == "idle",
            )
        for listed in config.instruments:
            self.core.set_symbol(listed.instrument, listed.symbol)
        self.multicast: MulticastPublisher | None = None
        self.retransmit: RetransmitServer | None = None
        self.retransmit_address: tuple[str, int] | None = None
        if s.multicast_group:
            self._configure_multicast()
        if self.journal is not None:
            kept = self.core.restore(frames)
            self.journal.keep(kept)
            log.info("stream journal: epoch %d, %d bytes of events restored", epoch, kept)
        if self.acked_journal is not None:
            # After the streams: the acked-id journal alone says which ids are taken.
            kept = self.core.restore_acked(self.acked_journal.open())
            self.acked_journal.keep(kept)
            log.info("acked-id journal: %d bytes of ids restored", kept)
        if self.seen_seq is not None:
            self.core.note_engine_seq(self.seen_seq.seq)
            log.info("highest engine seq seen before: %d", self.core.last_engine_seq())
        self.core.set_answer_bound(s.engine_answer_ms * _MS, s.engine_deadline_allowance_ms * _MS)
        self.core.set_clock_offset(time.time_ns() - time.monotonic_ns())
        self.users: dict[str, UserConfig] = {u.username: u for u in config.users}
        # Unknown usernames are checked against this, so a miss takes as long as a hit.
        self._decoy_hash = hash_password("", n=1 << 14)
        self.sessions: dict[int, GatewaySession] = {}
        self._ids = itertools.count(1)
        self._flush_scheduled = False
        self._held_timer: asyncio.TimerHandle | None = None
        # Kept once: asyncio.get_running_loop() costs a getpid() system call each time.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.login_queue = LoginQueue(
            workers=s.login_workers,
            max_waiting=s.login_queue,
            max_waiting_per_source=s.login_queue_per_source,
        )
        self.throttles = LoginThrottles(
            self._throttle_policy(s.login_failures_per_source),
            self._throttle_policy(s.login_failures_per_user),
        )
        self.pending = PendingLogins(s.login_pending_per_source)
        self._logins_accepted = 0
        self._login_failures: Counter[str] = Counter()
        self._reading_paused = False
        self._metrics = GatewayMetrics()
        self._answer_timeouts = 0
        self._late_answers = 0
        self._metrics_server: Any = None
        self.metrics_port: int | None = None
        self.link = EngineLink(self, LeaderFollower(config.gateway_engine_nodes()))
        self.fix = FixAcceptor(self, config.fix) if config.fix.listen else None
        # Set when stop() begins (no new logins) and when it has finished: run() returns
        # only then, so a shutdown is never cut short by the event loop closing under it.
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None
        # Set when a journal write failed: the gateway then stops (fail-stop).
        self.failed: OSError | None = None

    def _configure_multicast(self) -> None:
        """The L3 feed over multicast, numbered from the first L3 message on."""
        s = self.settings
        session = self._multicast_session()
        self.core.configure_multicast(
            session=session,
            mtu_bytes=s.multicast_mtu_bytes,
            window_messages=s.multicast_window_messages,
            queue_packets=s.multicast_queue_packets,
            retransmit_max=s.multicast_retransmit_max,
        )
        self.multicast = MulticastPublisher(self.core, s)
        self.retransmit = RetransmitServer(
            self.core, s.multicast_retransmit_connections, s.idle_timeout_ms / 1000
        )
        log.info("multicast session %r to %s", session, s.multicast_group)

    def _multicast_session(self) -> str:
        """A session name not published under before, as far as the journal directory
        tells: without one, only an unnamed session is sure to be new."""
        s = self.settings
        now_s = time.time_ns() // 1_000_000_000
        if s.journal_dir:
            return UsedSessions(Path(s.journal_dir)).claim(s.multicast_session, now_s)
        if s.multicast_session:
            log.warning(
                "multicast_session %r is fixed and journal_dir unset: a restart would "
                "number messages from 1 under it again, and receivers would drop them as "
                "ones they hold",
                s.multicast_session,
            )
        return s.multicast_session or str(now_s)

    def _throttle_policy(self, failures: int) -> ThrottlePolicy:
        s = self.settings
        return ThrottlePolicy(
            threshold=failures,
            backoff_ms=s.login_backoff_ms,
            backoff_max_ms=s.login_backoff_max_ms,
            half_life_ms=s.login_failure_half_life_ms,
        )

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the client listener is bound to."""
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Binds the listener and the metrics endpoint and starts the engine link."""
        s = self.settings
        host, port = parse_address(s.listen)
        loop = self._loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ClientSession(self, next(self._ids)), host, port, reuse_address=True
        )
        if self.fix is not None:
            await self.fix.start(lambda: next(self._ids))
        if s.metrics:
            self._metrics_server, self.metrics_port = serve_metrics(
                self._metrics, *parse_address(s.metrics)
            )
        if self.retransmit is not None:
            self.retransmit_address = await self.retransmit.start(
                *parse_address(s.multicast_retransmit)
            )
            log.info("retransmission server on %s:%d", *self.retransmit_address)
        wake_fd = self.core.writer_wake_fd()
        if wake_fd is not None:
            loop.add_reader(wake_fd, self._writer_events)
        self._tasks = [
            asyncio.create_task(self.link.run(), name="engine-link"),
            asyncio.create_task(self._timers(), name="timers"),
        ]
        log.info(
            "gateway listening on %s:%d, engine %s, metrics %s",
            *self.address,
            ", ".join(str(n) for n in self.link.nodes.nodes),
            f"port {self.metrics_port}" if self.metrics_port else "off",
        )

    async def run(self) -> None:
        """Starts, then serves until :meth:`stop` has finished."""
        await self.start()
        await self._stopped.wait()

    # Sessions -----------------------------------------------------------------------

    def session_opened(self, session: GatewaySession) -> None:
        """A client connected."""
        if len(self.sessions) >= 2 * self.settings.max_sessions or not self.pending.admit(
            session.sid, session.source()
        ):
            session.abort()
            return
        self.sessions[session.sid] = session
        self.core.open_session(session.sid, time.monotonic_ns())
        if self._reading_paused:
            session.pause_reading(True)

    def session_data(self, session: GatewaySession, data: bytes) -> None:
        """A batch of bytes from a client."""
        action = self.core.feed_session(session.sid, data, time.monotonic_ns())
        self._act(session, action)
        self.schedule_flush()

    def _act(self, session: GatewaySession, action: LoginRequested | CloseSession | None) -> None:
        """Does what the core asked after it was fed a session's bytes."""
        if isinstance(action, LoginRequested):
            self._begin_login(session, action.username, action.password, action.next_seq)
        elif isinstance(action, CloseSession):
            self.end_session(session, SessionEndReason(action.reason), action.detail)

    def session_paused(self, session: GatewaySession, paused: bool) -> None:
        """The session's write buffer filled: the core holds its messages back until it
        drains."""
        self.core.set_paused(session.sid, paused)
        if not paused:
            self.schedule_flush()

    def session_lost(self, session: GatewaySession) -> None:
        """A client connection closed, by either side."""
        self.pending.done(session.sid)
        if self.sessions.pop(session.sid, None) is not None:
            self.core.end_session(session.sid)
            self.schedule_flush()

    def end_session(
        self, session: GatewaySession, reason: SessionEndReason, detail: int = 0
    ) -> None:
        """Ends a session with a Goodbye saying why."""
        if reason != SessionEndReason.LOGOUT:
            log.info("session %d ended: %s (%d)", session.sid, reason.name, detail)
        goodbye = self.core.end_session(session.sid, int(reason), detail)
        self.pending.done(session.sid)
        self.sessions.pop(session.sid, None)
        session.close_with(goodbye, self.settings.shutdown_grace_ms / 1000)
        self.schedule_flush()

    def instrument_listing(self, instrument: int) -> InstrumentTerms | None:
        """The engine's terms for ``instrument``: (tick_size, lot_size, halted), or None
        while the engine has not listed it."""
        return self.core.listing(instrument)

    def _begin_login(
        self, session: GatewaySession, username: str, password: str, next_seq: int
    ) -> None:
        """Refuses a throttled login at once, else queues its password check."""
        source = self.pending.source(session.sid)
        if self.throttles.refused(source, username):
            self._refuse_login(session, username, LoginRejectReason.THROTTLED, "throttled")
            return
        user = self.users.get(username)
        stored = user.password_hash if user is not None else self._decoy_hash
        checked = self.login_queue.submit(
            source,
            functools.partial(verify_password, password, stored),
            lambda: session.sid in self.sessions,
        )
        if checked is None:
            self._refuse_login(session, username, LoginRejectReason.THROTTLED, "busy")
            return
        checked.add_done_callback(
            lambda done: self._login_checked(session, source, username, next_seq, done)
        )

    def _login_checked(
        self,
        session: GatewaySession,
        source: str,
        username: str,
        next_seq: int,
        checked: "asyncio.Future[bool | None]",
    ) -> None:
        if session.sid not in self.sessions:
            return  # the connection went away before or during the check
        if (error := checked.exception()) is not None:
            log.error("password check for %r failed", username, exc_info=error)
            self._refuse_login(session, username, LoginRejectReason.UNAVAILABLE)
            return
        ok = checked.result()
        if ok is None:
            return  # skipped: the gateway is stopping
        user = self.users.get(username)
        if user is None or not ok:
            self.throttles.failed(source, username)
            self._refuse_login(session, username, LoginRejectReason.NOT_AUTHORIZED)
            return
        if self.core.logged_in_count() >= self.settings.max_sessions:
            self._refuse_login(session, username, LoginRejectReason.SESSION_LIMIT)
            return
        if self._stopping.is_set():
            self._refuse_login(session, username, LoginRejectReason.UNAVAILABLE)
            return
        self.throttles.succeeded(username)
        account = self.config.account(user.account)
        s = self.settings
        after = self.core.accept_login(
            session.sid,
            user.account,
            int(user.role_code),
            next_seq,
            s.rate_per_s if account.rate_per_s is None else account.rate_per_s,
            s.burst if account.burst is None else account.burst,
            account.cancel_on_disconnect,
            time.monotonic_ns(),
        )
        self.pending.done(session.sid)
        self._logins_accepted += 1
        log.info(
            "session %d logged in: %s, account %d, from seq %d",
            session.sid,
            username,
            user.account,
            next_seq,
        )
        # Bytes the client sent after its Login were held during the check.
        self._act(session, after)
        self.schedule_flush()

    def _refuse_login(
        self,
        session: GatewaySession,
        username: str,
        reason: LoginRejectReason,
        label: str = "",
    ) -> None:
        """Answers LoginRejected and closes; counted in the metrics by ``label``."""
        label = label or reason.name.lower()
        self._login_failures[label] += 1
        # Refusals without a check come in floods: keep them out of the info log.
        level = logging.DEBUG if reason == LoginRejectReason.THROTTLED else logging.INFO
        log.log(level, "login refused for %r: %s", username, label)
        rejected = self.core.reject_login(session.sid, int(reason))
        self.pending.done(session.sid)
        self.sessions.pop(session.sid, None)
        session.close_with(rejected, self.settings.shutdown_grace_ms / 1000)
        self.schedule_flush()

    def pause_sessions(self, paused: bool) -> None:
        """Back-pressure from the engine link: stop (or resume) reading from clients."""
        self._reading_paused = paused
        for session in self.sessions.values():
            session.pause_reading(paused)

    # Output -------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        """Writes everything the core produced, once per loop iteration."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.failed is not None:
            return
        try:
            self._persist()
        except OSError as e:
            self._fail_stop(e)
            return
        out = self.core.take_engine_output()
        if out:
            self.link.write(out)
        self._hand_over()
        drained = self.core.drain(time.monotonic_ns())
        for sid, data in drained.writes:
            session = self.sessions.get(sid)
            if session is not None:
                session.write(data)
        for sid in drained.slow:
            session = self.sessions.get(sid)
            if session is not None:
                self.end_session(session, SessionEndReason.SLOW_CONSUMER)
        # The answers are on their way: the feeds of what they answered are built now
        # and written at the next pass, so the fan-out never delays an order's answer.
        self.core.publish_feeds()
        if self.multicast is not None:
            self.multicast.send_batch()
        if self.core.has_pending():
            self.schedule_flush()
        self._wake_for_held()

    def _hand_over(self) -> None:
        """Sessions that subscribed to a feed move to the core's socket writer, so the
        fan-out's writes leave this thread to the orders; one that cannot yet (bytes
        still wait in its transport) stays here until it subscribes again."""
        for sid in self.core.take_writer_requests():
            session = self.sessions.get(sid)
            fd = session.writer_socket() if session is not None else None
            if fd is None:
                continue
            try:
                self.core.hand_over(sid, fd)
            except OSError as e:
                log.warning("session %d stays on the event loop: %s", sid, e)

    def _writer_events(self) -> None:
        """The socket writer caught up with a session, or a session's socket failed."""
        for sid in self.core.writer_events():
            session = self.sessions.get(sid)
            if session is not None:
                session.abort()
        self.schedule_flush()

    def _wake_for_held(self) -> None:
        """Flushes again when the feed bytes held back for coalescing are due."""
        due_ns = self.core.held_due_ns()
        if due_ns is None or self._held_timer is not None:
            return
        assert self._loop is not None
        delay_s = max(due_ns - time.monotonic_ns(), 0) / 1e9
        self._held_timer = self._loop.call_later(delay_s, self._held_due)

    def _held_due(self) -> None:
        self._held_timer = None
        self.schedule_flush()

    def _persist(self) -> None:
        """Writes the journals, before any message they cover reaches a client."""
        if self.journal is not None:
            self.journal.append(self.core.take_journal_output())
        if self.acked_journal is not None:
            acked = self.core.take_acked_output()
            self.acked_journal.append(acked.cleared, acked.records)
        if self.seen_seq is not None:
            self.seen_seq.record(self.core.last_engine_seq())

    def _fail_stop(self, error: OSError) -> None:
        """A journal write failed: nothing more leaves the gateway (what it covered was
        not recorded, so a restart could not stand behind it) and it stops."""
        self.failed = error
        log.critical("gateway journal write failed (%s): stopping, nothing more is sent", error)
        self.request_stop()

    async def _timers(self) -> None:
        s = self.settings
        period = min(s.heartbeat_ms, s.frame_timeout_ms, s.engine_heartbeat_ms, 1000) / 4000
        if s.engine_answer_ms:
            # Orders past the answer bound are answered within a tenth of it.
            period = min(period, s.engine_answer_ms / 10_000)
        next_link_beat = 0
        while True:
            await asyncio.sleep(period)
            now = time.monotonic_ns()
            self.core.set_clock_offset(time.time_ns() - now)
            for timed_out in self.core.tick(now):
                session = self.sessions.get(timed_out.sid)
                if session is not None:
                    self.end_session(session, SessionEndReason(timed_out.reason))
            if now >= next_link_beat:
                self.link.heartbeat(now)
                next_link_beat = now + s.engine_heartbeat_ms * _MS
            stats = self.core.stats() | self.link.stats()
            if self.multicast is not None:
                self.multicast.tick(now, stats)
                stats |= self.multicast.stats()
            self._report_unanswered(stats)
            self._metrics.refresh(stats, len(self.sessions))
            self._metrics.refresh_logins(self._login_stats())
            self.schedule_flush()

    def _login_stats(self) -> LoginStats:
        return LoginStats(
            accepted=self._logins_accepted,
            failures=dict(self._login_failures),
            refused_sources=self.throttles.sources.refused_count(),
            refused_users=self.throttles.users.refused_count(),
            waiting=self.login_queue.waiting,
            connections_cut=self.pending.refused,
        )

    def _report_unanswered(self, stats: dict[str, Any]) -> None:
        """Logs orders the engine left unanswered past the bound, and late answers."""
        timeouts = int(stats["engine_answer_timeouts"])
        late = int(stats["engine_late_answers"])
        if timeouts > self._answer_timeouts:
            log.warning(
                "%d orders answered EngineUnavailable: no engine answer within %d ms",
                timeouts - self._answer_timeouts,
                self.settings.engine_answer_ms,
            )
        if late > self._late_answers:
            log.error(
                "%d orders the gateway answered EngineUnavailable were executed after all "
                "(sequenced before their deadline, durable after the bound)",
                late - self._late_answers,
            )
        self._answer_timeouts, self._late_answers = timeouts, late

    # Shutdown -----------------------------------------------------------------------

    async def stop(self) -> None:
        """Graceful shutdown: stop accepting, say Goodbye to every session, let them
        drain for up to ``shutdown_grace_ms``, send the multicast end of session, then
        close the engine link and the journals. Returns once done (a second call
        waits for the first)."""
        if self._stopping.is_set():
            await self._stopped.wait()
            return
        self._stopping.set()
        try:
            await self._shut_down()
        finally:
            self._stopped.set()

    def request_stop(self) -> None:
        """Starts :meth:`stop` from a callback (a signal, a failed journal write),
        keeping the task: the event loop holds only a weak reference to it."""
        if self._stop_task is None:
            self._stop_task = asyncio.get_running_loop().create_task(self.stop())

    async def _shut_down(self) -> None:
        """The steps of :meth:`stop`, in order."""
        if self._server is not None:
            self._server.close()
        if self.fix is not None:
            self.fix.stop_listening()
        self._flush()
        for session in list(self.sessions.values()):
            self.end_session(session, SessionEndReason.SHUTDOWN)
        self._flush()
        deadline = time.monotonic() + self.settings.shutdown_grace_ms / 1000
        while not self.core.writer_idle() or any(s.is_open() for s in self.sessions.values()):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        wake_fd = self.core.writer_wake_fd()
        if wake_fd is not None and self._loop is not None:
            self._loop.remove_reader(wake_fd)
        if self.fix is not None:
            await self.fix.stop()
        if self.multicast is not None:
            self.multicast.end()
        if self.retransmit is not None:
            await self.retransmit.stop()
        self.link.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._server.wait_closed(), self.settings.shutdown_grace_ms / 1000
                )
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        self.login_queue.close()
        if self.seen_seq is not None:
            self.seen_seq.close()
        if self.journal is not None:
            self.journal.close()
        if self.acked_journal is not None:
            self.acked_journal.close()
        log.info("gateway stopped")
