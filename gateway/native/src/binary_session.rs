//! The binary protocol's session layer in the core: frames split and decoded, the login
//! sequence, what each message of a logged-in session does, the session's timers, and
//! how it ends. A FIX session reaches the core through the same frames.

use ringex_protocol::client::{admin_request_id, decode_client, ClientMessage, ServerMessage};
use ringex_protocol::frame::split_frame;
use ringex_protocol::session::{
    decode_text, LoginRejectReason, Role, SessionEndReason, CLIENT_FRAME_MAX, CLIENT_PREFIX,
};

use crate::gateway::Core;
use crate::rate_limit::TokenBucket;
use crate::session::{Phase, Session};
use crate::sessions::frame;
use crate::subscriptions::FeedKey;

/// What Python must do after feeding a session.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionAction {
    Continue,
    /// Check these credentials, then call `accept_login` or `reject_login`.
    Login {
        username: String,
        password: String,
        next_seq: u64,
    },
    /// End the session with `end_session(reason, detail)`.
    Close {
        reason: SessionEndReason,
        detail: u8,
    },
}

impl Core {
    /// Parses every whole frame of a session's new bytes.
    pub fn feed_session(&mut self, sid: u64, data: &[u8], now_ns: u64) -> SessionAction {
        let Some(s) = self.sessions.get_mut(sid) else {
            return SessionAction::Continue;
        };
        s.last_in_ns = now_ns;
        if s.phase == Phase::LoginPending {
            // Held until the login is answered, then fed on by accept_login.
            if s.hold(data) {
                return SessionAction::Continue;
            }
            return SessionAction::Close {
                reason: SessionEndReason::NotLoggedIn,
                detail: 0,
            };
        }
        let mut buf = std::mem::take(&mut s.inbound);
        buf.extend_from_slice(data);
        let mut used = 0;
        let mut action = SessionAction::Continue;
        loop {
            match split_frame(&buf[used..], CLIENT_PREFIX, CLIENT_FRAME_MAX) {
                Err(e) => {
                    action = SessionAction::Close {
                        reason: SessionEndReason::BadInput,
                        detail: e.code(),
                    };
                    break;
                }
                Ok(None) => break,
                Ok(Some((body, n))) => {
                    self.stats.messages_in += 1;
                    action = self.handle(sid, body, now_ns);
                    used += n;
                    if action != SessionAction::Continue {
                        break;
                    }
                }
            }
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            buf.drain(..used);
            s.partial_since_ns = match (buf.is_empty(), used) {
                (true, _) => None,
                (false, 0) => s.partial_since_ns.or(Some(now_ns)),
                (false, _) => Some(now_ns),
            };
            s.inbound = buf;
            if s.phase == Phase::LoginPending {
                s.partial_since_ns = None;
                if !s.holds_within_bound() {
                    action = SessionAction::Close {
                        reason: SessionEndReason::NotLoggedIn,
                        detail: 0,
                    };
                }
            }
        }
        action
    }

    fn handle(&mut self, sid: u64, body: &[u8], now_ns: u64) -> SessionAction {
        let message = match decode_client(body) {
            Ok(m) => m,
            Err(e) => {
                return SessionAction::Close {
                    reason: SessionEndReason::BadInput,
                    detail: e.code(),
                }
            }
        };
        let not_logged_in = SessionAction::Close {
            reason: SessionEndReason::NotLoggedIn,
            detail: 0,
        };
        let s = self.sessions.get_mut(sid).expect("fed session exists");
        match (s.phase, message) {
            (
                Phase::Connected,
                ClientMessage::Login {
                    username,
                    password,
                    next_seq,
                },
            ) => {
                s.phase = Phase::LoginPending;
                // Checked by decode_client: printable ASCII.
                let text = |b: &[u8]| decode_text(b).unwrap_or_default().to_string();
                SessionAction::Login {
                    username: text(&username),
                    password: text(&password),
                    next_seq,
                }
            }
            (Phase::Active, ClientMessage::Logout {}) => SessionAction::Close {
                reason: SessionEndReason::Logout,
                detail: 0,
            },
            // A heartbeat is welcome at any point; it only keeps the session alive.
            (_, ClientMessage::Heartbeat {}) => SessionAction::Continue,
            (
                Phase::Active,
                ClientMessage::Subscribe {
                    instrument,
                    subscribe,
                },
            ) => {
                self.subscribe(sid, instrument, subscribe);
                SessionAction::Continue
            }
            (
                Phase::Active,
                ClientMessage::FeedSubscribe {
                    instrument,
                    feed,
                    depth,
                    subscribe,
                },
            ) => {
                let key = FeedKey {
                    instrument,
                    feed,
                    depth,
                };
                let answer = self.feeds.subscribe(sid, key, subscribe);
                if subscribe && answer.is_ok() {
                    self.request_writer(sid);
                }
                self.feed_answer(sid, key, answer);
                SessionAction::Continue
            }
            (
                Phase::Active,
                ClientMessage::ResendRequest {
                    instrument,
                    feed,
                    depth,
                    from_seq,
                    to_seq,
                },
            ) => {
                let key = FeedKey {
                    instrument,
                    feed,
                    depth,
                };
                let answer = self.feeds.resend(sid, key, from_seq, to_seq);
                self.feed_answer(sid, key, answer);
                SessionAction::Continue
            }
            (Phase::Active, ClientMessage::InstrumentRequest { instrument }) => {
                let timestamp_ns = self.link.wall_ns(now_ns);
                for message in self.instruments.answer(instrument, timestamp_ns) {
                    self.sessions.send(sid, &message);
                }
                SessionAction::Continue
            }
            (Phase::Active, message) => match message.command() {
                Some(cmd) => {
                    let id = admin_request_id(&message).unwrap_or(cmd.client_order_id());
                    self.order_entry(sid, body, &cmd, id, now_ns);
                    SessionAction::Continue
                }
                // Every other message of an active session is matched above.
                None => not_logged_in,
            },
            _ => not_logged_in,
        }
    }

