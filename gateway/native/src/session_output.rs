//! What each session is written per drain: its unsequenced bytes, its feed bytes
//! (held back to be coalesced when nothing else is written) and its account stream from
//! its cursor, within the drain budget; and the sessions to end as slow consumers. The
//! bytes of sessions handed to the socket writer go to it, all in one batch per drain.

use crate::gateway::Core;
use crate::output_chunks::Output;
use crate::session::Phase;
use crate::socket_writer::Order;

/// What one session's drain came to.
enum Drained {
    /// Nothing to write now (paused, or its feed bytes are held back).
    Nothing,
    Bytes(Output),
    /// Too far behind: end it as a slow consumer.
    Slow,
}

impl Core {
    pub fn has_pending(&self) -> bool {
        self.sessions.has_dirty() || self.feeds.has_pending()
    }

    /// When feed bytes held back for coalescing are due: drain again then.
    pub fn held_due_ns(&self) -> Option<u64> {
        self.sessions.held_due_ns()
    }

    /// The feeds published, then bytes to write per session, and the sessions to end as
    /// slow consumers.
    pub fn drain(&mut self, now_ns: u64) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        self.publish_feeds();
        self.drain_sessions(now_ns)
    }

    /// Bytes to write per session, and the sessions to end as slow consumers; feeds not
    /// yet published wait ([`Self::publish_feeds`]). Sessions handed to the socket
    /// writer are written by it.
    pub fn drain_sessions(&mut self, now_ns: u64) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        let mut writes = Vec::new();
        let mut orders = Vec::new();
        let mut slow = Vec::new();
        let mut again = Vec::new();
        for sid in self.sessions.take_due(now_ns) {
            match self.drain_session(sid, now_ns) {
                Drained::Nothing => {}
                Drained::Bytes(out) => match self.sessions.get(sid).and_then(|s| s.writer.as_ref())
                {
                    Some(slot) => orders.push(Order::write(sid, slot, out.into_chunks())),
                    None => writes.push((sid, out.into_bytes())),
                },
                Drained::Slow => {
                    slow.push(sid);
                    continue;
                }
            }
            if self.sessions.get(sid).is_some_and(|s| s.dirty) {
                again.push(sid);
            }
        }
        self.sessions.relist(again);
        if let Some(writer) = &self.writer {
            writer.submit(orders);
        }
        (writes, slow)
    }

    /// One session's unsequenced bytes, feed bytes and stream from its cursor, within
    /// the drain budget; it stays dirty if more is left.
    fn drain_session(&mut self, sid: u64, now_ns: u64) -> Drained {
        let Some(s) = self.sessions.get_mut(sid) else {
            return Drained::Nothing;
        };
        s.dirty = false;
        let stream = self
            .streams
            .get(s.account)
            .filter(|_| s.phase == Phase::Active);
        let behind = stream.is_some_and(|st| {
            s.cursor < st.first_seq() || st.next_seq() - s.cursor > self.limits.max_backlog
        });
        let flooded = s.unsequenced.len() > self.limits.unsequenced_bytes;
        if behind || flooded || self.feeds.is_slow(sid) {
            return Drained::Slow;
        }
        let writer = self.writer.as_ref().map(|w| w.settings());
        let bound = writer.map_or(0, |w| w.bound_bytes);
        if s.paused || s.writer.as_ref().is_some_and(|w| w.over(bound)) {
            return Drained::Nothing;
        }
        let mut out = Output::from_vec(std::mem::take(&mut s.unsequenced));
        self.stats.messages_out += std::mem::take(&mut s.unsequenced_count);
        let budget = self.limits.drain_bytes;
        let own_output = !out.is_empty() || stream.is_some_and(|st| s.cursor < st.next_seq());
        // Feed bytes alone wait while the socket writer still sends the session's last
        // ones (it says when it has, once per pass): under load a subscriber is drained
        // once per writer pass, not at every drain, which spares the order path's thread;
        // the bytes would have queued behind those in the writer anyway.
        if !own_output && s.writer.as_ref().is_some_and(|w| w.over(0)) {
            return Drained::Nothing;
        }
        // Feed bytes ride along with a write that happens anyway. A session the idle
        // socket writer serves is written as soon as the writer has sent its last bytes
        // (just above), so its incrementals gather by themselves while the writer waits
        // for spare CPU, and a quiet feed goes at once. Any other waits to be coalesced
        // with later ones: a write per session per pass would be the order path's
        // thread's, or a normal-priority writer's competing with it.
        let idle_writer = s.writer.is_some() && writer.is_some_and(|w| w.idle_priority);
        let held_until = if own_output || idle_writer {
            None
        } else {
            self.feeds.held_until(sid, now_ns)
        };
        if held_until.is_none() {
            s.held = false;
            self.stats.messages_out += self.feeds.take_output(sid, &mut out, budget);
        }
        if let Some(st) = stream {
            self.stats.messages_out += st.copy_from(&mut s.cursor, &mut out, budget);
            if s.cursor < st.next_seq() {
                s.dirty = true;
            }
        }
        if !s.dirty && held_until.is_none() && self.feeds.has_output(sid) {
            s.dirty = true;
        }
        if !out.is_empty() {
            s.last_out_ns = now_ns;
        }
        if let Some(until) = held_until {
            self.sessions.hold(sid, until);
        }
        if out.is_empty() {
            Drained::Nothing
        } else {
            Drained::Bytes(out)
        }
    }
}
