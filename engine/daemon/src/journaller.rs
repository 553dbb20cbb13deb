//! The journaller stage: takes inputs off the input ring in batches, has the sequencer
//! stamp them, appends them to the journal and commits the batch under the durability
//! policy (one fsync for the whole batch: group commit), then hands the batch to the
//! matcher.
//!
//! The matcher runs behind the journaller, not beside it. An LMAX-style pipeline could
//! match in parallel and hold the events back until the durable watermark passes them,
//! but then the matcher's state runs ahead of the journal, and a snapshot taken from it
//! could hold inputs a crash would lose. Gated, everything the matcher has seen is
//! durable: its events can leave at once and any snapshot it takes is one recovery can
//! reach. Throughput does not suffer: while the journal syncs one batch, the matcher
//! applies the previous one and the ring fills with the next.
//!
//! On a clean ending (a Shutdown input, or every producer gone) the journal is closed
//! with an exact, synced durable mark; a thread beside it syncs the mark lazily while
//! running (see [`crate::journal::durable_mark`]).
//!
//! After a journal error the stage stops for good (fail-stop): the batch in hand is
//! never forwarded, so none of it is acknowledged, and the daemon exits non-zero.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Sender, TryRecvError};
use ringex_protocol::Input;

use crate::config::WaitStrategy;
use crate::expiry::ExpiryNotices;
use crate::input_ring::{InputReceiver, LinkId, LinkInput};
use crate::journal::{JournalError, JournalWriter};
use crate::progress::Progress;
use crate::sequencer::Sequencer;
use crate::storage::FileStorage;

/// An input with the sequence number and timestamp the sequencer gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequenced {
    pub seq: u64,
    pub timestamp_ns: u64,
    pub link: LinkId,
    pub correlation: u64,
    pub input: Input,
}

/// Durable batches on their way to the matcher.
pub type BatchSender = Sender<Vec<Sequenced>>;

/// How the stage ended.
#[derive(Debug)]
pub enum JournallerEnd {
    /// A Shutdown input was journaled: everything before it is durable.
    Shutdown,
    /// Every producer went away.
    Drained,
}

pub struct Journaller {
    pub sequencer: Sequencer,
    pub writer: JournalWriter<FileStorage>,
    pub inputs: InputReceiver,
    pub to_matcher: BatchSender,
    pub batch_max: usize,
    pub wait: WaitStrategy,
    pub progress: Arc<Progress>,
    /// Raised when the stage stops taking inputs, so links and listeners wind down.
    pub stopping: Arc<AtomicBool>,
    /// Where the links hear of timed inputs dropped past their deadline.
    pub expiries: Arc<ExpiryNotices>,
}

impl Journaller {
    pub fn run(mut self) -> Result<JournallerEnd, JournalError> {
        let result = match self.writer.mark_syncer() {
            Ok(syncer) => {
                // The durable mark's fsync runs beside the journal, never on its path.
                let syncer_stop = AtomicBool::new(false);
                std::thread::scope(|scope| {
                    let syncer = std::thread::Builder::new()
                        .name("mark-syncer".into())
                        .spawn_scoped(scope, || syncer.run(&syncer_stop));
                    let result = match syncer {
                        Ok(_) => self.journal_loop().and_then(|end| {
                            // An exact, synced end: the next start refuses any damage.
                            self.writer.close_clean().map(|_| end)
                        }),
                        Err(e) => Err(JournalError::Stopped {
                            cause: format!("starting the mark syncer: {e}"),
                        }),
                    };
                    syncer_stop.store(true, Ordering::Release);
                    result
                })
            }
            Err(e) => Err(e),
        };
        // Whatever the ending, nothing more will be taken from the ring.
        self.stopping.store(true, Ordering::Release);
        if let Err(e) = &result {
            tracing::error!(error = %e, "journal failed: stopping without acknowledging anything more");
        }
        result
    }

    fn journal_loop(&mut self) -> Result<JournallerEnd, JournalError> {
        loop {
            let Ok(first) = self.wait.recv(&self.inputs) else {
                return Ok(JournallerEnd::Drained);
            };
            let mut batch = Vec::with_capacity(self.batch_max.min(self.inputs.len() + 1));
            let mut shutdown = self.stamp_and_append(first, &mut batch)?;
            while !shutdown && batch.len() < self.batch_max {
                match self.inputs.try_recv() {
                    Ok(next) => shutdown = self.stamp_and_append(next, &mut batch)?,
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            // Every input taken had expired: nothing was appended, nothing to commit.
            if batch.is_empty() {
                continue;
            }
            let durable = self.writer.commit()?;
            let last = batch.last().expect("a batch holds at least one input").seq;
            assert_eq!(durable, last, "the journal committed a different batch");
            self.progress.record_commit(durable, batch.len() as u64);
            // Waits while the matcher is a full ring behind: that back-pressure reaches
            // the links through the input ring.
            if self.to_matcher.send(batch).is_err() {
                // The matcher stopped, which it does only when this stage does.
                unreachable!("the matcher ended before the journaller");
            }
            if shutdown {
                return Ok(JournallerEnd::Shutdown);
            }
        }
    }

    /// Stamps one input and appends it; true if it is the Shutdown input.
    fn stamp_and_append(
        &mut self,
        item: LinkInput,
        batch: &mut Vec<Sequenced>,
    ) -> Result<bool, JournalError> {
        let Some((seq, timestamp_ns)) = self.sequencer.stamp_unless_expired(item.deadline_ns)
        else {
            self.expiries
                .unsequenced(&item, "its deadline passed before sequencing");
            return Ok(false);
        };
        self.writer.append(seq, timestamp_ns, &item.input)?;
        batch.push(Sequenced {
            seq,
            timestamp_ns,
            link: item.link,
            correlation: item.correlation,
            input: item.input,
        });
        Ok(item.input == Input::Shutdown)
    }
}
