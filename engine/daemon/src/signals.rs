//! SIGTERM and SIGINT: stop taking inputs and put a Shutdown input on the ring. It is
//! sequenced behind everything already accepted, so the pipeline drains, the journal
//! syncs, every link receives all its events and a Goodbye, and the daemon exits 0.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::SendTimeoutError;
use ringex_protocol::Input;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::input_ring::{InputSender, LinkInput, DAEMON_LINK};
use crate::notify::Notifier;

/// Stops the signal thread when dropped.
pub struct SignalThread {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Drop for SignalThread {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            // A panic there was already reported by the panic hook.
            let _ = t.join();
        }
    }
}

/// Signals caught but not yet acted on. Installed first thing at start, so a SIGTERM
/// that arrives during recovery is held (not fatal) and drains the daemon once it runs.
pub struct CaughtSignals(Signals);

pub fn install() -> std::io::Result<CaughtSignals> {
    Signals::new([SIGTERM, SIGINT]).map(CaughtSignals)
}

impl CaughtSignals {
    /// Acts on the signals from a thread of its own.
    pub fn spawn(
        self,
        inputs: InputSender,
        stopping: Arc<AtomicBool>,
        notifier: Arc<Notifier>,
    ) -> std::io::Result<SignalThread> {
        let mut signals = self.0;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if stopping.swap(true, Ordering::AcqRel) {
                        tracing::info!(signal, "already stopping");
                        continue;
                    }
                    tracing::info!(signal, "stop requested: draining");
                    notifier.stopping();
                    request_shutdown(&inputs);
                }
            })?;
        Ok(SignalThread {
            handle,
            thread: Some(thread),
        })
    }
}

/// Queues the Shutdown input, waiting while the ring is full (it drains: the links
/// stopped adding to it). A ring with no journaller left means it stopped already.
fn request_shutdown(inputs: &InputSender) {
    let mut item = LinkInput {
        link: DAEMON_LINK,
        correlation: 0,
        deadline_ns: 0,
        input: Input::Shutdown,
    };
    loop {
        match inputs.send_timeout(item, Duration::from_secs(1)) {
            Ok(()) => return,
            Err(SendTimeoutError::Timeout(back)) => {
                tracing::warn!("input ring still full; waiting to queue the shutdown");
                item = back;
            }
            Err(SendTimeoutError::Disconnected(_)) => return,
        }
    }
}
