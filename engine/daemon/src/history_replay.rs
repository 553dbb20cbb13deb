//! History from the journal: a gateway that resumes from further back than the history
//! window holds is sent the events of every input it missed, recomputed by replaying the
//! Raft log's committed inputs from the node's snapshot if that lies at or before its
//! resume point, else from the start of the log. Replay is deterministic (the live
//! matcher and every replay apply inputs through [`apply_input`](crate::apply_input)), so the recomputed frames are the bytes the gateway would
//! have received live, less the correlations that belonged to other links.
//!
//! Bounds: one replay runs at a time (it holds a whole engine in memory); its frames go
//! to the link's writer through a queue of [`QUEUED_CHUNKS`] chunks of about
//! [`CHUNK_BYTES`], so a slow gateway slows the replay rather than growing memory; and
//! the link's live queue, filling meanwhile, is bounded by `link.queue_bytes` as always.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Receiver;
use ringex_core::{EngineConfig, Event, Seq};
use ringex_protocol::link::write_events;

use crate::replication::committed_inputs::{replay_committed, replay_start};

/// Encoded frames handed to the writer at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks waiting for the writer before the replay waits.
pub const QUEUED_CHUNKS: usize = 2;

/// A chunk of history frames, or why the history cannot be served.
pub type HistoryChunk = Result<Vec<u8>, String>;

pub struct HistoryReplay {
    data_dir: PathBuf,
    engine_config: EngineConfig,
    one_at_a_time: Mutex<()>,
}

impl HistoryReplay {
    pub fn new(data_dir: PathBuf, engine_config: EngineConfig) -> HistoryReplay {
        HistoryReplay {
            data_dir,
            engine_config,
            one_at_a_time: Mutex::new(()),
        }
    }

    /// Replays on a thread of its own; the receiver yields the frames of every input in
    /// `(after_seq, to_seq]` in order, and ends when they are all sent. A failure is the
    /// last item. Dropping the receiver stops the sending (the replay runs to `to_seq`).
    pub fn start(self: &Arc<Self>, after_seq: Seq, to_seq: Seq) -> Receiver<HistoryChunk> {
        let (tx, rx) = crossbeam_channel::bounded(QUEUED_CHUNKS);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("history-replay".into())
            .spawn(move || {
                let mut sink = ChunkSink {
                    chunk: Vec::with_capacity(CHUNK_BYTES * 2),
                    to: tx,
                };
                let outcome = me.replay(after_seq, to_seq, &mut sink);
                match outcome {
                    Ok(()) => sink.flush(),
                    Err(why) => {
                        tracing::warn!(after_seq, to_seq, why, "history replay failed");
                        let _ = sink.to.send(Err(why));
                    }
                }
            });
        if let Err(e) = spawned {
            // The receiver then ends at once with nothing: report it as a failure.
            let (tx, rx) = crossbeam_channel::bounded(1);
            let _ = tx.send(Err(format!("could not start the replay thread: {e}")));
            return rx;
        }
        rx
    }

    fn replay(&self, after_seq: Seq, to_seq: Seq, sink: &mut ChunkSink) -> Result<(), String> {
        let _turn = self.one_at_a_time.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let mut engine = replay_start(&self.data_dir, self.engine_config, Some(after_seq))?;
        let from_seq = engine.last_seq();
        replay_committed(
            &self.data_dir,
            &mut engine,
            Some(to_seq),
            &mut |s, events| {
                if s.seq > after_seq {
                    sink.add(s.seq, s.timestamp_ns, events);
                }
            },
        )?;
        if engine.last_seq() != to_seq {
            return Err(format!(
                "the raft log's committed inputs end at seq {}, short of {to_seq}",
                engine.last_seq()
            ));
        }
        tracing::info!(
            after_seq,
            to_seq,
            from_seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "history replayed for a resuming link"
        );
        Ok(())
    }
}

/// Encodes the replayed inputs after the resume point into chunks for the writer.
struct ChunkSink {
    chunk: Vec<u8>,
    to: crossbeam_channel::Sender<HistoryChunk>,
}

impl ChunkSink {
    fn flush(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_BYTES * 2));
        // The link went away: nobody wants the rest; the replay just finishes.
        let _ = self.to.send(Ok(chunk));
    }
}

impl ChunkSink {
    fn add(&mut self, seq: Seq, timestamp_ns: u64, events: &[Event]) {
        write_events(&mut self.chunk, seq, timestamp_ns, 0, events);
        if self.chunk.len() >= CHUNK_BYTES {
            self.flush();
        }
    }
}
