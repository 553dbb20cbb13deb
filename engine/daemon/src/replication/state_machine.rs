//! openraft's state machine around the matching engine: every node applies committed
//! entries in log order with [`apply_input`], the function the journal replay uses, so
//! followers are hot copies with the leader's state hash at every seq. Applying runs on
//! the node's one matcher thread (see [`super::matcher_thread`]).
//!
//! Applying never waits on anything but the entries handed over. A snapshot is taken on
//! the apply path, which encodes the books and accounts and shares the day's closed
//! client order ids (see [`Engine::take_snapshot`]); encoding the rest, writing and
//! syncing the file happen in the builder, which openraft runs apart from applying. On
//! restart the state is rebuilt here from the newest snapshot plus the log through the
//! saved committed index: openraft 0.9 does not do it.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};
use ringex_core::{Engine, EngineConfig, Event, TakenSnapshot};
use ringex_protocol::Input;

use super::damage::Damage;
use super::input_batch::InputBatch;
use super::log_repair::OpenFailure;
use super::log_store::LogStore;
use super::matcher_thread::MatcherThread;
use super::origins::Origins;
use super::snapshot_file::{read_snapshot, write_snapshot, Meta};
use super::type_config::{AppliedThrough, ClusterNode, RingexRaft};
use crate::apply_input::apply_input;
use crate::event_batch::EventBatch;
use crate::output_ring::OutputRing;
use crate::progress::Progress;
use crate::storage::Storage;

/// The engine and what openraft needs to know about how far it got.
pub struct StateMachine<S: Storage> {
    storage: S,
    dir: PathBuf,
    config: EngineConfig,
    /// Shared with [`EngineView`]s and the applier; only applying changes it.
    engine: Arc<Mutex<Engine>>,
    /// Away on the matcher thread while an `apply` call runs, here otherwise: openraft
    /// calls the state machine one call at a time.
    applier: Option<Applier>,
    matcher: MatcherThread,
    snapshots_built: u64,
    /// The seq of the snapshot the state was opened from (0: none), for the start's log.
    opened_from_snapshot_seq: u64,
}

/// What applying entries changes, moved to the matcher thread for each `apply` call.
struct Applier {
    engine: Arc<Mutex<Engine>>,
    last_applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, ClusterNode>,
    events: Vec<Event>,
    /// Where a serving daemon's applied events go; `None` for a bare node (tests).
    publisher: Option<Publisher>,
    /// The events of the entries of one `apply` call, published together.
    out: EventBatch,
}

/// What a daemon does with every committed input it applies: encode its events once,
/// send them to the links (the origin's link gets its correlation), count progress.
/// Every node publishes, so a follower's history window is warm when it leads.
pub struct Publisher {
    pub output: Arc<OutputRing>,
    pub origins: Arc<Origins>,
    pub progress: Arc<Progress>,
    /// Raised by a TakeSnapshot input; the daemon asks openraft for a snapshot.
    pub snapshot_requested: Arc<AtomicBool>,
}

/// Reads the engine from outside the state machine (status, tests).
#[derive(Clone)]
pub struct EngineView(Arc<Mutex<Engine>>);

impl EngineView {
    /// The last applied seq and the state hash there.
    pub fn last_seq_and_hash(&self) -> (u64, u64) {
        let engine = lock(&self.0);
        (engine.last_seq(), engine.state_hash())
    }

    /// Where a new leader's sequencer continues: the last seq and its timestamp.
    pub fn last_seq_and_timestamp(&self) -> (u64, u64) {
        let engine = lock(&self.0);
        (engine.last_seq(), engine.last_timestamp_ns())
    }
}

fn lock(engine: &Mutex<Engine>) -> MutexGuard<'_, Engine> {
    // A panic while applying broke an invariant: nothing may continue on that state.
    engine.lock().expect("the engine lock is never poisoned")
}

/// Builds one snapshot from the engine state taken at a log id.
pub struct SnapshotBuilder<S: Storage> {
    storage: S,
    dir: PathBuf,
    meta: Meta,
    /// Encoded by the one call openraft makes to build it.
    taken: Option<TakenSnapshot>,
}

