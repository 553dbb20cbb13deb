//! The running daemon: recover, start the pipeline and the links, say READY, and on a
//! Shutdown input or a signal drain everything and exit.
//!
//! ```text
//! link readers ─► input ring ─► journaller (sequencer, append, group fsync)
//!                                   └─► matcher (apply, snapshots) ─► output ring ─► link writers
//! ```
//!
//! Exit status: 0 after a clean shutdown, 1 after a journal failure (fail-stop) or a
//! startup error.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringex_core::Command;
use ringex_protocol::link::GoodbyeReason;
use ringex_protocol::Input;

use crate::config::{Config, Durability};
use crate::data_dir_lock::DataDirLock;
use crate::expiry::ExpiryNotices;
use crate::history_replay::HistoryReplay;
use crate::input_ring::{input_ring, InputSender, LinkInput, DAEMON_LINK};
use crate::journal;
use crate::journaller::{Journaller, JournallerEnd};
use crate::link::{LinkContext, Listener};
use crate::matcher::Matcher;
use crate::notify::{self, Notifier};
use crate::output_ring::OutputRing;
use crate::progress::Progress;
use crate::recovery;
use crate::sequencer::Sequencer;
use crate::signals;
use crate::snapshot_store::SnapshotStore;
use crate::snapshot_writer;
use crate::storage::FileStorage;
use crate::watchdog;

/// Durable batches queued between the journaller and the matcher.
const MATCHER_QUEUE_BATCHES: usize = 8;

pub fn run(config: &Config) -> ExitCode {
    report(crate::cluster_node::run(config, &config.node_cluster()))
}

