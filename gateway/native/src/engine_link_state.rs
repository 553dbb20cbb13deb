//! What the gateway knows about its engine link beyond the bytes: the orders waiting for
//! the engine's answer, the bound within which every one of them is answered, the
//! deadline stamped on each so a stalled engine never executes one later, and whether
//! the engine went back in time.
//!
//! Every order sent is stamped with a deadline: its Unix-epoch send time plus the answer
//! bound, less an allowance for the time between sequencing and durability. The engine
//! drops an input whose deadline passed before it was sequenced. An order unanswered at
//! its bound is answered `EngineUnavailable` only once the engine's own clock, heard on
//! the link, has passed the bound: an events frame sequenced at or after it, or a
//! heartbeat (which the engine sends only with nothing queued for the link). Frames come
//! in order, so by then the order's events would have arrived had it been sequenced
//! before its deadline and made durable within the allowance; a slower journal makes
//! them arrive after the answer, and they are counted as late answers. A link that stalls
//! on the way back is thus never taken for an engine that dropped the order.
//!
//! After a relink (to the same engine, or to a new leader after a failover) the answer
//! to an order sent on an earlier link arrives with correlation 0: as history, or live
//! when the engine read the order from the old link's buffer after the new link opened.
//! Such an answer is matched to the waiting order by account, command and client order
//! id, so the order is answered once, by the engine, instead of again at the bound.
//!
//! An order whose link went down before its answer is in doubt: a leader may have
//! sequenced it and replicated it without committing it, and the next leader then
//! commits it. It waits, past the bound, until its fate is known: a link is welcomed
//! again (a serving node has applied its whole log, so every entry that will ever commit
//! from an earlier term is at or below the Welcome's sequence number), the history up to
//! that Welcome has arrived, and the engine's clock has passed the order's bound on the
//! new link (the old link's buffer may still hold it). An order not answered by then was
//! never sequenced, and its deadline keeps it so: it is answered `EngineUnavailable`.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use ringex_core::CommandKind;
use ringex_protocol::link::{write_timed_input_with, ResumeFrom};
use ringex_protocol::session::GatewayRejectReason;

/// Orders answered at the bound whose events may still come, remembered to count late
/// answers; past this many the oldest knowledge is dropped (the count then undercounts).
const ANSWERED_AT_BOUND_MAX: usize = 65_536;

/// An order on its way to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub arrival_ns: u64,
    pub sid: u64,
    pub account: u32,
    pub kind: CommandKind,
    pub client_order_id: u64,
}

/// An order as its answer names it: account, command and client order id.
type OrderKey = (u32, CommandKind, u64);

/// An order sent and not yet answered, with the number of the link that carried it.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    order: Pending,
    link: u64,
}

/// The link the engine welcomed, and the sequence number its history reaches.
#[derive(Clone, Copy, Debug)]
struct Welcomed {
    link: u64,
    history_to_seq: u64,
}

impl Pending {
    fn key(&self) -> OrderKey {
        (self.account, self.kind, self.client_order_id)
    }
}

/// Counters for the metrics endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// Orders answered `EngineUnavailable` because the bound passed with no answer.
    pub answer_timeouts: u64,
    /// Expired notices: orders the engine dropped unsequenced, past their deadline.
    pub expired: u64,
    /// Orders answered at the bound whose events arrived afterwards.
    pub late_answers: u64,
    /// Links refused because the engine was behind what this gateway had seen.
    pub regressions: u64,
    /// Orders past the bound still waiting, because their link went down before an
    /// answer (see the module's notes); set by each `overdue`.
    pub in_doubt: u64,
}