    /// Logs a session in after Python checked its credentials; queues LoginAccepted,
    /// starts its stream at the requested sequence number, and feeds on the bytes that
    /// arrived after the Login (what to do about them is returned).
    #[allow(clippy::too_many_arguments)]
    pub fn accept_login(
        &mut self,
        sid: u64,
        account: u32,
        role: Role,
        next_seq: u64,
        rate_per_s: u64,
        burst: u64,
        cancel_on_disconnect: bool,
        now_ns: u64,
    ) -> SessionAction {
        let stream = self.streams.open(account);
        let start = stream.start_for(next_seq);
        let replay_end = stream.next_seq();
        let Some(s) = self.sessions.get_mut(sid) else {
            return SessionAction::Continue;
        };
        s.phase = Phase::Active;
        s.account = account;
        s.role = role;
        s.cancel_on_disconnect = cancel_on_disconnect;
        s.cursor = start;
        s.bucket = TokenBucket::new(rate_per_s, burst, now_ns);
        self.sessions.join_account(sid, account);
        let accepted = ServerMessage::LoginAccepted {
            account,
            role,
            epoch: self.epoch,
            next_seq: start,
            replay_end,
        };
        self.sessions.send(sid, &accepted);
        let parameters = self.session_parameters(rate_per_s, burst);
        self.sessions.send(sid, &parameters);
        self.feed_session(sid, &[], now_ns)
    }

    /// The limits and timers a session works under, as SessionParameters says them.
    fn session_parameters(&self, rate_per_s: u64, burst: u64) -> ServerMessage {
        let ms = |ns: u64| u32::try_from(ns / 1_000_000).unwrap_or(u32::MAX);
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let l = &self.limits;
        ServerMessage::SessionParameters {
            heartbeat_ms: ms(l.heartbeat_ns),
            idle_timeout_ms: ms(l.idle_timeout_ns),
            frame_timeout_ms: ms(l.frame_timeout_ns),
            login_timeout_ms: ms(l.login_timeout_ns),
            answer_timeout_ms: ms(self.link.answer_bound_ns()),
            order_rate_per_s: clamp(rate_per_s),
            order_burst: clamp(burst),
            backlog_messages_max: clamp(l.max_backlog),
            unsequenced_bytes_max: clamp(l.unsequenced_bytes as u64),
        }
    }

    /// Refuses a login: returns the LoginRejected frame to write before closing.
    pub fn reject_login(&mut self, sid: u64, reason: LoginRejectReason) -> Vec<u8> {
        self.forget(sid);
        let mut out = Vec::new();
        frame(&mut out, &ServerMessage::LoginRejected { reason });
        out
    }

    /// Ends a session: returns the Goodbye frame to write before closing (nothing when
    /// the connection is already gone), and cancels the account's orders if it asked
    /// for cancel-on-disconnect and no other trading session of it remains.
    pub fn end_session(&mut self, sid: u64, reason: Option<(SessionEndReason, u8)>) -> Vec<u8> {
        let Some(s) = self.forget(sid) else {
            return Vec::new();
        };
        if s.trades() && s.cancel_on_disconnect && self.to_engine.is_up() {
            let others = self.sessions.account_trades(s.account);
            if !others {
                self.mass_cancel_all(s.account);
            }
        }
        let mut out = Vec::new();
        if let Some((reason, detail)) = reason {
            self.stats.session_end(reason as u8);
            frame(&mut out, &ServerMessage::Goodbye { reason, detail });
        }
        self.close_written(sid, s.writer, out)
    }

    fn forget(&mut self, sid: u64) -> Option<Session> {
        let s = self.sessions.remove(sid)?;
        self.feeds.forget(sid);
        self.top_of_book.forget(sid);
        Some(s)
    }

    /// The transport's write buffer filled (`true`) or drained (`false`).
    pub fn set_paused(&mut self, sid: u64, paused: bool) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.paused = paused;
        }
        if !paused {
            self.sessions.mark(sid);
        }
    }

    /// Timers: returns the sessions to end and why; queues heartbeats.
    pub fn tick(&mut self, now_ns: u64) -> Vec<(u64, SessionEndReason)> {
        let l = self.limits;
        let mut ends = Vec::new();
        let mut beats = Vec::new();
        for (sid, s) in self.sessions.iter() {
            let since = |t: u64| now_ns.saturating_sub(t);
            if s.phase != Phase::Active && since(s.opened_ns) > l.login_timeout_ns {
                ends.push((sid, SessionEndReason::LoginTimeout));
            } else if since(s.last_in_ns) > l.idle_timeout_ns {
                ends.push((sid, SessionEndReason::IdleTimeout));
            } else if s
                .partial_since_ns
                .is_some_and(|t| since(t) > l.frame_timeout_ns)
            {
                ends.push((sid, SessionEndReason::FrameTimeout));
            } else if s.phase == Phase::Active && since(s.last_out_ns) >= l.heartbeat_ns {
                beats.push(sid);
            }
        }
        for sid in beats {
            self.sessions.send(sid, &ServerMessage::Heartbeat {});
        }
        let (up, seen) = (self.to_engine.is_up(), self.last_engine_seq);
        for p in self.link.overdue(now_ns, up, seen) {
            self.engine_unavailable(p, now_ns);
        }
        ends.sort_unstable_by_key(|(sid, _)| *sid);
        ends
    }
}
