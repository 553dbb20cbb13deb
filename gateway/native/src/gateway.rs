//! The gateway's per-message work, over whole batches of bytes: client frames in,
//! validated and stamped with the session's account, out to the engine link; engine
//! events in, routed to the accounts' streams and the market data subscribers; server
//! messages out, per session, as ready-to-write bytes. Python owns the sockets and
//! calls in once per batch; nothing here does I/O or reads a clock.

use rustc_hash::FxHashMap as HashMap;

use ringex_core::{Command, CommandKind, Event, MassCancel, RejectReason};
use ringex_protocol::client::{
    admin_request_id, decode_client, is_admin, stamp, ClientMessage, ServerMessage, Stamp,
};
use ringex_protocol::command_codec::{encode_command, ALL_INSTRUMENTS};
use ringex_protocol::feed::{FeedKind, FeedRejectReason};
use ringex_protocol::frame::{split_frame, write_frame, LengthPrefix};
use ringex_protocol::link::{
    decode_from_engine, events, write_heartbeat, write_resume, EventsHeader, FromEngine,
    GoodbyeReason, LINK_FRAME_MAX, LINK_INPUT,
};
use ringex_protocol::session::{
    decode_text, GatewayRejectReason, Liquidity, LoginRejectReason, Role, SessionEndReason,
    CANCEL_REASON_EXPIRED, CLIENT_FRAME_MAX, CLIENT_PREFIX,
};
use ringex_protocol::wire::Writer;

use crate::account_stream::AccountStream;
use crate::acked_ids::{self, AckedIds};
use crate::engine_link_state::{EngineLinkState, Pending};
use crate::feed_fanout::{FeedFanout, FeedSettings};
use crate::held_sessions::HeldSessions;
use crate::instrument_registry::InstrumentRegistry;
use crate::rate_limit::TokenBucket;
use crate::session::{Phase, Session};
use crate::stats::Stats;
use crate::subscriptions::FeedKey;

/// Bounds and timers, fixed when the gateway starts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Sequenced messages kept per account for replay.
    pub journal_messages: usize,
    /// Sequenced messages a session may fall behind its account's stream before it is
    /// disconnected as a slow consumer.
    pub max_backlog: u64,
    /// Unsequenced bytes (rejects, market data) a session may have waiting.
    pub unsequenced_bytes: usize,
    /// Bytes handed to one session's transport per drain.
    pub drain_bytes: usize,
    pub heartbeat_ns: u64,
    pub idle_timeout_ns: u64,
    pub frame_timeout_ns: u64,
    pub login_timeout_ns: u64,
    /// Acknowledged client order ids kept for the day (see [`AckedIds`]).
    pub acked_ids_max: usize,
}

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

/// What Python must know after feeding the engine link.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LinkOutcome {
    pub welcome: Option<u64>,
    /// The Welcome was below what this gateway has seen: the link must not be used.
    pub refused: bool,
    pub goodbye: Option<(u8, u8)>,
    /// The engine sent bytes that do not decode: the decode error code.
    pub error: Option<u8>,
    /// The node is not the cluster's leader: `(leader_id, term)`, leader 0 if unknown.
    pub not_leader: Option<(u64, u64)>,
}

pub struct Core {
    limits: Limits,
    epoch: u64,
    sessions: HashMap<u64, Session>,
    streams: HashMap<u32, AccountStream>,
    account_sessions: HashMap<u32, Vec<u64>>,
    subscribers: HashMap<u32, Vec<u64>>,
    /// The L3 and L2 feeds and their subscribers (also the TopOfBook and TradeReport).
    pub feeds: FeedFanout,
    /// Instrument definitions and the accounts that receive their changes.
    pub instruments: InstrumentRegistry,
    dirty: Vec<u64>,
    /// Sessions whose feed bytes wait to be coalesced.
    held: HeldSessions,
    engine_up: bool,
    engine_out: Vec<u8>,
    link_in: Vec<u8>,
    next_correlation: u64,
    /// Orders waiting for the engine's answer, deadlines, and the engine's standing.
    pub link: EngineLinkState,
    last_engine_seq: u64,
    /// Events frames to append to the gateway's stream journal, when it keeps one.
    journal: Option<Vec<u8>>,
    pub acked: AckedIds,
    pub stats: Stats,
}

