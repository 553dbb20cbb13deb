//! The leader's sequencer in a cluster: takes inputs off the input ring in batches,
//! stamps them (seq and time are given once, here, so every replica replays the same
//! thing) and proposes each batch as one Raft entry. openraft appends it with one
//! fsync, replicates it, and once a majority has it durable, every node's state
//! machine applies it; only then do its events leave (see [`super::state_machine`]).
//!
//! Throughput comes from batching: while an entry is on its way, the input ring
//! gathers everything after it into the next. When the proposer may propose again
//! depends on whether this node is the only voter (see [`Pace`]); either way it paces
//! by what is committed ([`super::committed_seq`]), and events leave only once applied.
//!
//! A node that is not serving (a follower, or a leader not yet caught up with its own
//! term) sequences nothing: an input that reaches it is answered Expired on its link,
//! which tells the gateway it was never sequenced. On a new term the sequencer
//! continues from the engine's last applied seq and timestamp, which is exact then
//! (see [`super::leadership`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use openraft::raft::responder::Responder;
use openraft::{Raft, RaftTypeConfig};
use ringex_protocol::Input;
use tokio::runtime::Handle;

use super::committed_seq::CommittedSeq;
use super::input_batch::{InputBatch, StampedInput};
use super::leadership::Leadership;
use super::origins::{Origin, Origins};
use super::state_machine::EngineView;
use super::type_config::RingexRaft;
use crate::expiry::ExpiryNotices;
use crate::input_ring::{InputReceiver, LinkInput, DAEMON_LINK};
use crate::progress::Progress;
use crate::sequencer::Sequencer;

/// How often an idle proposer looks at its leadership (for the first start's inputs).
const IDLE_CHECK: Duration = Duration::from_millis(50);
/// When the proposer may propose again. Applying runs behind commit, as the matcher
/// always ran behind the journal, so the disk does not wait for the matcher; how far
/// it may run behind is bounded, and a slow matcher or quorum pushes back on the links
/// through the input ring instead of growing memory.
struct Pace {
    /// Propose again once the entry before the last is committed, so one entry waits
    /// behind the one being made durable (else: once the last is committed).
    one_waiting_behind: bool,
    /// Entries proposed and not yet applied, at most, once a proposal returns.
    unapplied_max: usize,
}

impl Pace {
    /// A lone voter commits an entry as soon as its own fsync returns: one entry
    /// waiting behind keeps the disk busy, and the matcher may run eight entries
    /// behind (the old journal's matcher queue held as many batches).
    const LONE: Pace = Pace {
        one_waiting_behind: true,
        unapplied_max: ENTRIES_UNAPPLIED_MAX,
    };
    /// With followers, an entry waiting behind would hold back the commit of the one
    /// before it (see [`super::committed_seq`]). Entries then go one at a time, each
    /// gathering only what arrived during one round, so a matcher allowed to fall
    /// several of them behind would add their apply time to every ack: it may be one
    /// entry behind (with eight, the 3-node p99 at 100k/s measured 2-3 times as long).
    const CLUSTER: Pace = Pace {
        one_waiting_behind: false,
        unapplied_max: 1,
    };
}

/// Entries proposed and not yet applied, at most: what the table of origins is sized
/// for.
pub const ENTRIES_UNAPPLIED_MAX: usize = 8;
/// How long the proposer waits on an entry before it looks at its leadership again.
const ANSWER_CHECK: Duration = Duration::from_millis(20);

/// What openraft answers a proposal with once it is applied (or failed).
type Answer = <<RingexRaft as RaftTypeConfig>::Responder as Responder<RingexRaft>>::Receiver;

/// How the proposer ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ProposerEnd {
    /// A Shutdown input: this node stops (it is not proposed; the cluster goes on).
    Shutdown,
    /// Every producer went away, or openraft stopped.
    Drained,
}

