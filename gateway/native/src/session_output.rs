//! What each session is written per drain: its unsequenced bytes, its feed bytes
//! (held back to be coalesced when nothing else is written) and its account stream from
//! its cursor, within the drain budget; and the sessions to end as slow consumers.

use crate::gateway::Core;
use crate::session::Phase;

impl Core {
    pub fn has_pending(&self) -> bool {
        !self.dirty.is_empty() || self.feeds.has_pending()
    }

    /// When feed bytes held back for coalescing are due: drain again then.
    pub fn held_due_ns(&self) -> Option<u64> {
        self.held.due_ns()
    }

    /// The feeds published, then bytes to write per session, and the sessions to end as
    /// slow consumers.
    pub fn drain(&mut self, now_ns: u64) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        self.publish_feeds();
        self.drain_sessions(now_ns)
    }

    /// Bytes to write per session, and the sessions to end as slow consumers; feeds not
    /// yet published wait ([`Self::publish_feeds`]).
    pub fn drain_sessions(&mut self, now_ns: u64) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        let mut writes = Vec::new();
        let mut slow = Vec::new();
        let mut again = Vec::new();
        let mut due = std::mem::take(&mut self.dirty);
        for sid in self.held.release(now_ns) {
            if let Some(s) = self.sessions.get_mut(&sid) {
                // Not held any more: written since. Dirty: on the list already.
                if std::mem::take(&mut s.held) && !s.dirty {
                    due.push(sid);
                }
            }
        }
        for sid in due {
            let Some(s) = self.sessions.get_mut(&sid) else {
                continue;
            };
            s.dirty = false;
            let stream = self
                .streams
                .get(&s.account)
                .filter(|_| s.phase == Phase::Active);
            let behind = stream.is_some_and(|st| {
                s.cursor < st.first_seq() || st.next_seq() - s.cursor > self.limits.max_backlog
            });
            let flooded = s.unsequenced.len() > self.limits.unsequenced_bytes;
            if behind || flooded || self.feeds.is_slow(sid) {
                slow.push(sid);
                continue;
            }
            if s.paused {
                continue;
            }
            let mut out = std::mem::take(&mut s.unsequenced);
            self.stats.messages_out += std::mem::take(&mut s.unsequenced_count);
            let budget = self.limits.drain_bytes;
            let own_output = !out.is_empty() || stream.is_some_and(|st| s.cursor < st.next_seq());
            // Feed bytes ride along with a write that happens anyway, else wait to be
            // coalesced with later ones.
            let held_until = if own_output {
                None
            } else {
                self.feeds.held_until(sid, now_ns)
            };
            if let Some(until) = held_until {
                if !s.held {
                    s.held = true;
                    self.held.hold(sid, until);
                }
            } else {
                s.held = false;
                self.stats.messages_out += self.feeds.take_output(sid, &mut out, budget);
            }
            if let Some(st) = stream {
                while s.cursor < st.next_seq() && out.len() < self.limits.drain_bytes {
                    out.extend_from_slice(st.get(s.cursor).expect("cursor inside the stream"));
                    s.cursor += 1;
                    self.stats.messages_out += 1;
                }
                if s.cursor < st.next_seq() {
                    s.dirty = true;
                }
            }
            if !s.dirty && !s.held && self.feeds.has_output(sid) {
                s.dirty = true;
            }
            if s.dirty {
                again.push(sid);
            }
            if !out.is_empty() {
                s.last_out_ns = now_ns;
                writes.push((sid, out));
            }
        }
        self.dirty = again;
        (writes, slow)
    }
}
