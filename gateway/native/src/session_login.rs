//! A login's outcome, once Python has checked the credentials: the session accepted
//! (its account stream, rate limit and SessionParameters) or refused.

use ringex_protocol::client::ServerMessage;
use ringex_protocol::session::{LoginRejectReason, Role};

use crate::binary_session::SessionAction;
use crate::gateway::Core;
use crate::rate_limit::TokenBucket;
use crate::session::Phase;
use crate::sessions::frame;

impl Core {
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
}