fn frame(buf: &mut Vec<u8>, message: &ServerMessage) {
    write_frame(buf, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        ringex_protocol::client::encode_server(message, b)
    });
}

/// Puts a session on the list to drain, once.
fn mark_dirty(sessions: &mut HashMap<u64, Session>, dirty: &mut Vec<u64>, sid: u64) {
    if let Some(s) = sessions.get_mut(&sid) {
        if !s.dirty {
            s.dirty = true;
            dirty.push(sid);
        }
    }
}

fn remove_id(list: &mut Vec<u64>, sid: u64) {
    list.retain(|&s| s != sid);
}

impl Core {
    /// A core; with `persist`, every events frame it routes is also handed out by
    /// [`Core::take_journal_output`] so the streams can be rebuilt after a restart.
    pub fn new(limits: Limits, epoch: u64, persist: bool) -> Core {
        Core {
            limits,
            epoch,
            sessions: HashMap::default(),
            streams: HashMap::default(),
            account_sessions: HashMap::default(),
            subscribers: HashMap::default(),
            feeds: FeedFanout::new(FeedSettings::default())
                .expect("default feed settings are valid"),
            instruments: InstrumentRegistry::default(),
            dirty: Vec::new(),
            held: HeldSessions::default(),
            engine_up: false,
            engine_out: Vec::new(),
            link_in: Vec::new(),
            next_correlation: 1,
            link: EngineLinkState::new(0, 0),
            last_engine_seq: 0,
            journal: persist.then(Vec::new),
            acked: AckedIds::new(limits.acked_ids_max, persist),
            stats: Stats::default(),
        }
    }

    /// Replaces the feeds' settings; before any engine event arrives.
    pub fn configure_feeds(&mut self, settings: FeedSettings) -> Result<(), &'static str> {
        self.feeds = FeedFanout::new(settings)?;
        Ok(())
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn engine_up(&self) -> bool {
        self.engine_up
    }

    pub fn last_engine_seq(&self) -> u64 {
        self.last_engine_seq
    }

    pub fn open_session(&mut self, sid: u64, now_ns: u64) {
        self.sessions.insert(sid, Session::new(now_ns));
    }

    fn mark(&mut self, sid: u64) {
        mark_dirty(&mut self.sessions, &mut self.dirty, sid);
    }

    fn mark_account(&mut self, account: u32) {
        if let Some(list) = self.account_sessions.get(&account) {
            for &sid in list {
                mark_dirty(&mut self.sessions, &mut self.dirty, sid);
            }
        }
    }

    fn send_unsequenced(&mut self, sid: u64, message: &ServerMessage) {
        if let Some(s) = self.sessions.get_mut(&sid) {
            frame(&mut s.unsequenced, message);
            s.unsequenced_count += 1;
            self.mark(sid);
        }
    }