fn report(outcome: Result<Outcome, StartError>) -> ExitCode {
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

/// A daemon that recovered and serves: its threads, until [`Running::wait`].
pub struct Running {
    config: Config,
    data_dir_lock: DataDirLock,
    notifier: Arc<Notifier>,
    progress: Arc<Progress>,
    output: Arc<OutputRing>,
    context: Arc<LinkContext>,
    journaller: JoinHandle<Result<JournallerEnd, journal::JournalError>>,
    matcher: JoinHandle<ringex_core::Engine>,
    acceptors: Vec<JoinHandle<()>>,
    support: Support,
    snapshot_thread: snapshot_writer::SnapshotThread,
}

impl Running {
    /// Recovers the data directory, starts the pipeline and the links, says READY.
    pub fn start(config: &Config) -> Result<Running, StartError> {
        let caught_signals = signals::install()?;
        let notifier = Arc::new(Notifier::from_env());
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| format!("creating {}: {e}", config.data_dir.display()))?;
        let data_dir_lock = DataDirLock::acquire(&config.data_dir)?;

        let started = Instant::now();
        notifier.status("recovering");
        let recovered = recovery::recover(
            FileStorage,
            &config.data_dir,
            config.engine_config(),
            journal_config(config),
            &recovery::RecoveryOptions {
                accept_journal_loss: config.accept_journal_loss,
            },
        )?;
        let recovered_seq = recovered.engine.last_seq();
        let report = &recovered.report;
        tracing::info!(
            last_seq = recovered_seq,
            snapshot_seq = report.snapshot_seq.unwrap_or(0),
            replayed = report.replayed_records,
            state_hash = format_args!("{:016x}", report.state_hash),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "recovered"
        );

        // Bind before anything runs, so a taken port fails the start cleanly.
        let mut listeners = Vec::new();
        if let Some(addr) = config.tcp_addr()? {
            listeners.push(Listener::bind_tcp(addr).map_err(|e| format!("binding {addr}: {e}"))?);
        }
        if let Some(path) = config.unix_socket_path() {
            listeners.push(
                Listener::bind_unix(&path)
                    .map_err(|e| format!("binding {}: {e}", path.display()))?,
            );
        }

        let stopping = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::new(recovered_seq));
        let output = Arc::new(OutputRing::new(
            recovered_seq,
            usize::try_from(config.link.queue_bytes).unwrap_or(usize::MAX),
            usize::try_from(config.link.history_window_bytes).unwrap_or(usize::MAX),
        ));
        let (inputs_tx, inputs_rx) = input_ring(config.pipeline.input_ring_capacity as usize);
        let (batches_tx, batches_rx) = crossbeam_channel::bounded(MATCHER_QUEUE_BATCHES);
        let (snapshot_thread, snapshot_jobs) =
            snapshot_writer::spawn(SnapshotStore::new(FileStorage, &config.data_dir))?;

        let expiries = Arc::new(ExpiryNotices::default());
        let journaller = Journaller {
            sequencer: Sequencer::resume(recovered_seq, recovered.last_timestamp_ns),
            writer: recovered.writer,
            inputs: inputs_rx,
            to_matcher: batches_tx,
            batch_max: config.pipeline.batch_max as usize,
            wait: config.pipeline.wait_strategy,
            progress: Arc::clone(&progress),
            stopping: Arc::clone(&stopping),
            expiries: Arc::clone(&expiries),
        };
        let matcher = Matcher {
            engine: recovered.engine,
            batches: batches_rx,
            output: Arc::clone(&output),
            snapshots: snapshot_jobs,
            snapshot_every_inputs: config.snapshot.every_inputs,
            wait: config.pipeline.wait_strategy,
            progress: Arc::clone(&progress),
        };
        let journaller = spawn("journaller", move || journaller.run())?;
        let matcher = spawn("matcher", move || matcher.run())?;

        if recovered_seq == 0 {
            bootstrap(config, &inputs_tx);
        }

        let context = Arc::new(link_context(
            config,
            inputs_tx.clone(),
            &output,
            &stopping,
            expiries,
        ));
        let mut acceptors = Vec::new();
        for listener in listeners {
            tracing::info!(listener = %listener.describe(), "listening");
            acceptors.push(listener.spawn(Arc::clone(&context))?);
        }
        let support = Support::spawn(caught_signals, inputs_tx, &stopping, &notifier, &progress)?;
        notifier.ready(&format!("serving from seq {recovered_seq}"));
        tracing::info!(
            durability = ?config.journal.durability,
            wait_strategy = ?config.pipeline.wait_strategy,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        Ok(Running {
            config: config.clone(),
            data_dir_lock,
            notifier,
            progress,
            output,
            context,
            journaller,
            matcher,
            acceptors,
            support,
            snapshot_thread,
        })
    }

    /// The pipeline's counters, for tools that watch a running daemon.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// Serves until a Shutdown input, a signal or a journal failure, then drains.
    pub fn wait(self) -> Outcome {
        let Running {
            config,
            data_dir_lock,
            notifier,
            progress,
            output,
            context,
            journaller,
            matcher,
            acceptors,
            support,
            snapshot_thread,
        } = self;
        // Serving. The journaller ends on a Shutdown input (from a link or a signal) or on
        // a journal error; the matcher ends once it has applied everything journaled.
        let journal_end = join(journaller);
        notifier.stopping();
        let engine = join(matcher);
        let outcome = match &journal_end {
            Ok(JournallerEnd::Shutdown | JournallerEnd::Drained) => Outcome::Shutdown,
            Err(_) => Outcome::Failed,
        };
        output.close(match outcome {
            Outcome::Shutdown => GoodbyeReason::Shutdown,
            Outcome::Failed => GoodbyeReason::Failed,
        });
        tracing::info!(
            last_seq = engine.last_seq(),
            state_hash = format_args!("{:016x}", engine.state_hash()),
            "pipeline drained"
        );
        let commits = progress.commit_stats();
        tracing::info!(
            commits = commits.commits,
            inputs = commits.inputs,
            largest_commit_inputs = commits.largest_inputs,
            "journal group commits since start"
        );

        for a in acceptors {
            join(a);
        }
        wait_for_links(&context, config.heartbeat_timeout());
        support.finish();
        snapshot_thread.finish();
        drop(data_dir_lock);
        outcome
    }
}

pub(crate) fn journal_config(config: &Config) -> journal::JournalConfig {
    journal::JournalConfig {
        segment_size_max_bytes: config.journal.segment_bytes,
        durability: match config.journal.durability {
            Durability::Fsync => journal::Durability::Fsync,
            Durability::None => journal::Durability::UnsafeNoFsync,
        },
        batch_records_max: config.pipeline.batch_max as usize,
    }
}

/// The first start of an empty data directory: the configured instruments and
/// accounts go in as admin inputs, journaled like any other, so a replay sees them.
fn bootstrap(config: &Config, inputs: &InputSender) {
    for input in bootstrap_inputs(config) {
        let item = LinkInput {
            link: DAEMON_LINK,
            correlation: 0,
            deadline_ns: 0,
            input,
        };
        // The journaller is running and the ring has room or drains; an error means
        // it already stopped, which its own result reports.
        if inputs.send(item).is_err() {
            return;
        }
    }
    tracing::info!(
        instruments = config.instruments.len(),
        accounts = config.accounts.len(),
        "empty data directory: configured instruments and accounts submitted"
    );
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
