//! What the running daemon's parts share (the link context, the support threads, the
//! first start's inputs) and how a run ends. The daemon is a node of a Raft cluster,
//! alone without a `[cluster]` table; the node itself is `cluster_node`.
//!
//! Exit status: 0 after a clean shutdown, 1 after a journal failure (fail-stop) or a
//! startup error.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringex_core::Command;
use ringex_protocol::Input;

use crate::config::{Config, Durability};
use crate::durability;
use crate::expiry::ExpiryNotices;
use crate::history_replay::HistoryReplay;
use crate::input_ring::InputSender;
use crate::link::LinkContext;
use crate::notify::{self, Notifier};
use crate::output_ring::OutputRing;
use crate::progress::Progress;
use crate::signals;
use crate::watchdog;

/// A run's exit status, with what ended it logged.
pub fn exit_code(outcome: Result<Outcome, StartError>) -> ExitCode {
    match outcome {
        Ok(Outcome::Shutdown) => {
            tracing::info!("stopped cleanly");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Failed) => {
            tracing::error!("stopped after a journal failure");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start");
            ExitCode::FAILURE
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A Shutdown input or a signal: everything accepted was journaled and sent.
    Shutdown,
    /// The journal failed: nothing after the failure was acknowledged.
    Failed,
}

pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// When the Raft log reports an append flushed, from `journal.durability`.
pub(crate) fn log_durability(config: &Config) -> durability::Durability {
    match config.journal.durability {
        Durability::Fsync => durability::Durability::Fsync,
        Durability::None => durability::Durability::UnsafeNoFsync,
    }
}

/// The configured instruments, then the configured accounts, as admin inputs.
pub(crate) fn bootstrap_inputs(config: &Config) -> Vec<Input> {
    config
        .instrument_specs()
        .map(Command::AddInstrument)
        .chain(config.account_specs().map(Command::AddAccount))
        .map(Input::Command)
        .collect()
}

/// What every link of this daemon shares, from the `[link]` settings.
pub(crate) fn link_context(
    config: &Config,
    inputs: InputSender,
    output: &Arc<OutputRing>,
    stopping: &Arc<AtomicBool>,
    expiries: Arc<ExpiryNotices>,
) -> LinkContext {
    LinkContext::new(
        inputs,
        Arc::clone(output),
        Arc::clone(stopping),
        config.heartbeat_interval(),
        config.heartbeat_timeout(),
        config.link.max_links,
        expiries,
        Arc::new(HistoryReplay::new(
            config.data_dir.clone(),
            config.engine_config(),
        )),
    )
}

/// The threads beside the pipeline: signals, and the systemd watchdog when asked for.
pub(crate) struct Support {
    signal_thread: signals::SignalThread,
    watchdog: Option<JoinHandle<()>>,
    stopped: Arc<AtomicBool>,
}

impl Support {
    /// Starts them; takes the last input sender the daemon itself holds.
    pub(crate) fn spawn(
        caught_signals: signals::CaughtSignals,
        inputs: InputSender,
        stopping: &Arc<AtomicBool>,
        notifier: &Arc<Notifier>,
        progress: &Arc<Progress>,
    ) -> std::io::Result<Support> {
        let signal_thread =
            caught_signals.spawn(inputs.clone(), Arc::clone(stopping), Arc::clone(notifier))?;
        let stopped = Arc::new(AtomicBool::new(false));
        let watchdog = match notify::watchdog_interval() {
            Some(interval) => Some(watchdog::spawn(
                interval,
                Arc::clone(notifier),
                Arc::clone(progress),
                inputs,
                Arc::clone(&stopped),
            )?),
            None => None,
        };
        Ok(Support {
            signal_thread,
            watchdog,
            stopped,
        })
    }

    /// Stops the watchdog, then the signal thread.
    pub(crate) fn finish(self) {
        self.stopped.store(true, Ordering::Release);
        if let Some(w) = self.watchdog {
            join(w);
        }
        drop(self.signal_thread);
    }
}

/// Gives the link writers time to send what is queued and their Goodbye. A writer
/// stuck on a peer that reads nothing gives up after its write timeout.
pub(crate) fn wait_for_links(context: &LinkContext, write_timeout: Duration) {
    let deadline = Instant::now() + write_timeout + Duration::from_secs(1);
    while context.open_links() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if context.open_links() > 0 {
        tracing::warn!(
            open = context.open_links(),
            "links still open at exit: their peers stopped reading"
        );
    }
}

pub(crate) fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<JoinHandle<T>> {
    std::thread::Builder::new().name(name.into()).spawn(f)
}

/// A pipeline thread that panicked broke an invariant: the panic message is already
/// on stderr, and exiting non-zero without acknowledging more is the safe answer.
pub(crate) fn join<T>(handle: JoinHandle<T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(_) => {
            tracing::error!("a daemon thread panicked; exiting");
            std::process::exit(1)
        }
    }
}