pub struct Proposer {
    pub raft: Raft<RingexRaft>,
    pub runtime: Handle,
    pub inputs: InputReceiver,
    pub leadership: Arc<Leadership>,
    /// How far this node's log is committed, to pace entries by.
    pub committed: CommittedSeq,
    pub engine: EngineView,
    pub origins: Arc<Origins>,
    pub progress: Arc<Progress>,
    pub expiries: Arc<ExpiryNotices>,
    pub batch_max: usize,
    /// Raised when this node stops taking inputs, so links and listeners wind down.
    pub stopping: Arc<AtomicBool>,
    /// Inputs the first leader of an empty cluster submits (instruments, accounts).
    pub bootstrap: Vec<Input>,
}

/// The sequencer of one term of leadership.
struct Tenure {
    term: u64,
    sequencer: Sequencer,
    /// The last seq proposed in this tenure.
    proposed_seq: u64,
    /// The last seq of the entry proposed before the newest (0: none).
    previous_seq: u64,
    /// Answers of the entries proposed and not yet applied, oldest first.
    in_flight: VecDeque<Answer>,
}

impl Proposer {
    pub fn run(mut self) -> ProposerEnd {
        // Every input in flight keeps a slot of the origin table until it is applied.
        self.batch_max = self
            .batch_max
            .min(self.origins.capacity() / (ENTRIES_UNAPPLIED_MAX + 1));
        let end = self.propose_loop();
        self.stopping.store(true, Ordering::Release);
        end
    }

    fn propose_loop(&mut self) -> ProposerEnd {
        let mut tenure: Option<Tenure> = None;
        loop {
            if self.leadership.is_stopped() {
                return ProposerEnd::Drained;
            }
            let first = match self.inputs.recv_timeout(IDLE_CHECK) {
                Ok(item) => Some(item),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return ProposerEnd::Drained,
            };
            if first.is_some_and(|f| f.input == Input::Shutdown) {
                return self.settle(tenure.as_mut());
            }
            let Some(term) = self.leadership.serving_term() else {
                if let Some(item) = first {
                    self.expiries.unsequenced(&item, "this node does not lead");
                }
                tenure = None;
                continue;
            };
            let t = match &mut tenure {
                Some(t) if t.term == term => t,
                _ => tenure.insert(self.begin_tenure(term)),
            };
            if !self.bootstrap.is_empty() && t.proposed_seq == 0 {
                let items = std::mem::take(&mut self.bootstrap)
                    .into_iter()
                    .map(daemon_input)
                    .collect::<Vec<_>>();
                tracing::info!(
                    inputs = items.len(),
                    "empty cluster: configured instruments and accounts submitted"
                );
                if !self.propose(t, items) {
                    return ProposerEnd::Drained;
                }
            }
            let Some(first) = first else { continue };
            let mut items = vec![first];
            let mut shutdown = false;
            while items.len() < self.batch_max {
                match self.inputs.try_recv() {
                    Ok(next) if next.input == Input::Shutdown => {
                        shutdown = true;
                        break;
                    }
                    Ok(next) => items.push(next),
                    Err(_) => break,
                }
            }
            if !self.propose(t, items) {
                return ProposerEnd::Drained;
            }
            if shutdown {
                return self.settle(Some(t));
            }
        }
    }

    /// This node leads in `term` and has applied every earlier entry: stamping
    /// continues from the engine's state, exactly.
    fn begin_tenure(&self, term: u64) -> Tenure {
        let (last_seq, last_timestamp_ns) = self.engine.last_seq_and_timestamp();
        tracing::info!(term, last_seq, "serving as leader: sequencing from here");
        Tenure {
            term,
            sequencer: Sequencer::resume(last_seq, last_timestamp_ns),
            proposed_seq: last_seq,
            previous_seq: 0,
            in_flight: VecDeque::with_capacity(ENTRIES_UNAPPLIED_MAX + 1),
        }
    }

