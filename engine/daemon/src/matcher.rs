//! The matcher stage: the one thread that owns the engine. It applies durable inputs
//! strictly in sequence, encodes each input's events once, and publishes them a batch
//! at a time on the output ring.
//!
//! Snapshots are cut here, between two inputs, so each is a consistent state at one
//! sequence number: on a TakeSnapshot input, and after every `snapshot_every_inputs`
//! inputs. Encoding the state is a memory copy done on this thread; writing and syncing
//! the file is left to the snapshot writer, so the disk never stalls matching.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use ringex_core::{Engine, Event};
use ringex_protocol::Input;

use crate::config::WaitStrategy;
use crate::event_batch::EventBatch;
use crate::journaller::Sequenced;
use crate::output_ring::OutputRing;
use crate::progress::Progress;
use crate::recovery::apply_input;
use crate::snapshot_writer::SnapshotJob;

pub struct Matcher {
    pub engine: Engine,
    pub batches: Receiver<Vec<Sequenced>>,
    pub output: Arc<OutputRing>,
    pub snapshots: Sender<SnapshotJob>,
    /// 0: only on TakeSnapshot inputs.
    pub snapshot_every_inputs: u64,
    pub wait: WaitStrategy,
    pub progress: Arc<Progress>,
}

impl Matcher {
    /// Runs until the journaller stops; returns the engine for a final look.
    pub fn run(mut self) -> Engine {
        let mut events: Vec<Event> = Vec::with_capacity(1024);
        let mut since_snapshot: u64 = 0;
        while let Ok(batch) = self.wait.recv(&self.batches) {
            let mut out = EventBatch::new();
            for s in &batch {
                apply_input(
                    &mut self.engine,
                    s.seq,
                    s.timestamp_ns,
                    &s.input,
                    &mut events,
                );
                assert_eq!(
                    self.engine.last_seq(),
                    s.seq,
                    "the engine refused a sequenced input: {s:?} -> {events:?}"
                );
                out.push(s.seq, s.timestamp_ns, s.link, s.correlation, &events);
                events.clear();
                since_snapshot += 1;
                let periodic =
                    self.snapshot_every_inputs > 0 && since_snapshot >= self.snapshot_every_inputs;
                if s.input == Input::TakeSnapshot || periodic {
                    self.snapshot(s.input == Input::TakeSnapshot);
                    since_snapshot = 0;
                }
            }
            let (_, last) = out.seqs();
            for link in self.output.publish(out) {
                tracing::warn!(
                    link,
                    "link dropped: it fell a full queue behind (slow consumer)"
                );
            }
            self.progress.set_applied(last);
        }
        self.engine
    }

    /// Hands the state to the snapshot writer. A periodic snapshot is skipped while the
    /// writer is still busy with the previous one; a requested one waits for it.
    fn snapshot(&self, requested: bool) {
        let seq = self.engine.last_seq();
        // Encoding stalls matching (it is proportional to the state, the day's client
        // order ids included), so a snapshot that would be dropped is not encoded.
        if !requested && self.snapshots.is_full() {
            tracing::info!(
                seq,
                "periodic snapshot skipped: the previous one is still being written"
            );
            return;
        }
        let started = std::time::Instant::now();
        let job = SnapshotJob {
            seq,
            bytes: self.engine.encode_snapshot(),
        };
        tracing::info!(
            seq,
            bytes = job.bytes.len(),
            encode_us = started.elapsed().as_micros() as u64,
            "snapshot cut"
        );
        // This thread is the only sender and the queue had room, so only a requested
        // snapshot can wait here, for the writer to finish the one before.
        if self.snapshots.send(job).is_err() {
            tracing::warn!(seq, "snapshot skipped: the snapshot writer has stopped");
        }
    }
}