    /// Parses every whole frame of a session's new bytes.
    pub fn feed_session(&mut self, sid: u64, data: &[u8], now_ns: u64) -> SessionAction {
        let Some(s) = self.sessions.get_mut(&sid) else {
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
        if let Some(s) = self.sessions.get_mut(&sid) {
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
        let s = self.sessions.get_mut(&sid).expect("fed session exists");
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
                    self.send_unsequenced(sid, &message);
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

    fn subscribe(&mut self, sid: u64, instrument: u32, on: bool) {
        let top = self.feeds.top_of_book(instrument);
        if on && top.is_none() {
            let reason = FeedRejectReason::UnknownInstrument;
            self.feed_rejected(sid, instrument, None, 0, reason);
            return;
        }
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let list = self.subscribers.entry(instrument).or_default();
        remove_id(list, sid);
        s.subscriptions.retain(|&i| i != instrument);
        if let (true, Some(top)) = (on, top) {
            list.push(sid);
            s.subscriptions.push(instrument);
            self.send_unsequenced(sid, &top);
        }
    }

    /// A feed request was taken (its snapshot or resend follows) or refused.
    fn feed_answer(&mut self, sid: u64, key: FeedKey, answer: Result<(), FeedRejectReason>) {
        if let Err(reason) = answer {
            self.feed_rejected(sid, key.instrument, Some(key.feed), key.depth, reason);
        }
        if self.feeds.has_output(sid) {
            self.mark(sid);
        }
    }

    fn feed_rejected(
        &mut self,
        sid: u64,
        instrument: u32,
        feed: Option<FeedKind>,
        depth: u8,
        reason: FeedRejectReason,
    ) {
        self.feeds.counters.rejects += 1;
        let message = ServerMessage::FeedRejected {
            instrument,
            feed,
            depth,
            reason,
        };
        self.send_unsequenced(sid, &message);
    }

    /// Forwards an order or admin message, or refuses it at once. `id` names it in the
    /// answer: the client order id, or an admin message's request id.
    fn order_entry(&mut self, sid: u64, body: &[u8], cmd: &Command, id: u64, now_ns: u64) {
        let s = self.sessions.get_mut(&sid).expect("session exists");
        let refused = if s.role == Role::ReadOnly || (is_admin(body[0]) && s.role != Role::Admin) {
            Some(GatewayRejectReason::NotPermitted)
        } else if !s.bucket.take(now_ns) {
            Some(GatewayRejectReason::RateLimited)
        } else {
            self.link.refusal(self.engine_up)
        };
        let account = s.account;
        let refused = refused.map(|r| r as u8).or_else(|| {
            acked_ids::new_id(cmd)
                .filter(|&id| self.acked.contains(account, id))
                .map(|_| RejectReason::DuplicateClientOrderId as u8)
        });
        if let Some(reason) = refused {
            self.stats.reject(reason);
            let unsequenced = Stamp {
                seq: 0,
                timestamp_ns: self.link.wall_ns(now_ns),
            };
            let message = reject(unsequenced, cmd.kind(), reason, id);
            self.send_unsequenced(sid, &message);
            return;
        }
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        let pending = Pending {
            arrival_ns: now_ns,
            sid,
            account,
            kind: cmd.kind(),
            client_order_id: id,
        };
        self.link
            .write_input(&mut self.engine_out, correlation, pending, |b| {
                stamp(body, account, b)
            });
        self.stats.engine_inputs += 1;
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
        let capacity = self.limits.journal_messages;
        let stream = self
            .streams
            .entry(account)
            .or_insert_with(|| AccountStream::new(capacity));
        let start = stream.start_for(next_seq);
        let replay_end = stream.next_seq();
        let Some(s) = self.sessions.get_mut(&sid) else {
            return SessionAction::Continue;
        };
        s.phase = Phase::Active;
        s.account = account;
        s.role = role;
        s.cancel_on_disconnect = cancel_on_disconnect;
        s.cursor = start;
        s.bucket = TokenBucket::new(rate_per_s, burst, now_ns);
        self.account_sessions.entry(account).or_default().push(sid);
        let accepted = ServerMessage::LoginAccepted {
            account,
            role,
            epoch: self.epoch,
            next_seq: start,
            replay_end,
        };
        self.send_unsequenced(sid, &accepted);
        let parameters = self.session_parameters(rate_per_s, burst);
        self.send_unsequenced(sid, &parameters);
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
        if s.trades() && s.cancel_on_disconnect && self.engine_up {
            let others = self.account_sessions.get(&s.account).is_some_and(|list| {
                list.iter()
                    .any(|o| self.sessions.get(o).is_some_and(|o| o.trades()))
            });
            if !others {
                self.mass_cancel_all(s.account);
            }
        }
        let mut out = Vec::new();
        if let Some((reason, detail)) = reason {
            self.stats.session_end(reason as u8);
            frame(&mut out, &ServerMessage::Goodbye { reason, detail });
        }
        out
    }

    fn forget(&mut self, sid: u64) -> Option<Session> {
        let s = self.sessions.remove(&sid)?;
        self.feeds.forget(sid);
        if let Some(list) = self.account_sessions.get_mut(&s.account) {
            remove_id(list, sid);
        }
        for instrument in &s.subscriptions {
            if let Some(list) = self.subscribers.get_mut(instrument) {
                remove_id(list, sid);
            }
        }
        Some(s)
    }

    fn mass_cancel_all(&mut self, account: u32) {
        let command = Command::MassCancel(MassCancel {
            account,
            instrument: None,
        });
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        write_frame(
            &mut self.engine_out,
            LengthPrefix::U32,
            LINK_FRAME_MAX,
            |b| {
                Writer::new(b).u8(LINK_INPUT).u64(correlation);
                encode_command(&command, b);
            },
        );
        self.stats.engine_inputs += 1;
    }

    /// The transport's write buffer filled (`true`) or drained (`false`).
    pub fn set_paused(&mut self, sid: u64, paused: bool) {
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.paused = paused;
        }
        if !paused {
            self.mark(sid);
        }
    }

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

    /// Timers: returns the sessions to end and why; queues heartbeats.
    pub fn tick(&mut self, now_ns: u64) -> Vec<(u64, SessionEndReason)> {
        let l = self.limits;
        let mut ends = Vec::new();
        let mut beats = Vec::new();
        for (&sid, s) in &self.sessions {
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
            self.send_unsequenced(sid, &ServerMessage::Heartbeat {});
        }
        let (up, seen) = (self.engine_up, self.last_engine_seq);
        for p in self.link.overdue(now_ns, up, seen) {
            self.engine_unavailable(p, now_ns);
        }
        ends.sort_unstable_by_key(|(sid, _)| *sid);
        ends
    }

    /// A new engine link connected: forget the old one's partial frame and open the new
    /// one with a Resume after the last sequence number seen. Orders still waiting are
    /// answered by their events, which come back as history without our correlation, or
    /// once that history has arrived without them (`EngineLinkState`).
    pub fn link_reset(&mut self) {
        self.link_in.clear();
        self.engine_out.clear();
        self.engine_up = false;
        let from = self.link.resume_from(self.last_engine_seq);
        write_resume(&mut self.engine_out, from);
    }

    /// Raises the last sequence number seen to one persisted by an earlier run.
    pub fn note_engine_seq(&mut self, seq: u64) {
        self.last_engine_seq = self.last_engine_seq.max(seq);
    }

    /// Answers an order the engine will never execute (or did not answer in time).
    fn engine_unavailable(&mut self, p: Pending, now_ns: u64) {
        let reason = GatewayRejectReason::EngineUnavailable as u8;
        self.stats.reject(reason);
        let unsequenced = Stamp {
            seq: 0,
            timestamp_ns: self.link.wall_ns(now_ns),
        };
        let message = reject(unsequenced, p.kind, reason, p.client_order_id);
        self.send_unsequenced(p.sid, &message);
    }

    pub fn set_engine_up(&mut self, up: bool) {
        self.engine_up = up;
    }

    pub fn link_heartbeat(&mut self) {
        write_heartbeat(&mut self.engine_out);
    }

    pub fn take_engine_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.engine_out)
    }

