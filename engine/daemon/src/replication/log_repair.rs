//! A node whose Raft directory fails its checks, in a cluster of several, repairs
//! itself from the others rather than refusing to start.
//!
//! It sets the damaged files aside (into `lost/raft-<unix ms>/` in the data directory,
//! for inspection; nothing is deleted), keeps its vote file when that file is sound,
//! and starts on an empty log: the leader refills it (a snapshot when the log behind it
//! was purged, then entries). Until it has applied every entry it once knew committed
//! and heard from a leader, it **grants no vote**: Raft's safety rests on every voter
//! holding the entries it acknowledged, and a voter that lost them could elect a
//! candidate missing committed entries. Hearing from a leader also means its vote is
//! the leader's own from then on, so a vote forgotten with a damaged vote file cannot
//! be given twice in that term either.
//!
//! A node alone in its cluster has no one to repair it from: it refuses to start,
//! unless the operator accepts the loss (`--accept-journal-loss`, also the way out when
//! a majority of a cluster is damaged): then only the damaged part is set aside (the
//! entry log cut at its first bad record, a bad state file or snapshot moved), the loss
//! is written down beside the moved files, and the node starts from what remains, at a
//! lower sequence if acknowledged entries were lost.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use openraft::Raft;

use super::damage::Damage;
use super::entry_log::EntryLogError;
use super::entry_log::LOG_FILE;
use super::hard_state::{HardState, COMMITTED_FILE, PURGED_FILE, VOTE_FILE};
use super::snapshot_file::SNAPSHOT_FILE;
use super::type_config::RingexRaft;
use crate::storage::{Storage, StorageFile};

/// Folder in the data directory that cut-away files move to.
pub const LOST_DIR_NAME: &str = "lost";
/// The operator's record of what `--accept-journal-loss` cut, beside what it cut.
pub const LOSS_RECORD_FILE: &str = "accepted-losses.txt";
/// Bytes copied at a time when a cut-off tail is kept.
const CUT_CHUNK_BYTES: usize = 1 << 20;

/// Why a node's Raft directory could not be opened.
#[derive(Debug)]
pub struct OpenFailure {
    pub message: String,
    /// What failed its checks; none for an I/O error or a bad setting.
    pub damage: Option<Damage>,
}

impl OpenFailure {
    pub fn damaged(message: impl Into<String>, damage: Damage) -> OpenFailure {
        OpenFailure {
            message: message.into(),
            damage: Some(damage),
        }
    }

    pub fn other(message: impl Into<String>) -> OpenFailure {
        OpenFailure {
            message: message.into(),
            damage: None,
        }
    }
}

impl From<EntryLogError> for OpenFailure {
    fn from(e: EntryLogError) -> OpenFailure {
        OpenFailure {
            message: e.message,
            damage: e.damage,
        }
    }
}

/// Whether this node may grant votes, and what it waits for before it may again.
#[derive(Debug, Default)]
pub struct VoteHold {
    held: AtomicBool,
    until_applied_index: AtomicU64,
}

impl VoteHold {
    /// Votes held until the node has applied `applied_index` and heard from a leader.
    pub fn until(applied_index: u64) -> VoteHold {
        VoteHold {
            held: AtomicBool::new(true),
            until_applied_index: AtomicU64::new(applied_index),
        }
    }

    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }
}

