//! The Raft state that is not in the log: the vote, the last purged log id and the
//! committed log id, each in a small checksummed file of the Raft directory.
//!
//! The vote and the purge point are written to a temporary file, synced, renamed over
//! the old one and the directory synced before the call returns: a vote must survive a
//! crash, or a node could vote twice in a term. The committed log id is written in
//! place without a sync: it only tells a restarted node how far it may re-apply its own
//! log before hearing from a leader, and any value it ever held was committed, so an
//! older value (or none, if the write tore) is still true.

use std::path::{Path, PathBuf};

use openraft::{CommittedLeaderId, LogId, Vote};

use super::durable_replace::replace_durably;
use crate::storage::{Storage, StorageFile};

pub const VOTE_FILE: &str = "vote";
pub const PURGED_FILE: &str = "purged";
pub const COMMITTED_FILE: &str = "committed";
/// `a u64, b u64, c u64, crc u32`, little-endian; the checksum covers the 24 bytes.
const STATE_BYTES: usize = 28;

fn encode(a: u64, b: u64, c: u64) -> [u8; STATE_BYTES] {
    let mut bytes = [0u8; STATE_BYTES];
    bytes[0..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..16].copy_from_slice(&b.to_le_bytes());
    bytes[16..24].copy_from_slice(&c.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[..24]);
    bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn decode(bytes: &[u8]) -> Option<(u64, u64, u64)> {
    if bytes.len() != STATE_BYTES {
        return None;
    }
    let crc = u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[..24]) != crc {
        return None;
    }
    let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    Some((field(0), field(8), field(16)))
}

fn encode_log_id(log_id: &LogId<u64>) -> [u8; STATE_BYTES] {
    encode(
        log_id.index,
        log_id.leader_id.term,
        log_id.leader_id.node_id,
    )
}

fn decode_log_id(bytes: &[u8]) -> Option<LogId<u64>> {
    let (index, term, node_id) = decode(bytes)?;
    Some(LogId::new(CommittedLeaderId::new(term, node_id), index))
}

/// The small durable files of one node's Raft directory.
pub struct HardState<S: Storage> {
    storage: S,
    dir: PathBuf,
    committed: Option<S::File>,
}

impl<S: Storage> HardState<S> {
    pub fn open(storage: S, dir: &Path) -> std::io::Result<HardState<S>> {
        storage.create_dir_all(dir)?;
        Ok(HardState {
            storage,
            dir: dir.to_path_buf(),
            committed: None,
        })
    }

    /// The saved vote; an error if the file exists but is damaged: a node that cannot
    /// tell whom it voted for must not vote again in that term.
    pub fn read_vote(&self) -> std::io::Result<Option<Vote<u64>>> {
        let Some(bytes) = self.read(VOTE_FILE)? else {
            return Ok(None);
        };
        let (term, node_id, committed) = decode(&bytes).ok_or_else(|| damaged(VOTE_FILE))?;
        let mut vote = Vote::new(term, node_id);
        vote.committed = committed == 1;
        Ok(Some(vote))
    }

    pub fn save_vote(&self, vote: &Vote<u64>) -> std::io::Result<()> {
        let bytes = encode(
            vote.leader_id.term,
            vote.leader_id.node_id,
            u64::from(vote.committed),
        );
        replace_durably(&self.storage, &self.dir, VOTE_FILE, &bytes)
    }

    pub fn read_purged(&self) -> std::io::Result<Option<LogId<u64>>> {
        match self.read(PURGED_FILE)? {
            None => Ok(None),
            Some(bytes) => decode_log_id(&bytes)
                .map(Some)
                .ok_or_else(|| damaged(PURGED_FILE)),
        }
    }

    pub fn save_purged(&self, log_id: &LogId<u64>) -> std::io::Result<()> {
        replace_durably(
            &self.storage,
            &self.dir,
            PURGED_FILE,
            &encode_log_id(log_id),
        )
    }

    /// The committed log id last written; none if it was never written or tore.
    pub fn read_committed(&self) -> std::io::Result<Option<LogId<u64>>> {
        Ok(self
            .read(COMMITTED_FILE)?
            .and_then(|bytes| decode_log_id(&bytes)))
    }

    /// Written in place, not synced (see the module notes for why that is sound).
    pub fn save_committed(&mut self, log_id: &LogId<u64>) -> std::io::Result<()> {
        if self.committed.is_none() {
            let path = self.dir.join(COMMITTED_FILE);
            let file = match self.storage.open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let f = self.storage.create(&path)?;
                    self.storage.sync_dir(&self.dir)?;
                    f
                }
                Err(e) => return Err(e),
            };
            self.committed = Some(file);
        }
        let file = self.committed.as_mut().expect("opened above");
        file.write_all_at(0, &encode_log_id(log_id))
    }

    fn read(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        let file = match self.storage.open_read_only(&self.dir.join(name)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = file.len_bytes()?;
        if len != STATE_BYTES as u64 {
            return Ok(Some(Vec::new()));
        }
        let mut bytes = vec![0u8; STATE_BYTES];
        file.read_exact_at(0, &mut bytes)?;
        Ok(Some(bytes))
    }
}

fn damaged(name: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("raft {name} file is damaged: repair this node from the others"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::simulated::SimulatedStorage;

    #[test]
    fn vote_purge_and_commit_survive_a_reopen() {
        let storage = SimulatedStorage::new(1);
        let dir = Path::new("/raft");
        let mut state = HardState::open(storage.clone(), dir).expect("opens");
        assert_eq!(state.read_vote().expect("reads"), None);
        let vote = Vote::new_committed(4, 2);
        state.save_vote(&vote).expect("saves");
        let log_id = LogId::new(CommittedLeaderId::new(4, 2), 17);
        state.save_purged(&log_id).expect("saves");
        state.save_committed(&log_id).expect("saves");
        let state = HardState::open(storage, dir).expect("opens");
        assert_eq!(state.read_vote().expect("reads"), Some(vote));
        assert_eq!(state.read_purged().expect("reads"), Some(log_id));
        assert_eq!(state.read_committed().expect("reads"), Some(log_id));
    }
}