impl<S: Storage + Sync> StateMachine<S>
where
    S::File: Sync,
{
    /// The state from the newest snapshot in `dir`, then every entry of `log` after it
    /// through the saved committed log id.
    pub fn open(
        storage: S,
        dir: &Path,
        config: EngineConfig,
        log: &LogStore<S>,
    ) -> Result<StateMachine<S>, OpenFailure> {
        let engine = Arc::new(Mutex::new(
            Engine::new(config).map_err(|e| OpenFailure::other(format!("engine: {e}")))?,
        ));
        let matcher = MatcherThread::spawn()
            .map_err(|e| OpenFailure::other(format!("matcher thread: {e}")))?;
        let mut sm = StateMachine {
            storage: storage.clone(),
            dir: dir.to_path_buf(),
            config,
            engine: Arc::clone(&engine),
            applier: Some(Applier {
                engine,
                last_applied: None,
                membership: StoredMembership::default(),
                events: Vec::new(),
                publisher: None,
                out: EventBatch::new(),
            }),
            matcher,
            snapshots_built: 0,
            opened_from_snapshot_seq: 0,
        };
        let snapshot = read_snapshot(&storage, dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                OpenFailure::damaged(e.to_string(), Damage::Snapshot)
            }
            _ => OpenFailure::other(e.to_string()),
        })?;
        if let Some((meta, bytes)) = snapshot {
            // The snapshot passed its checksum: an engine that cannot decode it is damage
            // the checksum could not see (or a version mismatch), never to be skipped.
            let engine = sm.decode(&meta, &bytes);
            sm.applier_mut()
                .install(&meta, engine)
                .map_err(|e| OpenFailure::damaged(e, Damage::Snapshot))?;
            sm.opened_from_snapshot_seq = sm.last_seq();
        }
        let from = sm.last_applied().map_or(0, |l| l.index + 1);
        if let Some(committed) = log.committed().filter(|c| c.index >= from) {
            let entries = log
                .entries_in(from..=committed.index)
                .map_err(OpenFailure::from)?;
            let applier = sm.applier_mut();
            for entry in entries {
                applier.apply_entry(entry);
            }
        }
        Ok(sm)
    }

    /// From now on every applied input's events are published (the state rebuilt at
    /// open was published before the restart).
    pub fn publish_to(&mut self, publisher: Publisher) {
        self.applier_mut().publisher = Some(publisher);
    }

    /// The engine's last seq and timestamp: where the output and a sequencer continue.
    pub fn last_seq(&self) -> u64 {
        self.engine().last_seq()
    }

    /// The seq of the snapshot this state was opened from; 0 when there was none.
    pub fn opened_from_snapshot_seq(&self) -> u64 {
        self.opened_from_snapshot_seq
    }

    /// A handle that reads the engine's progress while openraft owns this machine.
    pub fn view(&self) -> EngineView {
        EngineView(Arc::clone(&self.engine))
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    pub fn last_applied(&self) -> Option<LogId<u64>> {
        self.applier().last_applied
    }

    fn applier(&self) -> &Applier {
        self.applier.as_ref().expect("no apply call is running")
    }

    fn applier_mut(&mut self) -> &mut Applier {
        self.applier.as_mut().expect("no apply call is running")
    }

    /// A snapshot's engine, decoded (with the reason when it does not decode).
    fn decode(&self, meta: &Meta, engine_bytes: &[u8]) -> Result<Engine, String> {
        Engine::decode_snapshot(engine_bytes, &self.config)
            .map_err(|e| format!("snapshot at {:?}: {e}", meta.last_log_id))
    }
}

impl Applier {
    fn install(&mut self, meta: &Meta, engine: Result<Engine, String>) -> Result<(), String> {
        *lock(&self.engine) = engine?;
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        if let Some(p) = &self.publisher {
            let seq = lock(&self.engine).last_seq();
            p.output.jump_to(seq);
            p.progress.set_applied(seq);
            tracing::info!(
                seq,
                "snapshot installed from the leader: continuing after it"
            );
        }
        Ok(())
    }

    fn apply_entry(&mut self, entry: Entry<RingexRaft>) -> AppliedThrough {
        match entry.payload {
            EntryPayload::Blank => {}
            EntryPayload::Normal(batch) => self.apply_batch(entry.log_id.leader_id.term, &batch),
            EntryPayload::Membership(m) => {
                self.membership = StoredMembership::new(Some(entry.log_id), m);
            }
        }
        self.last_applied = Some(entry.log_id);
        AppliedThrough(lock(&self.engine).last_seq())
    }