    /// Parses every whole frame of the engine link's new bytes and routes the events.
    pub fn feed_engine(&mut self, data: &[u8], now_ns: u64) -> LinkOutcome {
        let mut outcome = LinkOutcome::default();
        let mut buf = std::mem::take(&mut self.link_in);
        buf.extend_from_slice(data);
        let mut used = 0;
        while outcome.goodbye.is_none() && outcome.not_leader.is_none() {
            let start = used;
            let body = match split_frame(&buf[used..], LengthPrefix::U32, LINK_FRAME_MAX) {
                Err(e) => {
                    outcome.error = Some(e.code());
                    return outcome;
                }
                Ok(None) => break,
                Ok(Some((body, n))) => {
                    used += n;
                    body
                }
            };
            let frame = &buf[start..used];
            match decode_from_engine(body) {
                Err(e) => {
                    outcome.error = Some(e.code());
                    return outcome;
                }
                Ok(FromEngine::Welcome { last_seq }) => {
                    // What lies between our last seq and the Welcome follows as history.
                    outcome.welcome = Some(last_seq);
                    if !self.link.welcome(last_seq, self.last_engine_seq) {
                        outcome.refused = true;
                        break;
                    }
                }
                Ok(FromEngine::Expired { correlation }) => {
                    if let Some(p) = self.link.expired(correlation) {
                        self.engine_unavailable(p, now_ns);
                    }
                }
                Ok(FromEngine::Heartbeat { time_ns }) => self.link.heard_engine_clock(time_ns),
                Ok(FromEngine::Goodbye { reason, detail }) => {
                    if reason == GoodbyeReason::HistoryUnavailable as u8 {
                        self.link.history_unavailable();
                    }
                    outcome.goodbye = Some((reason, detail));
                }
                Ok(FromEngine::NotLeader { leader_id, term }) => {
                    outcome.not_leader = Some((leader_id, term));
                }
                Ok(FromEngine::Events {
                    header,
                    events: raw,
                }) => {
                    if let Some(journal) = &mut self.journal {
                        journal.extend_from_slice(frame);
                    }
                    let waiting = self.link.waiting(header.correlation);
                    self.apply_events(&header, raw);
                    self.link.heard_engine_clock(header.timestamp_ns);
                    if let Some(p) = waiting.filter(|p| is_admin_kind(p.kind)) {
                        self.answer_admin(p, raw, header.timestamp_ns);
                    }
                    if header.last && header.correlation != 0 {
                        if let Some(t) = self.link.answered(header.correlation) {
                            self.stats.latency(now_ns.saturating_sub(t));
                        }
                    } else if header.correlation == 0 {
                        self.answer_from_another_link(raw, now_ns);
                    }
                }
            }
        }
        buf.drain(..used);
        self.link_in = buf;
        outcome
    }