    /// Stamps and proposes one batch; false once openraft has stopped for good.
    fn propose(&self, tenure: &mut Tenure, items: Vec<LinkInput>) -> bool {
        let mut batch = InputBatch::default();
        let mut origins = Vec::with_capacity(items.len());
        for item in items {
            let Some((seq, timestamp_ns)) = tenure.sequencer.stamp_unless_expired(item.deadline_ns)
            else {
                self.expiries
                    .unsequenced(&item, "its deadline passed before sequencing");
                continue;
            };
            batch.push(&StampedInput {
                seq,
                timestamp_ns,
                input: item.input,
            });
            origins.push(Origin {
                seq,
                link: item.link,
                correlation: item.correlation,
            });
        }
        let Some(last) = origins.last().map(|o| o.seq) else {
            return true;
        };
        self.origins.record(tenure.term, &origins);
        tenure.previous_seq = tenure.proposed_seq;
        tenure.proposed_seq = last;
        // The answer is the applied seq, which the state machine publishes itself: a
        // proposal the next leader drops is answered by the gateway's bound instead.
        match self.runtime.block_on(self.raft.client_write_ff(batch)) {
            Ok(answer) => tenure.in_flight.push_back(answer),
            Err(fatal) => {
                tracing::error!(error = %fatal, "raft stopped: proposing no more");
                return false;
            }
        }
        self.wait_for_room(tenure);
        true
    }

    /// A stopping leader answers what it proposed: every entry in flight is applied,
    /// and so published, before the links are closed behind it.
    fn settle(&self, tenure: Option<&mut Tenure>) -> ProposerEnd {
        if let Some(t) = tenure {
            self.wait_until_in_flight_at_most(t, 0);
        }
        ProposerEnd::Shutdown
    }

    /// Whether this node is the only voter, so commit follows its own fsync at once
    /// (membership may change under load: asked for every entry).
    fn is_lone_voter(&self) -> bool {
        let metrics = self.raft.metrics();
        let voters = metrics
            .borrow()
            .membership_config
            .membership()
            .voter_ids()
            .count();
        voters == 1
    }

    /// Waits as [`Pace`] says for this node's cluster.
    fn wait_for_room(&self, tenure: &mut Tenure) {
        let pace = if self.is_lone_voter() {
            Pace::LONE
        } else {
            Pace::CLUSTER
        };
        let upto = if pace.one_waiting_behind {
            tenure.previous_seq
        } else {
            tenure.proposed_seq
        };
        self.wait_until_committed(tenure, upto);
        self.wait_until_in_flight_at_most(tenure, pace.unapplied_max);
    }

    /// Waits until every input through `seq` is committed, or this node stops serving
    /// (its entries will fail or be another leader's to commit).
    fn wait_until_committed(&self, tenure: &Tenure, seq: u64) {
        while !self.committed.wait_for(&self.runtime, seq, ANSWER_CHECK) {
            if self.leadership.serving_term() != Some(tenure.term) {
                return;
            }
        }
    }

    /// Waits until at most `in_flight_max` entries are unapplied, or this node stops
    /// serving (its entries will fail or be another leader's to commit).
    fn wait_until_in_flight_at_most(&self, tenure: &mut Tenure, in_flight_max: usize) {
        while tenure.in_flight.len() > in_flight_max {
            let oldest = tenure
                .in_flight
                .front_mut()
                .expect("more than in_flight_max in flight");
            let answered = self
                .runtime
                .block_on(async { tokio::time::timeout(ANSWER_CHECK, oldest).await });
            if answered.is_ok() {
                tenure.in_flight.pop_front();
            } else if self.leadership.serving_term() != Some(tenure.term) {
                tenure.in_flight.clear();
                return;
            }
        }
    }
}

fn daemon_input(input: Input) -> LinkInput {
    LinkInput {
        link: DAEMON_LINK,
        correlation: 0,
        deadline_ns: 0,
        input,
    }
}
