//! The daemon as one node of a Raft cluster: the same links, output ring and engine as
//! the embedded daemon, with openraft between the sequencer and the matcher.
//!
//! ```text
//! link readers ─► input ring ─► proposer (leader only: stamp, one Raft entry per batch)
//!     ─► openraft (append + fsync, replicate, commit on a majority)
//!     ─► state machine on every node (apply, publish) ─► output ring ─► link writers
//! ```
//!
//! Only the serving leader keeps gateway links; the others answer NotLeader naming the
//! leader they know. Every node applies and publishes committed entries, so whichever
//! node leads next has the recent history in its window for gateways that resume.
//!
//! A signal (or a Shutdown input) stops this node only: it is not proposed, and the
//! rest of the cluster goes on (a leader that stops is replaced by an election).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringex_protocol::link::GoodbyeReason;
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::daemon::{
    bootstrap_inputs, join, link_context, log_durability, spawn, wait_for_links, Outcome,
    StartError, Support,
};
use crate::data_dir_lock::DataDirLock;
use crate::embedded_journal_guard::refuse_embedded_journal;
use crate::expiry::ExpiryNotices;
use crate::input_ring::input_ring;
use crate::link::{LinkContext, Listener};
use crate::notify::Notifier;
use crate::output_ring::OutputRing;
use crate::progress::Progress;
use crate::replication::cluster_config::{loopback_addr, ClusterConfig};
use crate::replication::leadership::{follow, Leadership};
use crate::replication::metrics_endpoint::{self, MetricsSource};
use crate::replication::node::{OpenedNode, RaftNode};
use crate::replication::origins::Origins;
use crate::replication::proposer::{Proposer, ProposerEnd};
use crate::replication::snapshot_cadence::request_snapshots;
use crate::replication::state_machine::Publisher;
use crate::signals;

/// Inputs proposed and not yet applied, at most half of this (a power of two).
const ORIGIN_SLOTS: usize = 1 << 18;
/// openraft's own threads: replication, storage callbacks, the peer listener.
const RAFT_WORKER_THREADS: usize = 2;
/// How long a node alone in its cluster waits to lead before it takes links anyway.
const LONE_NODE_ELECTION_WAIT: Duration = Duration::from_secs(10);
/// How long a stopping leader waits for what it proposed to be applied.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts the node, serves until a signal, a Shutdown input or openraft stopping, then
/// drains and stops.
pub fn run(config: &Config, cluster: &ClusterConfig) -> Result<Outcome, StartError> {
    RunningNode::start(config, cluster).map(RunningNode::wait)
}

/// A node that recovered and serves: its threads and runtime, until [`RunningNode::wait`].
pub struct RunningNode {
    heartbeat_timeout: Duration,
    data_dir_lock: DataDirLock,
    notifier: Arc<Notifier>,
    progress: Arc<Progress>,
    output: Arc<OutputRing>,
    context: Arc<LinkContext>,
    runtime: Runtime,
    node: RaftNode,
    leadership: Arc<Leadership>,
    proposer: JoinHandle<ProposerEnd>,
    acceptors: Vec<JoinHandle<()>>,
    support: Support,
}

impl RunningNode {
    /// Recovers the data directory, starts openraft, the proposer and the links, says
    /// READY.
    pub fn start(config: &Config, cluster: &ClusterConfig) -> Result<RunningNode, StartError> {
        start(config, cluster)
    }

    /// The pipeline's counters, for tools that watch a running node.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// Serves until a signal, a Shutdown input or openraft stopping, then drains.
    pub fn wait(self) -> Outcome {
        let end = join(self.proposer);
        self.notifier.stopping();
        let outcome = match end {
            ProposerEnd::Shutdown => Outcome::Shutdown,
            ProposerEnd::Drained if self.leadership.has_failed() => Outcome::Failed,
            ProposerEnd::Drained => Outcome::Shutdown,
        };
        if outcome == Outcome::Shutdown {
            drain(&self.runtime, &self.node);
        }
        self.output.close(match outcome {
            Outcome::Shutdown => GoodbyeReason::Shutdown,
            Outcome::Failed => GoodbyeReason::Failed,
        });
        let (last_seq, state_hash) = self.node.engine.last_seq_and_hash();
        tracing::info!(
            last_seq,
            state_hash = format_args!("{state_hash:016x}"),
            "node drained"
        );
        for acceptor in self.acceptors {
            join(acceptor);
        }
        wait_for_links(&self.context, self.heartbeat_timeout);
        self.support.finish();
        self.runtime.block_on(self.node.shutdown());
        drop(self.runtime);
        drop(self.data_dir_lock);
        outcome
    }
}