    /// Answers an admin command from its events: done (DayEnded, HaltChanged) or
    /// refused (Rejected), to the session that sent it, with its request id.
    fn answer_admin(&mut self, p: Pending, raw: &[u8], timestamp_ns: u64) {
        let outcome = events(raw).flatten().find_map(|event| match event {
            Event::DayEnded { .. } | Event::HaltChanged { .. } => Some(0),
            Event::Rejected { reason, .. } => Some(reason as u8),
            _ => None,
        });
        if let Some(reason) = outcome {
            let stamp = Stamp {
                seq: 0,
                timestamp_ns,
            };
            let message = reject(stamp, p.kind, reason, p.client_order_id);
            self.send_unsequenced(p.sid, &message);
        }
    }

    /// Answers orders sent on an earlier link whose answers come on this one.
    fn answer_from_another_link(&mut self, raw: &[u8], now_ns: u64) {
        for event in events(raw).flatten() {
            let (account, kind, coid) = match event {
                Event::Accepted {
                    account,
                    client_order_id,
                    ..
                } => (account, CommandKind::NewOrder, client_order_id),
                Event::Rejected {
                    command,
                    account,
                    client_order_id,
                    ..
                } => (account, command, client_order_id),
                _ => continue,
            };
            if let Some(t) = self.link.answered_on_another_link(account, kind, coid) {
                self.stats.latency(now_ns.saturating_sub(t));
            }
        }
    }

