//! How a session ends: its Goodbye, its subscriptions and socket let go, and the
//! account's orders cancelled when it asked for that and was the last to trade.

use ringex_protocol::client::ServerMessage;
use ringex_protocol::session::SessionEndReason;

use crate::gateway::Core;
use crate::output_chunks::Output;
use crate::session::{Phase, Session};
use crate::sessions::frame;

impl Core {
    /// Ends a session: returns its last bytes to write before closing — the answers
    /// not yet drained (gateway rejects, session messages), the feed messages still
    /// waiting for it (held back while the socket writer sent earlier ones) and its
    /// stream not yet written (neither for a session ended for being too slow to read
    /// them: its Goodbye must not wait behind them), then its Goodbye; nothing when the
    /// connection is already gone — and cancels the account's orders if it asked for
    /// cancel-on-disconnect and no other trading session of it remains.
    pub fn end_session(&mut self, sid: u64, reason: Option<(SessionEndReason, u8)>) -> Vec<u8> {
        let reading = reason.is_some_and(|(r, _)| r != SessionEndReason::SlowConsumer);
        let mut feed = Output::from_vec(Vec::new());
        if reading {
            self.stats.messages_out += self.feeds.take_waiting(sid, &mut feed);
        }
        let Some(s) = self.forget(sid) else {
            return Vec::new();
        };
        // A reject queued by the same read as a Logout is still that order's answer.
        let mut last = Output::from_vec(Vec::new());
        if reason.is_some() {
            last.extend(&s.unsequenced);
            self.stats.messages_out += s.unsequenced_count;
            last.extend(&feed.into_bytes());
        }
        if reading {
            self.stats.messages_out += self.stream_left(&s, &mut last);
        }
        if s.trades() && s.cancel_on_disconnect && self.to_engine.is_up() {
            let others = self.sessions.account_trades(s.account);
            if !others {
                self.mass_cancel_all(s.account);
            }
        }
        let mut out = last.into_bytes();
        if let Some((reason, detail)) = reason {
            self.stats.session_end(reason as u8);
            frame(&mut out, &ServerMessage::Goodbye { reason, detail });
        }
        self.close_written(sid, s.writer, out)
    }

    /// Appends the ending session's stream from its cursor, up to one drain's budget:
    /// what the gateway already holds for it goes before the Goodbye, so a client that
    /// reads up to the Goodbye needs no new login to learn it (the rest, and answers
    /// still on their way from the engine, it gets by resuming). Nothing for a session
    /// that is not logged in, or whose cursor the stream no longer holds.
    fn stream_left(&self, s: &Session, out: &mut Output) -> u64 {
        let Some(stream) = self.streams.get(s.account) else {
            return 0;
        };
        if s.phase != Phase::Active || s.cursor < stream.first_seq() {
            return 0;
        }
        let mut cursor = s.cursor;
        stream.copy_from(&mut cursor, out, out.len() + self.limits.drain_bytes)
    }

    /// Forgets a session everywhere it is listed; returns its last state.
    pub(crate) fn forget(&mut self, sid: u64) -> Option<Session> {
        let s = self.sessions.remove(sid)?;
        self.feeds.forget(sid);
        self.top_of_book.forget(sid);
        Some(s)
    }
}
