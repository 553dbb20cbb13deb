//! The systemd watchdog: WATCHDOG=1 every half timeout, but only while the matcher is
//! healthy, that is idle with nothing waiting or applying inputs since the last look.
//! A matcher or journal that hangs with work queued stops the pings, and systemd
//! restarts the daemon (recovery then brings back every durable input).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::input_ring::InputSender;
use crate::notify::Notifier;
use crate::progress::Progress;

/// How often the thread looks at the stop flag between pings.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(100);

pub fn spawn(
    interval: Duration,
    notifier: Arc<Notifier>,
    progress: Arc<Progress>,
    inputs: InputSender,
    stopped: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut last_applied = progress.applied_seq();
            let mut next_ping = Instant::now();
            while !stopped.load(Ordering::Acquire) {
                if Instant::now() >= next_ping {
                    let applied = progress.applied_seq();
                    let waiting = !inputs.is_empty() || progress.durable_seq() > applied;
                    if applied != last_applied || !waiting {
                        notifier.watchdog();
                    } else {
                        tracing::warn!(applied, "matcher made no progress with inputs waiting: withholding the watchdog ping");
                    }
                    last_applied = applied;
                    next_ping += interval;
                }
                std::thread::sleep(STOP_CHECK_INTERVAL.min(interval));
            }
        })
}
