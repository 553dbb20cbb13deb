//! One client session's state: where it is in the login sequence, its partial inbound
//! frame, its place in its account's stream, its unsequenced outbound bytes and its
//! rate limit.

use std::sync::Arc;

use ringex_protocol::session::Role;

use crate::rate_limit::TokenBucket;
use crate::socket_writer::SocketSlot;

/// Bytes a client may send after its Login before the login is answered (a pipelining
/// client's first orders); past it the session ends (`NotLoggedIn`).
pub const LOGIN_HOLD_BYTES: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connected; only Login is allowed.
    Connected,
    /// Login received, credentials being checked; nothing else is allowed.
    LoginPending,
    /// Logged in.
    Active,
}

pub struct Session {
    pub phase: Phase,
    pub account: u32,
    pub role: Role,
    pub cancel_on_disconnect: bool,
    /// Bytes of an incomplete frame (while the login is checked: every byte after it).
    pub inbound: Vec<u8>,
    /// When the incomplete frame in `inbound` began.
    pub partial_since_ns: Option<u64>,
    pub opened_ns: u64,
    pub last_in_ns: u64,
    pub last_out_ns: u64,
    /// The next sequence number of the account's stream this session will be sent.
    pub cursor: u64,
    /// Unsequenced frames waiting to be written (session messages, gateway rejects,
    /// market data).
    pub unsequenced: Vec<u8>,
    pub unsequenced_count: u64,
    /// The transport's write buffer is full: write nothing until it drains.
    pub paused: bool,
    /// Already listed for the next drain.
    pub dirty: bool,
    /// Its feed bytes wait to be coalesced with later ones (on the held list).
    pub held: bool,
    pub bucket: TokenBucket,
    /// Written by the socket writer (handed over), not by the event loop.
    pub writer: Option<Arc<SocketSlot>>,
}

impl Session {
    pub fn new(now_ns: u64) -> Session {
        Session {
            phase: Phase::Connected,
            account: 0,
            role: Role::ReadOnly,
            cancel_on_disconnect: false,
            inbound: Vec::new(),
            partial_since_ns: None,
            opened_ns: now_ns,
            last_in_ns: now_ns,
            last_out_ns: now_ns,
            cursor: 0,
            unsequenced: Vec::new(),
            unsequenced_count: 0,
            paused: false,
            dirty: false,
            held: false,
            bucket: TokenBucket::new(0, 1, now_ns),
            writer: None,
        }
    }

    /// Keeps bytes that arrived while the login is checked; false once they exceed
    /// [`LOGIN_HOLD_BYTES`].
    pub fn hold(&mut self, data: &[u8]) -> bool {
        self.inbound.extend_from_slice(data);
        self.holds_within_bound()
    }

    /// Whether the bytes kept behind a pending login are within [`LOGIN_HOLD_BYTES`].
    pub fn holds_within_bound(&self) -> bool {
        self.inbound.len() <= LOGIN_HOLD_BYTES
    }

    /// Whether this session enters orders for its account.
    pub fn trades(&self) -> bool {
        self.phase == Phase::Active && self.role != Role::ReadOnly
    }
}
