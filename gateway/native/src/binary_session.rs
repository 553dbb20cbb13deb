//! The binary protocol's session layer in the core: frames split and decoded, the login
//! sequence up to the credentials check, and what each message of a logged-in session
//! does. A FIX session reaches the core through the same frames. The login's outcome is
//! in `session_login`, a session's end in `session_end`, its timers in `session_timers`.

use ringex_protocol::client::{admin_request_id, decode_client, ClientMessage};
use ringex_protocol::frame::split_frame;
use ringex_protocol::session::{decode_text, SessionEndReason, CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::feed_key::FeedKey;
use crate::gateway::Core;
use crate::session::Phase;

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

    /// The transport's write buffer filled (`true`) or drained (`false`).
    pub fn set_paused(&mut self, sid: u64, paused: bool) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.paused = paused;
        }
        if !paused {
            self.sessions.mark(sid);
        }
    }
}
