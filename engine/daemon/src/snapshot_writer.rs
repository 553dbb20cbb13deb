//! The snapshot writer: a thread that writes the snapshots the matcher cuts, so the
//! matcher never waits on the disk. It holds at most one snapshot in hand and one
//! queued; the matcher skips a periodic snapshot while both places are taken.

use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::snapshot_store::SnapshotStore;
use crate::storage::FileStorage;

/// An encoded engine state and the sequence number it was cut after.
pub struct SnapshotJob {
    pub seq: u64,
    pub bytes: Vec<u8>,
}

pub struct SnapshotThread {
    thread: JoinHandle<()>,
}

impl SnapshotThread {
    /// Waits for the queued snapshot to be written. The matcher, holding the only
    /// sender, has ended before this is called.
    pub fn finish(self) {
        if self.thread.join().is_err() {
            tracing::error!("the snapshot writer panicked");
        }
    }
}

pub fn spawn(
    mut store: SnapshotStore<FileStorage>,
) -> std::io::Result<(SnapshotThread, Sender<SnapshotJob>)> {
    let (tx, rx) = crossbeam_channel::bounded::<SnapshotJob>(1);
    let thread = std::thread::Builder::new()
        .name("snapshot-writer".into())
        .spawn(move || {
            for job in rx {
                let started = std::time::Instant::now();
                match store.write(job.seq, &job.bytes) {
                    Ok(()) => tracing::info!(
                        seq = job.seq,
                        bytes = job.bytes.len(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "snapshot written"
                    ),
                    // A lost snapshot costs only a longer replay: the journal still
                    // holds every input, so the daemon goes on.
                    Err(e) => tracing::error!(seq = job.seq, error = %e, "snapshot not written"),
                }
            }
        })?;
    Ok((SnapshotThread { thread }, tx))
}