pub struct EngineLinkState {
    pending: HashMap<u64, Waiting>,
    /// The correlation and link of each waiting order, by account, command and client
    /// order id.
    pending_by_order: HashMap<OrderKey, (u64, u64)>,
    answered_at_bound: HashSet<u64>,
    /// The same orders by account, command and client order id, for answers that come
    /// on another link.
    answered_at_bound_by_order: HashSet<OrderKey>,
    /// Counts links: orders sent on an earlier one are answered with correlation 0.
    link_number: u64,
    /// Set once the current link's Welcome is accepted; cleared when a link opens.
    welcomed: Option<Welcomed>,
    /// The current link opened live (the history was gone): nothing to wait for.
    opened_live: bool,
    /// The latest Unix-epoch engine time heard on the current link (0: none yet).
    engine_clock_ns: u64,
    answer_bound_ns: u64,
    deadline_allowance_ns: u64,
    /// Unix-epoch time minus the monotonic clock the caller passes as `now_ns`.
    clock_offset_ns: i64,
    /// Set while the engine's last sequence is below what this gateway has seen:
    /// `(engine's, ours)`.
    regressed: Option<(u64, u64)>,
    /// The engine said it cannot serve the history asked for: the next link opens live
    /// (the missed sequence numbers are counted as gaps) rather than retry forever.
    history_lost: bool,
    pub counters: LinkCounters,
}

impl EngineLinkState {
    /// `answer_bound_ns` 0 turns deadlines and the answer timer off.
    pub fn new(answer_bound_ns: u64, deadline_allowance_ns: u64) -> EngineLinkState {
        assert!(answer_bound_ns == 0 || deadline_allowance_ns < answer_bound_ns);
        EngineLinkState {
            pending: HashMap::new(),
            pending_by_order: HashMap::new(),
            answered_at_bound: HashSet::new(),
            answered_at_bound_by_order: HashSet::new(),
            link_number: 0,
            welcomed: None,
            opened_live: false,
            engine_clock_ns: 0,
            answer_bound_ns,
            deadline_allowance_ns,
            clock_offset_ns: 0,
            regressed: None,
            history_lost: false,
            counters: LinkCounters::default(),
        }
    }

    /// The engine's clock as a frame on the current link shows it: an events frame's
    /// sequencing time or a heartbeat's time (0 in a heartbeat claims nothing).
    pub fn heard_engine_clock(&mut self, time_ns: u64) {
        self.engine_clock_ns = self.engine_clock_ns.max(time_ns);
    }

    pub fn set_clock_offset(&mut self, offset_ns: i64) {
        self.clock_offset_ns = offset_ns;
    }

    /// The gateway's Unix-epoch time at monotonic `now_ns`: the clock of its own answers.
    pub fn wall_ns(&self, now_ns: u64) -> u64 {
        let wall = i128::from(now_ns) + i128::from(self.clock_offset_ns);
        u64::try_from(wall.max(0)).unwrap_or(u64::MAX)
    }

    /// How long an order may wait for the engine before it is answered
    /// `EngineUnavailable` (0: no bound).
    pub fn answer_bound_ns(&self) -> u64 {
        self.answer_bound_ns
    }

    /// The order waiting for `correlation`'s answer, if one is.
    pub fn waiting(&self, correlation: u64) -> Option<Pending> {
        self.pending.get(&correlation).map(|w| w.order)
    }

    /// Why order entry is refused now, if it is.
    pub fn refusal(&self, engine_up: bool) -> Option<GatewayRejectReason> {
        if self.regressed.is_some() {
            Some(GatewayRejectReason::EngineBehind)
        } else if !engine_up {
            Some(GatewayRejectReason::EngineUnavailable)
        } else {
            None
        }
    }

    pub fn regressed(&self) -> Option<(u64, u64)> {
        self.regressed
    }

    /// The engine no longer holds the history after our last sequence number.
    pub fn history_unavailable(&mut self) {
        self.history_lost = true;
    }

    /// The opening frame's position: after everything seen (from the first sequence
    /// number for a gateway that has seen nothing: its market data books are rebuilt
    /// from the whole history), or live for one told the history is gone.
    pub fn resume_from(&mut self, last_seen_seq: u64) -> ResumeFrom {
        self.link_number += 1;
        self.welcomed = None;
        self.engine_clock_ns = 0;
        self.opened_live = std::mem::take(&mut self.history_lost);
        if self.opened_live {
            ResumeFrom::Live
        } else {
            ResumeFrom::After(last_seen_seq)
        }
    }