    fn apply_events(&mut self, header: &EventsHeader, raw: &[u8]) {
        if self.last_engine_seq != 0 && header.seq > self.last_engine_seq + 1 {
            self.stats.engine_seq_gaps += header.seq - self.last_engine_seq - 1;
        }
        self.last_engine_seq = self.last_engine_seq.max(header.seq);
        let st = Stamp {
            seq: 0,
            timestamp_ns: header.timestamp_ns,
        };
        // The frame was checked whole when decoded: every event decodes.
        for event in events(raw).flatten() {
            self.stats.engine_events += 1;
            self.feeds.event(&event);
            self.route(&event, st);
        }
        if header.last && self.feeds.end_command(header.seq, header.timestamp_ns) {
            self.publish_feeds();
        }
    }

    /// Events frames routed since the last call, for the stream journal.
    pub fn take_journal_output(&mut self) -> Vec<u8> {
        self.journal
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Rebuilds the streams from a stream journal's frames, before any session exists.
    /// Returns how many bytes were whole frames; a torn or damaged tail is left out.
    pub fn restore(&mut self, bytes: &[u8]) -> usize {
        let mut used = 0;
        while let Ok(Some((body, n))) =
            split_frame(&bytes[used..], LengthPrefix::U32, LINK_FRAME_MAX)
        {
            let Ok(FromEngine::Events { header, events }) = decode_from_engine(body) else {
                break;
            };
            self.apply_events(&header, events);
            used += n;
        }
        used
    }

    fn push(&mut self, account: u32, build: impl FnOnce(u64) -> ServerMessage) {
        let capacity = self.limits.journal_messages;
        self.streams
            .entry(account)
            .or_insert_with(|| AccountStream::new(capacity))
            .push(build);
        self.mark_account(account);
    }

    fn route(&mut self, event: &Event, st: Stamp) {
        let at = |seq| Stamp { seq, ..st };
        match *event {
            Event::Accepted {
                order_id,
                account,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only,
                price,
                qty,
            } => {
                let s = |seq| ServerMessage::Accepted {
                    stamp: at(seq),
                    client_order_id,
                    order_id,
                    instrument,
                    side,
                    order_type,
                    time_in_force,
                    post_only,
                    price,
                    qty,
                };
                self.push(account, s);
                self.acked.insert(account, client_order_id);
            }
            Event::Rejected {
                command,
                account,
                client_order_id,
                reason,
            } => {
                if matches!(
                    command,
                    CommandKind::NewOrder
                        | CommandKind::Cancel
                        | CommandKind::Replace
                        | CommandKind::MassCancel
                ) {
                    self.stats.reject(reason as u8);
                    self.push(account, |seq| {
                        reject(at(seq), command, reason as u8, client_order_id)
                    });
                }
            }
            Event::Trade(t) => {
                let fill = |seq, coid, side, leaves, liquidity| ServerMessage::Executed {
                    stamp: at(seq),
                    client_order_id: coid,
                    match_id: t.match_id,
                    instrument: t.instrument,
                    side,
                    price: t.price,
                    qty: t.qty,
                    leaves,
                    liquidity,
                };
                let maker_side = t.aggressor_side.opposite();
                self.push(t.maker_account, |seq| {
                    fill(
                        seq,
                        t.maker_client_order_id,
                        maker_side,
                        t.maker_leaves,
                        Liquidity::Maker,
                    )
                });
                self.push(t.taker_account, |seq| {
                    fill(
                        seq,
                        t.taker_client_order_id,
                        t.aggressor_side,
                        t.taker_leaves,
                        Liquidity::Taker,
                    )
                });
            }
            Event::Cancelled {
                order_id: _,
                account,
                instrument,
                client_order_id,
                qty,
                reason,
            } => {
                self.cancelled(account, client_order_id, instrument, qty, reason as u8, st);
            }
            Event::Expired {
                order_id: _,
                account,
                instrument,
                client_order_id,
                qty,
            } => {
                let reason = CANCEL_REASON_EXPIRED;
                self.cancelled(account, client_order_id, instrument, qty, reason, st);
            }
            Event::Replaced {
                order_id: _,
                account,
                instrument,
                orig_client_order_id,
                client_order_id,
                price,
                qty,
                priority_kept,
            } => {
                self.push(account, |seq| ServerMessage::Replaced {
                    stamp: at(seq),
                    orig_client_order_id,
                    client_order_id,
                    instrument,
                    price,
                    qty,
                    priority_kept,
                });
                self.acked.insert(account, client_order_id);
            }
            Event::MassCancelled {
                account,
                instrument,
                count,
            } => {
                self.push(account, |seq| ServerMessage::MassCancelled {
                    stamp: at(seq),
                    instrument: instrument.unwrap_or(ALL_INSTRUMENTS),
                    count,
                });
            }
            Event::DayEnded { .. } => self.acked.clear(),
            Event::InstrumentAdded { .. }
            | Event::AccountAdded { .. }
            | Event::HaltChanged { .. } => self.reference_data(event, st),
        }
    }

    /// A listing, halt or resume goes into the stream of every account the engine
    /// opened, so a session that reconnects with replay misses none.
    fn reference_data(&mut self, event: &Event, st: Stamp) {
        let Some((instrument, update)) = self.instruments.event(event) else {
            return;
        };
        let Some(definition) = self.instruments.definition(instrument, st, update) else {
            return;
        };
        for account in self.instruments.accounts() {
            self.push(account, |seq| {
                let mut message = definition;
                if let ServerMessage::InstrumentDefinition { stamp, .. } = &mut message {
                    stamp.seq = seq;
                }
                message
            });
        }
    }

    fn cancelled(
        &mut self,
        account: u32,
        coid: u64,
        instrument: u32,
        qty: u64,
        reason: u8,
        st: Stamp,
    ) {
        self.push(account, |seq| ServerMessage::Cancelled {
            stamp: Stamp { seq, ..st },
            client_order_id: coid,
            instrument,
            qty,
            reason,
        });
    }

    fn market_data(&mut self, instrument: u32, message: &ServerMessage) {
        if let Some(list) = self.subscribers.get(&instrument) {
            for sid in list.clone() {
                self.send_unsequenced(sid, message);
            }
        }
    }

    /// The feed messages of the commands received since the last call go to the feed
    /// subscribers, their TradeReports and TopOfBook changes to the top-of-book
    /// subscribers. Called once the answers to the orders are written, so building
    /// and queueing the feeds never delays them.
    pub fn publish_feeds(&mut self) {
        let mut tops = Vec::new();
        for sid in self.feeds.publish(&mut tops) {
            self.mark(sid);
        }
        for (instrument, message) in &tops {
            self.market_data(*instrument, message);
        }
    }
}

fn is_admin_kind(kind: CommandKind) -> bool {
    matches!(kind, CommandKind::EndOfDay | CommandKind::SetHalted)
}

/// A refused command as the client sees it: CancelRejected for a cancel, AdminResult
/// (`client_order_id` is then the request id) for an admin command, else Rejected.
fn reject(stamp: Stamp, command: CommandKind, reason: u8, client_order_id: u64) -> ServerMessage {
    if is_admin_kind(command) {
        ServerMessage::AdminResult {
            timestamp_ns: stamp.timestamp_ns,
            request_id: client_order_id,
            command,
            reason,
        }
    } else if command == CommandKind::Cancel {
        ServerMessage::CancelRejected {
            stamp,
            client_order_id,
            reason,
        }
    } else {
        ServerMessage::Rejected {
            stamp,
            command,
            reason,
            client_order_id,
        }
    }
}