fn start(config: &Config, cluster: &ClusterConfig) -> Result<RunningNode, StartError> {
    let caught_signals = signals::install()?;
    let notifier = Arc::new(Notifier::from_env());
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("creating {}: {e}", config.data_dir.display()))?;
    let data_dir_lock = DataDirLock::acquire(&config.data_dir)?;
    refuse_embedded_journal(&config.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RAFT_WORKER_THREADS)
        .thread_name("raft")
        .enable_all()
        .build()?;

    let started = Instant::now();
    notifier.status("recovering");
    let mut opened = OpenedNode::open(
        &config.data_dir,
        config.engine_config(),
        log_durability(config),
        cluster.nodes.len() > 1,
        config.accept_journal_loss,
    )?;
    let (recovered_seq, state_hash) = opened.state.view().last_seq_and_hash();
    tracing::info!(
        node = cluster.node_id,
        last_seq = recovered_seq,
        state_hash = format_args!("{state_hash:016x}"),
        snapshot_seq = opened.state.opened_from_snapshot_seq(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "recovered from the raft log"
    );

    // Bound before anything serves, so a taken port fails the start cleanly.
    let listeners = bind_links(config, cluster)?;

    let stopping = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::new(recovered_seq));
    let output = Arc::new(OutputRing::new(
        recovered_seq,
        usize::try_from(config.link.queue_bytes).unwrap_or(usize::MAX),
        usize::try_from(config.link.history_window_bytes).unwrap_or(usize::MAX),
    ));
    let origins = Arc::new(Origins::new(ORIGIN_SLOTS));
    let snapshot_requested = Arc::new(AtomicBool::new(false));
    opened.state.publish_to(Publisher {
        output: Arc::clone(&output),
        origins: Arc::clone(&origins),
        progress: Arc::clone(&progress),
        snapshot_requested: Arc::clone(&snapshot_requested),
    });
    let node = runtime.block_on(RaftNode::launch(cluster, opened))?;
    if cluster.nodes.len() == 1 && runtime.block_on(node.initialise(cluster))? {
        tracing::info!(node = cluster.node_id, "single-node cluster initialised");
    }
    let leadership = Arc::new(Leadership::default());
    runtime.spawn(follow(node.raft.clone(), Arc::clone(&leadership)));
    if let Some(text) = &cluster.metrics {
        let listener = runtime.block_on(metrics_endpoint::bind(loopback_addr(text)?))?;
        tracing::info!(metrics = %text, "serving /metrics");
        runtime.spawn(metrics_endpoint::serve_metrics(
            listener,
            MetricsSource {
                raft: node.raft.clone(),
                facts: node.facts.clone(),
                leadership: Arc::clone(&leadership),
            },
        ));
    }
    runtime.spawn(request_snapshots(
        node.raft.clone(),
        Arc::clone(&progress),
        config.snapshot.every_inputs,
        snapshot_requested,
    ));

    let (inputs_tx, inputs_rx) = input_ring(config.pipeline.input_ring_capacity as usize);
    let expiries = Arc::new(ExpiryNotices::default());
    let proposer = Proposer {
        raft: node.raft.clone(),
        runtime: runtime.handle().clone(),
        inputs: inputs_rx,
        leadership: Arc::clone(&leadership),
        committed: node.committed_seq.clone(),
        engine: node.engine.clone(),
        origins,
        progress: Arc::clone(&progress),
        expiries: Arc::clone(&expiries),
        batch_max: config.pipeline.batch_max as usize,
        stopping: Arc::clone(&stopping),
        bootstrap: if recovered_seq == 0 {
            bootstrap_inputs(config)
        } else {
            Vec::new()
        },
    };
    let proposer = spawn("proposer", move || proposer.run())?;

    // A node alone in its cluster elects itself at once: links opened before that would
    // only be turned away, so it takes them (and says READY) once it serves.
    if cluster.nodes.len() == 1 && !leadership.wait_until_serving(LONE_NODE_ELECTION_WAIT) {
        tracing::warn!(
            waited_ms = LONE_NODE_ELECTION_WAIT.as_millis() as u64,
            "not serving yet: links are answered NotLeader until this node leads"
        );
    }
    let mut context = link_context(config, inputs_tx.clone(), &output, &stopping, expiries);
    context.leadership = Some(Arc::clone(&leadership));
    let context = Arc::new(context);
    let mut acceptors = Vec::new();
    for listener in listeners {
        tracing::info!(listener = %listener.describe(), "listening");
        acceptors.push(listener.spawn(Arc::clone(&context))?);
    }
    let support = Support::spawn(caught_signals, inputs_tx, &stopping, &notifier, &progress)?;
    notifier.ready(&format!(
        "raft node {} from seq {recovered_seq}",
        cluster.node_id
    ));
    tracing::info!(
        node = cluster.node_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "ready"
    );

    Ok(RunningNode {
        heartbeat_timeout: config.heartbeat_timeout(),
        data_dir_lock,
        notifier,
        progress,
        output,
        context,
        runtime,
        node,
        leadership,
        proposer,
        acceptors,
        support,
    })
}

/// The node's link listeners: TCP at its `link` address, and the `[link]` Unix socket
/// when one is set (a local gateway's way in on any node).
fn bind_links(config: &Config, cluster: &ClusterConfig) -> Result<Vec<Listener>, StartError> {
    let mut listeners = Vec::new();
    let link = &cluster.this_node().link;
    if !link.is_empty() {
        let addr = loopback_addr(link)?;
        listeners.push(Listener::bind_tcp(addr).map_err(|e| format!("binding {addr}: {e}"))?);
    }
    if let Some(path) = config.unix_socket_path() {
        listeners.push(
            Listener::bind_unix(&path).map_err(|e| format!("binding {}: {e}", path.display()))?,
        );
    }
    Ok(listeners)
}

/// Lets what this node appended be applied (and so published) before its links close,
/// for a bounded time: a leader stopping cleanly answers what it committed.
fn drain(runtime: &Runtime, node: &RaftNode) {
    let last_log_index = node.raft.metrics().borrow().last_log_index;
    let waited = runtime.block_on(
        node.raft
            .wait(Some(DRAIN_TIMEOUT))
            .applied_index_at_least(last_log_index, "drain before stopping"),
    );
    if let Err(e) = waited {
        tracing::warn!(error = %e, "stopping with entries not yet applied: the cluster has them");
    }
}
