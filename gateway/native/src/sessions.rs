//! The core's open sessions, whatever protocol their peers speak outside: each one's
//! state by id, the sessions of each account, and which have output waiting for the
//! next drain (dirty) or held back to be coalesced with later feed bytes.

use rustc_hash::FxHashMap as HashMap;

use ringex_protocol::client::{encode_server, ServerMessage};
use ringex_protocol::frame::write_frame;
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::held_sessions::HeldSessions;
use crate::session::Session;

#[derive(Default)]
pub struct Sessions {
    by_id: HashMap<u64, Session>,
    /// The logged-in sessions of each account.
    by_account: HashMap<u32, Vec<u64>>,
    /// Sessions listed for the next drain, each once (its `dirty` flag set).
    dirty: Vec<u64>,
    /// Sessions whose feed bytes wait to be coalesced (each with its `held` flag set).
    held: HeldSessions,
}

/// One server message as a ready-to-write frame.
pub fn frame(buf: &mut Vec<u8>, message: &ServerMessage) {
    write_frame(buf, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        encode_server(message, b)
    });
}

/// Puts a session on the drain list unless it is there already.
fn list_once(by_id: &mut HashMap<u64, Session>, dirty: &mut Vec<u64>, sid: u64) {
    if let Some(s) = by_id.get_mut(&sid) {
        if !s.dirty {
            s.dirty = true;
            dirty.push(sid);
        }
    }
}

impl Sessions {
    pub fn open(&mut self, sid: u64, now_ns: u64) {
        self.by_id.insert(sid, Session::new(now_ns));
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// How many sessions are logged in (each is listed under its account).
    pub fn logged_in(&self) -> usize {
        self.by_account.values().map(Vec::len).sum()
    }

    pub fn get(&self, sid: u64) -> Option<&Session> {
        self.by_id.get(&sid)
    }

    pub fn get_mut(&mut self, sid: u64) -> Option<&mut Session> {
        self.by_id.get_mut(&sid)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Session)> {
        self.by_id.iter().map(|(&sid, s)| (sid, s))
    }

    /// Lists a session for the next drain, once.
    pub fn mark(&mut self, sid: u64) {
        list_once(&mut self.by_id, &mut self.dirty, sid);
    }

    /// Lists every session of an account for the next drain: its stream grew.
    pub fn mark_account(&mut self, account: u32) {
        if let Some(list) = self.by_account.get(&account) {
            for &sid in list {
                list_once(&mut self.by_id, &mut self.dirty, sid);
            }
        }
    }

    /// Queues an unsequenced message (session messages, refusals, market data).
    pub fn send(&mut self, sid: u64, message: &ServerMessage) {
        if let Some(s) = self.by_id.get_mut(&sid) {
            frame(&mut s.unsequenced, message);
            s.unsequenced_count += 1;
            self.mark(sid);
        }
    }

    /// Counts a logged-in session among its account's.
    pub fn join_account(&mut self, sid: u64, account: u32) {
        self.by_account.entry(account).or_default().push(sid);
    }

    /// Forgets a session; returns its last state.
    pub fn remove(&mut self, sid: u64) -> Option<Session> {
        let s = self.by_id.remove(&sid)?;
        if let Some(list) = self.by_account.get_mut(&s.account) {
            list.retain(|&o| o != sid);
        }
        Some(s)
    }

    /// Whether a session of `account` still enters orders.
    pub fn account_trades(&self, account: u32) -> bool {
        self.by_account.get(&account).is_some_and(|list| {
            list.iter()
                .any(|o| self.by_id.get(o).is_some_and(|o| o.trades()))
        })
    }

    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The sessions to drain now: those listed, and the held ones whose time came.
    pub fn take_due(&mut self, now_ns: u64) -> Vec<u64> {
        let mut due = std::mem::take(&mut self.dirty);
        for sid in self.held.release(now_ns) {
            if let Some(s) = self.by_id.get_mut(&sid) {
                // Not held any more: written since. Dirty: on the list already.
                if std::mem::take(&mut s.held) && !s.dirty {
                    due.push(sid);
                }
            }
        }
        due
    }

    /// The sessions a drain left with more to write, each with its `dirty` flag set.
    pub fn relist(&mut self, again: Vec<u64>) {
        debug_assert!(self.dirty.is_empty());
        self.dirty = again;
    }

    /// Holds a session's feed bytes until `until_ns`, once.
    pub fn hold(&mut self, sid: u64, until_ns: u64) {
        if let Some(s) = self.by_id.get_mut(&sid) {
            if !s.held {
                s.held = true;
                self.held.hold(sid, until_ns);
            }
        }
    }

    /// When feed bytes held back for coalescing are due.
    pub fn held_due_ns(&self) -> Option<u64> {
        self.held.due_ns()
    }
}