    /// The engine's Welcome: true if the link may be used. An engine below what this
    /// gateway has seen lost acknowledged history; it is refused until it is not.
    pub fn welcome(&mut self, engine_seq: u64, last_seen_seq: u64) -> bool {
        if engine_seq < last_seen_seq {
            self.counters.regressions += 1;
            self.regressed = Some((engine_seq, last_seen_seq));
            return false;
        }
        self.regressed = None;
        self.welcomed = Some(Welcomed {
            link: self.link_number,
            // Opened live there is no history to wait for: what the engine holds of
            // the earlier links' orders can no longer be learnt.
            history_to_seq: if self.opened_live { 0 } else { engine_seq },
        });
        true
    }

    /// Writes an order input, with its deadline when the bound is on.
    pub fn write_input(
        &mut self,
        out: &mut Vec<u8>,
        correlation: u64,
        pending: Pending,
        body: impl FnOnce(&mut Vec<u8>),
    ) {
        let deadline_ns = self.deadline_ns(pending.arrival_ns);
        write_timed_input_with(out, correlation, deadline_ns, body);
        let link = self.link_number;
        self.pending.insert(
            correlation,
            Waiting {
                order: pending,
                link,
            },
        );
        self.pending_by_order
            .insert(pending.key(), (correlation, self.link_number));
    }

    fn take_pending(&mut self, correlation: u64) -> Option<Pending> {
        let p = self.pending.remove(&correlation)?.order;
        let key = p.key();
        if self.pending_by_order.get(&key).map(|e| e.0) == Some(correlation) {
            self.pending_by_order.remove(&key);
        }
        Some(p)
    }

    /// A sequenced answer to `(account, kind, client_order_id)` that came with
    /// correlation 0: if it answers an order of ours still waiting that was sent on an
    /// earlier link, that order's arrival time (it is answered now). An order answered
    /// at the bound already is counted as a late answer.
    pub fn answered_on_another_link(
        &mut self,
        account: u32,
        kind: CommandKind,
        client_order_id: u64,
    ) -> Option<u64> {
        let key = (account, kind, client_order_id);
        if let Some(&(correlation, link)) = self.pending_by_order.get(&key) {
            if link < self.link_number {
                return self.take_pending(correlation).map(|p| p.arrival_ns);
            }
        }
        if self.answered_at_bound_by_order.remove(&key) {
            self.counters.late_answers += 1;
        }
        None
    }

    fn deadline_ns(&self, now_ns: u64) -> u64 {
        if self.answer_bound_ns == 0 {
            return 0;
        }
        let wall = i128::from(self.wall_ns(now_ns));
        let deadline = wall + i128::from(self.answer_bound_ns - self.deadline_allowance_ns);
        u64::try_from(deadline.max(1)).unwrap_or(u64::MAX)
    }

    /// The last events frame of `correlation` arrived: its arrival time, if it was
    /// still waiting.
    pub fn answered(&mut self, correlation: u64) -> Option<u64> {
        if let Some(p) = self.take_pending(correlation) {
            return Some(p.arrival_ns);
        }
        if self.answered_at_bound.remove(&correlation) {
            self.counters.late_answers += 1;
        }
        None
    }

    /// The engine dropped `correlation` past its deadline: the order to answer now, if
    /// it was not answered at the bound already.
    pub fn expired(&mut self, correlation: u64) -> Option<Pending> {
        self.counters.expired += 1;
        self.answered_at_bound.remove(&correlation);
        self.take_pending(correlation)
    }