    /// Applies a batch checked and decoded when it arrived (from the proposer, the log
    /// or a peer): an input the engine refuses here is a bug, never a reason to skip.
    fn apply_batch(&mut self, term: u64, batch: &InputBatch) {
        let mut engine = lock(&self.engine);
        for stamped in batch.inputs() {
            apply_input(
                &mut engine,
                stamped.seq,
                stamped.timestamp_ns,
                &stamped.input,
                &mut self.events,
            );
            // The leader stamped it after everything before it: a refusal here means
            // the log and the state parted, and nothing after may be applied.
            assert_eq!(
                engine.last_seq(),
                stamped.seq,
                "the engine refused a committed input: {stamped:?}"
            );
            if let Some(p) = &self.publisher {
                let (link, correlation) = p.origins.take(term, stamped.seq);
                self.out.push(
                    stamped.seq,
                    stamped.timestamp_ns,
                    link,
                    correlation,
                    &self.events,
                );
                if stamped.input == Input::TakeSnapshot {
                    p.snapshot_requested.store(true, Ordering::Release);
                }
            }
            self.events.clear();
        }
    }

    /// Sends the events of the entries just applied, as one batch.
    fn publish(&mut self) {
        let Some(p) = &self.publisher else {
            return;
        };
        let (first, last) = self.out.seqs();
        if last == 0 {
            return;
        }
        let next = EventBatch::with_capacity(self.out.len_bytes());
        let batch = std::mem::replace(&mut self.out, next);
        for link in p.output.publish(batch) {
            tracing::warn!(
                link,
                "link dropped: it fell a full queue behind (slow consumer)"
            );
        }
        p.progress.record_commit(last, last - first + 1);
        p.progress.set_applied(last);
    }
}

impl<S: Storage + Sync> RaftSnapshotBuilder<RingexRaft> for SnapshotBuilder<S>
where
    S::File: Sync,
{
    async fn build_snapshot(&mut self) -> Result<Snapshot<RingexRaft>, StorageError<u64>> {
        let taken = self.taken.take().expect("a snapshot is built once");
        // Encoding a busy day's ids and writing them takes milliseconds of this worker.
        let engine_bytes = tokio::task::block_in_place(|| {
            let bytes = taken.encode();
            write_snapshot(&self.storage, &self.dir, &self.meta, &bytes).map(|()| bytes)
        })
        .map_err(|e| StorageIOError::write_snapshot(Some(self.meta.signature()), &e))?;
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot: Box::new(Cursor::new(engine_bytes)),
        })
    }
}

impl<S: Storage + Sync> RaftStateMachine<RingexRaft> for StateMachine<S>
where
    S::File: Sync,
{
    type SnapshotBuilder = SnapshotBuilder<S>;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<u64>>, StoredMembership<u64, ClusterNode>), StorageError<u64>> {
        let applier = self.applier();
        Ok((applier.last_applied, applier.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<AppliedThrough>, StorageError<u64>>
    where
        I: IntoIterator<Item = Entry<RingexRaft>> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let mut applier = self.applier.take().expect("one apply call at a time");
        let (applier, applied) = self
            .matcher
            .run(move || {
                let applied: Vec<_> = entries
                    .into_iter()
                    .map(|entry| applier.apply_entry(entry))
                    .collect();
                applier.publish();
                (applier, applied)
            })
            .await;
        self.applier = Some(applier);
        Ok(applied)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder<S> {
        self.snapshots_built += 1;
        let (last_applied, membership) = {
            let applier = self.applier();
            (applier.last_applied, applier.membership.clone())
        };
        let snapshot_id = match last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, self.snapshots_built),
            None => format!("0-0-{}", self.snapshots_built),
        };
        SnapshotBuilder {
            storage: self.storage.clone(),
            dir: self.dir.clone(),
            meta: SnapshotMeta {
                last_log_id: last_applied,
                last_membership: membership,
                snapshot_id,
            },
            taken: Some(self.engine().take_snapshot()),
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<u64>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<u64>> {
        let bytes = snapshot.into_inner();
        // Durable first: a node that crashes right after has the snapshot, not a state
        // it cannot rebuild (its log below the snapshot is purged next).
        write_snapshot(&self.storage, &self.dir, meta, &bytes)
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        let engine = self.decode(meta, &bytes);
        self.applier_mut().install(meta, engine).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), &std::io::Error::other(e)).into()
        })
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<RingexRaft>>, StorageError<u64>> {
        let found = read_snapshot(&self.storage, &self.dir)
            .map_err(|e| StorageIOError::read_snapshot(None, &e))?;
        Ok(found.map(|(meta, bytes)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}
