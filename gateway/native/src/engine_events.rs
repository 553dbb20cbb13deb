//! The engine link's inbound side: frames split and decoded, Welcome, Expired,
//! Goodbye and NotLeader reported, events frames journaled and applied, orders answered;
//! the outbound side's Resume and heartbeats.

use ringex_core::{CommandKind, Event};
use ringex_protocol::client::Stamp;
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{
    decode_from_engine, events, EventsHeader, FromEngine, GoodbyeReason, LINK_FRAME_MAX,
};

use crate::engine_link_state::Pending;
use crate::gateway::Core;
use crate::order_entry::{is_admin_kind, reject};

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

impl Core {
    /// A new engine link connected: forget the old one's partial frame and open the new
    /// one with a Resume after the last sequence number seen. Orders still waiting are
    /// answered by their events, which come back as history without our correlation, or
    /// once that history has arrived without them (`EngineLinkState`).
    pub fn link_reset(&mut self) {
        self.link_in.clear();
        let from = self.link.resume_from(self.last_engine_seq);
        self.to_engine.reset(from);
    }

    /// Raises the last sequence number seen to one persisted by an earlier run.
    pub fn note_engine_seq(&mut self, seq: u64) {
        self.last_engine_seq = self.last_engine_seq.max(seq);
    }

    /// The link's connection is gone: orders are refused until the next Welcome.
    pub fn link_down(&mut self) {
        self.to_engine.down();
    }

    pub fn link_heartbeat(&mut self) {
        self.to_engine.heartbeat();
    }

    pub fn take_engine_output(&mut self) -> Vec<u8> {
        self.to_engine.take()
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
                    self.to_engine.welcomed();
                }
                Ok(FromEngine::Expired { correlation }) => {
                    if let Some(p) = self.link.expired(correlation) {
                        self.engine_unavailable(p, now_ns);
                    }
                }
                Ok(FromEngine::Heartbeat { time_ns }) => self.link.heard_engine_clock(time_ns),
                Ok(FromEngine::Goodbye { reason, detail }) => {
                    if reason == GoodbyeReason::HistoryUnavailable {
                        self.link.history_unavailable();
                    }
                    outcome.goodbye = Some((reason as u8, detail));
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
            self.sessions.send(p.sid, &message);
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

    pub(crate) fn apply_events(&mut self, header: &EventsHeader, raw: &[u8]) {
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
}