    /// Orders whose bound passed with no answer and whose fate is known, oldest first;
    /// they are answered now. `engine_up`: the current link is up; `last_seen_seq`: the
    /// highest engine sequence number received. Orders in doubt wait (module notes).
    pub fn overdue(&mut self, now_ns: u64, engine_up: bool, last_seen_seq: u64) -> Vec<Pending> {
        if self.answer_bound_ns == 0 {
            return Vec::new();
        }
        let bound = self.answer_bound_ns;
        let engine_clock_ns = self.engine_clock_ns;
        let settled = |w: &Waiting| match self.welcomed {
            Some(welcomed) if engine_up => {
                engine_clock_ns >= self.wall_ns(w.order.arrival_ns.saturating_add(bound))
                    && (w.link == welcomed.link || last_seen_seq >= welcomed.history_to_seq)
            }
            _ => false,
        };
        let mut in_doubt = 0;
        let mut late: Vec<(u64, Pending)> = Vec::new();
        for (&c, w) in &self.pending {
            if now_ns.saturating_sub(w.order.arrival_ns) < bound {
                continue;
            }
            if settled(w) {
                late.push((c, w.order));
            } else {
                in_doubt += 1;
            }
        }
        self.counters.in_doubt = in_doubt;
        late.sort_unstable_by_key(|(c, _)| *c);
        for (c, p) in &late {
            self.take_pending(*c);
            if self.answered_at_bound.len() >= ANSWERED_AT_BOUND_MAX {
                self.answered_at_bound.clear();
                self.answered_at_bound_by_order.clear();
            }
            self.answered_at_bound.insert(*c);
            self.answered_at_bound_by_order.insert(p.key());
        }
        self.counters.answer_timeouts += late.len() as u64;
        late.into_iter().map(|(_, p)| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(arrival_ns: u64) -> Pending {
        Pending {
            arrival_ns,
            sid: 1,
            account: 4,
            kind: CommandKind::NewOrder,
            client_order_id: 9,
        }
    }

    #[test]
    fn every_order_is_answered_by_the_bound_and_late_events_are_counted() {
        let mut s = EngineLinkState::new(1_000, 100);
        s.set_clock_offset(5_000);
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        let mut out = Vec::new();
        s.write_input(&mut out, 1, order(10), |_| {});
        s.write_input(&mut out, 2, order(20), |_| {});
        // Deadline: 10 + 5000 + 1000 - 100.
        assert_eq!(out[4 + 1 + 8..4 + 1 + 16], 5_910u64.to_le_bytes());
        assert!(s.overdue(1_009, true, 0).is_empty());
        // Past the bound, the order waits for the engine's clock to pass it too.
        s.heard_engine_clock(6_009);
        assert!(s.overdue(1_015, true, 0).is_empty());
        assert_eq!(s.counters.in_doubt, 1);
        s.heard_engine_clock(6_010);
        assert_eq!(s.overdue(1_015, true, 0), vec![order(10)]);
        assert_eq!(s.counters.in_doubt, 0);
        assert_eq!(s.answered(2), Some(20));
        assert_eq!(s.answered(1), None);
        assert_eq!(s.counters.late_answers, 1);
        assert_eq!(s.counters.answer_timeouts, 1);
        s.write_input(&mut out, 3, order(30), |_| {});
        assert_eq!(s.expired(3), Some(order(30)));
        assert_eq!(s.expired(3), None);
        assert_eq!(s.counters.expired, 2);
    }

    #[test]
    fn an_engine_behind_the_gateway_is_refused_until_it_is_not() {
        let mut s = EngineLinkState::new(0, 0);
        assert_eq!(s.resume_from(0), ResumeFrom::After(0));
        assert_eq!(s.resume_from(7), ResumeFrom::After(7));
        s.history_unavailable();
        assert_eq!(s.resume_from(7), ResumeFrom::Live);
        assert_eq!(s.resume_from(7), ResumeFrom::After(7));
        assert!(s.welcome(10, 10));
        assert_eq!(s.refusal(true), None);
        assert!(!s.welcome(3, 10));
        assert_eq!(s.refusal(true), Some(GatewayRejectReason::EngineBehind));
        assert_eq!(s.counters.regressions, 1);
        assert!(s.welcome(12, 10));
        assert_eq!(
            s.refusal(false),
            Some(GatewayRejectReason::EngineUnavailable)
        );
    }

    #[test]
    fn an_answer_for_an_order_of_an_earlier_link_answers_it_once() {
        let mut s = EngineLinkState::new(1_000, 100);
        let mut out = Vec::new();
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        s.write_input(&mut out, 1, order(10), |_| {});
        s.write_input(
            &mut out,
            2,
            Pending {
                client_order_id: 10,
                ..order(20)
            },
            |_| {},
        );
        // On the link that sent it, an order is answered by its correlation only.
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 9),
            None
        );
        s.resume_from(40);
        assert!(s.welcome(40, 40));
        // Another command's answer matches nothing.
        assert_eq!(s.answered_on_another_link(4, CommandKind::Cancel, 9), None);
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 9),
            Some(10)
        );
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 9),
            None
        );
        assert_eq!(s.answered(1), None);
        // Answered at the bound first: the answer through the new link is a late one.
        s.heard_engine_clock(1_020);
        assert_eq!(
            s.overdue(2_000, true, 40),
            vec![Pending {
                client_order_id: 10,
                ..order(20)
            }]
        );
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 10),
            None
        );
        assert_eq!(s.counters.late_answers, 1);
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 10),
            None
        );
        assert_eq!(s.counters.late_answers, 1);
    }

    #[test]
    fn an_order_whose_link_went_down_waits_for_the_next_welcome_and_its_history() {
        let mut s = EngineLinkState::new(1_000, 100);
        let mut out = Vec::new();
        s.resume_from(0);
        assert!(s.welcome(5, 0));
        s.write_input(&mut out, 1, order(10), |_| {});
        // The link is down past the bound: a leader may still commit the order.
        assert!(s.overdue(5_000, false, 5).is_empty());
        assert_eq!(s.counters.in_doubt, 1);
        // A new link opens; until its Welcome, and then its history, nothing is known.
        s.resume_from(5);
        assert!(s.overdue(6_000, false, 5).is_empty());
        assert!(s.welcome(9, 5));
        assert!(s.overdue(6_000, true, 8).is_empty());
        assert_eq!(s.counters.in_doubt, 1);
        // The history reached the Welcome without the order, but the old link's buffer
        // may still hold it until the engine's clock on the new link passes its bound.
        assert!(s.overdue(6_000, true, 9).is_empty());
        s.heard_engine_clock(1_010);
        assert_eq!(s.overdue(6_000, true, 9), vec![order(10)]);
        assert_eq!(s.counters.in_doubt, 0);
        assert_eq!(s.counters.answer_timeouts, 1);
    }

    #[test]
    fn an_order_in_doubt_answered_by_the_new_leaders_history_is_answered_once() {
        let mut s = EngineLinkState::new(1_000, 100);
        let mut out = Vec::new();
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        s.write_input(&mut out, 1, order(10), |_| {});
        s.resume_from(0);
        assert!(s.overdue(3_000, false, 0).is_empty());
        assert!(s.welcome(4, 0));
        // Its execution comes as history, with correlation 0.
        assert_eq!(
            s.answered_on_another_link(4, CommandKind::NewOrder, 9),
            Some(10)
        );
        assert!(s.overdue(3_000, true, 4).is_empty());
        assert_eq!(s.counters.answer_timeouts, 0);
        assert_eq!(s.counters.late_answers, 0);
    }

    #[test]
    fn opened_live_there_is_no_history_to_wait_for() {
        let mut s = EngineLinkState::new(1_000, 100);
        let mut out = Vec::new();
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        s.write_input(&mut out, 1, order(10), |_| {});
        s.history_unavailable();
        assert_eq!(s.resume_from(0), ResumeFrom::Live);
        assert!(s.welcome(50, 0));
        s.heard_engine_clock(2_000);
        assert_eq!(s.overdue(3_000, true, 0), vec![order(10)]);
    }

    #[test]
    fn a_link_stalled_on_the_way_back_is_not_taken_for_a_dropped_order() {
        let mut s = EngineLinkState::new(1_000, 100);
        let mut out = Vec::new();
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        s.heard_engine_clock(900);
        s.write_input(&mut out, 1, order(10), |_| {});
        // Nothing from the engine since: the order may be executed and its answer held.
        assert!(s.overdue(5_000, true, 0).is_empty());
        // The engine's answer arrives after the bound, once: no timeout was answered.
        assert_eq!(s.answered(1), Some(10));
        assert_eq!(s.counters.answer_timeouts, 0);
        assert_eq!(s.counters.late_answers, 0);
        // The clock heard on one link says nothing on the next.
        s.write_input(&mut out, 2, order(20), |_| {});
        s.heard_engine_clock(5_000);
        s.resume_from(0);
        assert!(s.welcome(0, 0));
        assert!(s.overdue(5_000, true, 0).is_empty());
    }
}
