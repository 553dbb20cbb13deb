//! When a node asks openraft for a snapshot: after every `every_inputs` applied inputs
//! (the `[snapshot]` setting the embedded daemon uses too), and at once after a
//! TakeSnapshot input. openraft builds it off the apply path and then purges the log
//! below it, keeping `log_kept_behind_snapshot_entries` for followers catching up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::Raft;

use super::type_config::RingexRaft;
use crate::progress::Progress;

/// How often the applied count is looked at.
const CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// Runs until openraft stops.
pub async fn request_snapshots(
    raft: Raft<RingexRaft>,
    progress: Arc<Progress>,
    every_inputs: u64,
    requested: Arc<AtomicBool>,
) {
    let mut last_seq = progress.applied_seq();
    loop {
        tokio::time::sleep(CHECK_INTERVAL).await;
        let applied = progress.applied_seq();
        let periodic = every_inputs > 0 && applied.saturating_sub(last_seq) >= every_inputs;
        if !(periodic || requested.swap(false, Ordering::AcqRel)) {
            continue;
        }
        last_seq = applied;
        if raft.trigger().snapshot().await.is_err() {
            return;
        }
        tracing::info!(seq = applied, "raft snapshot requested");
    }
}
