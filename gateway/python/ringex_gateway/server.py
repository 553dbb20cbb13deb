"""The gateway process: the client listener, the engine link, timers, login checks,
metrics and graceful shutdown, around one native core that does the per-message work."""

import asyncio
import contextlib
import itertools
import logging
import time
from pathlib import Path
from typing import Any

from ringex_client.enums import LoginRejectReason, SessionEndReason
from ringex_gateway._native import GatewayCore
from ringex_gateway.client_session import ClientSession
from ringex_gateway.config import GatewayConfig, UserConfig, parse_address
from ringex_gateway.credentials import hash_password, verify_password
from ringex_gateway.engine_link import EngineLink
from ringex_gateway.metrics import GatewayMetrics, serve_metrics
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
        self.seen_seq: SeenSeq | None = None
        epoch, frames = time.time_ns(), b""
        if s.journal_dir:
            self.journal = StreamJournal(Path(s.journal_dir), s.journal_max_bytes)
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
        )
        if self.journal is not None:
            kept = self.core.restore(frames)
            self.journal.keep(kept)
            log.info("stream journal: epoch %d, %d bytes of events restored", epoch, kept)
        if self.seen_seq is not None:
            self.core.note_engine_seq(self.seen_seq.seq)
            log.info("highest engine seq seen before: %d", self.core.last_engine_seq())
        self.core.set_answer_bound(s.engine_answer_ms * _MS, s.engine_deadline_allowance_ms * _MS)
        self.core.set_clock_offset(time.time_ns() - time.monotonic_ns())
        self.users: dict[str, UserConfig] = {u.username: u for u in config.users}
        # Unknown usernames are checked against this, so a miss takes as long as a hit.
        self._decoy_hash = hash_password("", n=1 << 14)
        self.sessions: dict[int, ClientSession] = {}
        self.logged_in: set[int] = set()
        self._ids = itertools.count(1)
        self._flush_scheduled = False
        # Kept once: asyncio.get_running_loop() costs a getpid() system call each time.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._logins: set[asyncio.Task[None]] = set()
        self._reading_paused = False
        self._metrics = GatewayMetrics()
        self._answer_timeouts = 0
        self._late_answers = 0
        self._metrics_server: Any = None
        self.metrics_port: int | None = None
        self.link = EngineLink(self, *parse_address(s.engine))
        self._stopped = asyncio.Event()

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
        if s.metrics:
            self._metrics_server, self.metrics_port = serve_metrics(
                self._metrics, *parse_address(s.metrics)
            )
        self._tasks = [
            asyncio.create_task(self.link.run(), name="engine-link"),
            asyncio.create_task(self._timers(), name="timers"),
        ]
        log.info(
            "gateway listening on %s:%d, engine %s, metrics %s",
            *self.address,
            s.engine,
            f"port {self.metrics_port}" if self.metrics_port else "off",
        )

    async def run(self) -> None:
        """Starts, then serves until :meth:`stop` is called."""
        await self.start()
        await self._stopped.wait()

    # Sessions -----------------------------------------------------------------------

    def session_opened(self, session: ClientSession) -> None:
        """A client connected."""
        if len(self.sessions) >= 2 * self.settings.max_sessions:
            assert session.transport is not None
            session.transport.abort()
            return
        self.sessions[session.sid] = session
        self.core.open_session(session.sid, time.monotonic_ns())
        if self._reading_paused:
            assert session.transport is not None
            session.transport.pause_reading()

    def session_data(self, session: ClientSession, data: bytes) -> None:
        """A batch of bytes from a client."""
        action = self.core.feed_session(session.sid, data, time.monotonic_ns())
        if action is not None:
            if action[0] == "login":
                _, username, password, next_seq = action
                task = asyncio.get_running_loop().create_task(
                    self._login(session, username, password, next_seq)
                )
                # The loop holds tasks weakly: keep each login alive until it is done.
                self._logins.add(task)
                task.add_done_callback(self._logins.discard)
            else:
                _, reason, detail = action
                self.end_session(session, SessionEndReason(reason), detail)
        self.schedule_flush()

    def session_lost(self, session: ClientSession) -> None:
        """A client connection closed, by either side."""
        if self.sessions.pop(session.sid, None) is not None:
            self.core.end_session(session.sid)
            self.logged_in.discard(session.sid)
            self.schedule_flush()

    def end_session(
        self, session: ClientSession, reason: SessionEndReason, detail: int = 0
    ) -> None:
        """Ends a session with a Goodbye saying why."""
        if reason != SessionEndReason.LOGOUT:
            log.info("session %d ended: %s (%d)", session.sid, reason.name, detail)
        goodbye = self.core.end_session(session.sid, int(reason), detail)
        self.logged_in.discard(session.sid)
        self.sessions.pop(session.sid, None)
        session.close_with(goodbye, self.settings.shutdown_grace_ms / 1000)
        self.schedule_flush()

    async def _login(
        self, session: ClientSession, username: str, password: str, next_seq: int
    ) -> None:
        user = self.users.get(username)
        stored = user.password_hash if user is not None else self._decoy_hash
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, verify_password, password, stored)
        if session.sid not in self.sessions:
            return
        reason: LoginRejectReason | None = None
        if user is None or not ok:
            reason = LoginRejectReason.NOT_AUTHORIZED
        elif len(self.logged_in) >= self.settings.max_sessions:
            reason = LoginRejectReason.SESSION_LIMIT
        elif self._stopped.is_set():
            reason = LoginRejectReason.UNAVAILABLE
        if reason is not None or user is None:
            reason = reason or LoginRejectReason.NOT_AUTHORIZED
            log.info("login refused for %r: %s", username, reason.name)
            rejected = self.core.reject_login(session.sid, int(reason))
            self.sessions.pop(session.sid, None)
            session.close_with(rejected, self.settings.shutdown_grace_ms / 1000)
            return
        account = self.config.account(user.account)
        s = self.settings
        self.core.accept_login(
            session.sid,
            user.account,
            int(user.role_code),
            next_seq,
            s.rate_per_s if account.rate_per_s is None else account.rate_per_s,
            s.burst if account.burst is None else account.burst,
            account.cancel_on_disconnect,
            time.monotonic_ns(),
        )
        self.logged_in.add(session.sid)
        log.info(
            "session %d logged in: %s, account %d, from seq %d",
            session.sid,
            username,
            user.account,
            next_seq,
        )
        self.schedule_flush()

    def pause_sessions(self, paused: bool) -> None:
        """Back-pressure from the engine link: stop (or resume) reading from clients."""
        self._reading_paused = paused
        for session in self.sessions.values():
            if session.transport is not None and not session.closing:
                if paused:
                    session.transport.pause_reading()
                else:
                    session.transport.resume_reading()

    # Output -------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        """Writes everything the core produced, once per loop iteration."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.journal is not None:
            # Journaled before any message it produced reaches a client.
            self.journal.append(self.core.take_journal_output())
        if self.seen_seq is not None:
            self.seen_seq.record(self.core.last_engine_seq())
        out = self.core.take_engine_output()
        if out:
            self.link.write(out)
        writes, slow = self.core.drain(time.monotonic_ns())
        for sid, data in writes:
            session = self.sessions.get(sid)
            if session is not None:
                session.write(data)
        for sid in slow:
            session = self.sessions.get(sid)
            if session is not None:
                self.end_session(session, SessionEndReason.SLOW_CONSUMER)
        if self.core.has_pending():
            self.schedule_flush()

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
            for sid, reason in self.core.tick(now):
                session = self.sessions.get(sid)
                if session is not None:
                    self.end_session(session, SessionEndReason(reason))
            if now >= next_link_beat:
                self.link.heartbeat(now)
                next_link_beat = now + s.engine_heartbeat_ms * _MS
            stats = self.core.stats()
            self._report_unanswered(stats)
            self._metrics.refresh(stats, len(self.sessions))
            self.schedule_flush()

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
        drain for up to ``shutdown_grace_ms``, then close the engine link."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._server is not None:
            self._server.close()
        self._flush()
        for session in list(self.sessions.values()):
            self.end_session(session, SessionEndReason.SHUTDOWN)
        self._flush()
        deadline = time.monotonic() + self.settings.shutdown_grace_ms / 1000
        while any(
            s.transport is not None and not s.transport.is_closing() for s in self.sessions.values()
        ):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
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
        if self.seen_seq is not None:
            self.seen_seq.close()
        if self.journal is not None:
            self.journal.close()
        log.info("gateway stopped")
