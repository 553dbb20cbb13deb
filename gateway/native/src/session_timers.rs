//! A session's timers: the login, idle and partial-frame timeouts, heartbeats when
//! nothing else was sent, and the orders the engine did not answer within the bound.

use ringex_protocol::client::ServerMessage;
use ringex_protocol::session::SessionEndReason;

use crate::gateway::Core;
use crate::session::Phase;

impl Core {
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