/// Releases the hold once the node is repaired; returns at once when nothing is held.
pub async fn release_when_repaired(raft: Raft<RingexRaft>, hold: Arc<VoteHold>) {
    if !hold.is_held() {
        return;
    }
    let target = hold.until_applied_index.load(Ordering::Acquire);
    let mut metrics = raft.metrics();
    loop {
        let repaired = {
            let m = metrics.borrow_and_update();
            let applied = m.last_applied.map_or(0, |l| l.index);
            let led_by_other = m.current_leader.is_some_and(|l| l != m.id);
            (led_by_other && applied >= target && applied > 0).then_some(applied)
        };
        if let Some(applied) = repaired {
            hold.held.store(false, Ordering::Release);
            tracing::warn!(
                applied_index = applied,
                "raft log repaired from the leader: this node votes again"
            );
            return;
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// What setting a damaged Raft directory aside found and did.
#[derive(Debug)]
pub struct SetAside {
    /// Where the files went.
    pub moved_to: PathBuf,
    /// The committed index the damaged directory recorded, 0 if it recorded none.
    pub committed_index: u64,
}

/// Moves every file of `raft_dir` except a sound vote file into a new folder under
/// `<data_dir>/lost/`, durably, so the node starts empty but remembers its vote.
pub fn set_aside<S: Storage>(
    storage: &S,
    data_dir: &Path,
    raft_dir: &Path,
) -> std::io::Result<SetAside> {
    let hard = HardState::open(storage.clone(), raft_dir)?;
    let committed_index = hard.read_committed().ok().flatten().map_or(0, |c| c.index);
    let vote_sound = hard.read_vote().is_ok();
    let moved_to = lost_folder(data_dir);
    let lost = data_dir.join(LOST_DIR_NAME);
    storage.create_dir_all(&moved_to)?;
    for name in storage.list(raft_dir)? {
        if name == VOTE_FILE && vote_sound {
            continue;
        }
        storage.rename(&raft_dir.join(&name), &moved_to.join(&name))?;
    }
    storage.sync_dir(&moved_to)?;
    storage.sync_dir(&lost)?;
    storage.sync_dir(raft_dir)?;
    Ok(SetAside {
        moved_to,
        committed_index,
    })
}

/// Sets aside only what `damage` names, into `folder` (created if needed); says what it
/// did. Refuses a damaged snapshot when the log no longer reaches back to its start:
/// the state could then not be rebuilt at all.
pub fn accept_loss<S: Storage>(
    storage: &S,
    raft_dir: &Path,
    folder: &Path,
    damage: Damage,
) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    storage.create_dir_all(folder).map_err(io)?;
    let done = match damage {
        Damage::EntryAt { offset_bytes } => {
            cut_tail(storage, &raft_dir.join(LOG_FILE), offset_bytes, folder).map_err(io)?;
            format!(
                "entry log cut at byte {offset_bytes}, the rest kept in {}",
                folder.display()
            )
        }
        Damage::EntriesShort { held_index } => {
            move_into(storage, raft_dir, COMMITTED_FILE, folder).map_err(io)?;
            format!("committed index forgotten: the log holds entries through {held_index}")
        }
        Damage::StateFile(name) => {
            move_into(storage, raft_dir, name, folder).map_err(io)?;
            format!("{name} file set aside")
        }
        Damage::Snapshot => {
            if storage
                .list(raft_dir)
                .map_err(io)?
                .iter()
                .any(|n| n == PURGED_FILE)
            {
                return Err(
                    "the snapshot is damaged and the log no longer reaches back to \
                            its first entry: the state cannot be rebuilt; restore the data \
                            directory from a backup"
                        .into(),
                );
            }
            move_into(storage, raft_dir, SNAPSHOT_FILE, folder).map_err(io)?;
            "snapshot set aside: the state is rebuilt from the whole log".into()
        }
    };
    record(storage, folder, &format!("{damage:?}: {done}\n")).map_err(io)?;
    storage.sync_dir(folder).map_err(io)?;
    storage.sync_dir(raft_dir).map_err(io)?;
    Ok(done)
}

/// A lone node whose accepted loss left it nothing, no entry and no snapshot, lost its
/// membership with its log, yet openraft counts it initialised by its vote alone and
/// would keep it a learner for ever. Its vote is set aside into `folder` too, recorded,
/// so the node starts as a new cluster and makes itself the sole voter again. Returns
/// whether it did. A node with peers never comes here: its vote still guards elections.
pub fn forget_vote_of_emptied_node<S: Storage>(
    storage: &S,
    raft_dir: &Path,
    folder: &Path,
) -> std::io::Result<bool> {
    let names = storage.list(raft_dir)?;
    let has = |name: &str| names.iter().any(|n| n == name);
    let log_empty = !has(LOG_FILE)
        || storage
            .open_read_only(&raft_dir.join(LOG_FILE))?
            .len_bytes()?
            == 0;
    if !log_empty || has(SNAPSHOT_FILE) || !has(VOTE_FILE) {
        return Ok(false);
    }
    storage.create_dir_all(folder)?;
    move_into(storage, raft_dir, VOTE_FILE, folder)?;
    record(
        storage,
        folder,
        "Membership: nothing left of the log or a snapshot; vote set aside, the node \
         starts as a new one-node cluster\n",
    )?;
    storage.sync_dir(folder)?;
    storage.sync_dir(raft_dir)?;
    Ok(true)
}

/// Appends `line` to the record of accepted losses beside the files set aside, synced.
fn record<S: Storage>(storage: &S, folder: &Path, line: &str) -> std::io::Result<()> {
    let path = folder.join(LOSS_RECORD_FILE);
    let mut file = match storage.open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => storage.create(&path)?,
        Err(e) => return Err(e),
    };
    let end = file.len_bytes()?;
    file.write_all_at(end, line.as_bytes())?;
    file.sync()
}

/// A new folder for what one start sets aside: `<data_dir>/lost/raft-<unix ms>`.
pub fn lost_folder(data_dir: &Path) -> PathBuf {
    data_dir
        .join(LOST_DIR_NAME)
        .join(format!("raft-{}", unix_ms()))
}

fn move_into<S: Storage>(
    storage: &S,
    dir: &Path,
    name: &str,
    folder: &Path,
) -> std::io::Result<()> {
    storage.rename(&dir.join(name), &folder.join(name))
}

/// Copies `path` from `offset_bytes` on into `folder`, synced, then truncates it there.
fn cut_tail<S: Storage>(
    storage: &S,
    path: &Path,
    offset_bytes: u64,
    folder: &Path,
) -> std::io::Result<()> {
    let mut file = storage.open(path)?;
    let len = file.len_bytes()?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("entries");
    let mut tail = storage.create(&folder.join(format!("{name}.from-{offset_bytes}")))?;
    // Bounded memory: the tail is copied in chunks.
    let mut buf = vec![0u8; CUT_CHUNK_BYTES];
    let mut at = offset_bytes;
    while at < len {
        let n = (len - at).min(buf.len() as u64) as usize;
        file.read_exact_at(at, &mut buf[..n])?;
        tail.write_all_at(at - offset_bytes, &buf[..n])?;
        at += n as u64;
    }
    tail.sync()?;
    file.truncate(offset_bytes)?;
    file.sync()
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::simulated::SimulatedStorage;
    use openraft::{CommittedLeaderId, LogId, Vote};

    #[test]
    fn setting_aside_keeps_the_vote_and_moves_the_rest_durably() {
        let storage = SimulatedStorage::new(3);
        let data = Path::new("/data");
        let raft = data.join("raft");
        let mut hard = HardState::open(storage.clone(), &raft).expect("opens");
        hard.save_vote(&Vote::new(4, 2)).expect("votes");
        hard.save_committed(&LogId::new(CommittedLeaderId::new(4, 2), 77))
            .expect("commits");
        let mut entries = storage.create(&raft.join("entries")).expect("creates");
        entries.write_all_at(0, b"damaged entries").expect("writes");
        entries.sync().expect("syncs");
        storage.sync_dir(&raft).expect("syncs");

        let aside = set_aside(&storage, data, &raft).expect("set aside");
        assert_eq!(aside.committed_index, 77);
        storage.crash();
        assert_eq!(
            storage.list(&raft).expect("lists"),
            vec![VOTE_FILE.to_string()]
        );
        let mut moved = storage.list(&aside.moved_to).expect("lists");
        moved.sort();
        assert_eq!(moved, ["committed", "entries"]);
        let hard = HardState::open(storage.clone(), &raft).expect("reopens");
        assert_eq!(hard.read_vote().expect("reads"), Some(Vote::new(4, 2)));
    }
}
