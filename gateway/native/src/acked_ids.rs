//! The client order ids the gateway has seen Accepted (or taken by a Replace) today, per
//! account, so a NewOrder or Replace reusing one is refused at the gateway even if the
//! engine behind it forgot the id (an engine restored from an older journal).
//!
//! Each id is also written out as a record for the acked-id journal, so the set survives
//! a gateway restart: `account u32, client_order_id u64, crc32c u32` (little-endian), the
//! checksum over the first 12 bytes. The set is cleared at the engine's day end, when
//! client order ids may be used again. It holds at most `max` ids: past that, further
//! ids are neither kept nor recorded (the engine's own check still applies) and counted
//! in `dropped`.

use foldhash::{HashMap, HashMapExt, HashSet};

/// Bytes of one record.
pub const RECORD_BYTES: usize = 16;

pub struct AckedIds {
    ids: HashMap<u32, HashSet<u64>>,
    len: usize,
    max: usize,
    /// Records of ids added since the last [`AckedIds::take_output`], when persisted.
    out: Option<Vec<u8>>,
    /// The set was cleared since the last [`AckedIds::take_output`]: the journal must be
    /// emptied before the new records are appended.
    cleared: bool,
    /// Ids not kept because the set was full.
    pub dropped: u64,
}

fn checksum(body: &[u8]) -> u32 {
    crc32c::crc32c(body)
}

/// Appends the record of one id.
pub fn encode_record(account: u32, client_order_id: u64, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&account.to_le_bytes());
    out.extend_from_slice(&client_order_id.to_le_bytes());
    let sum = checksum(&out[start..]);
    out.extend_from_slice(&sum.to_le_bytes());
}

/// The records at the start of `bytes`, up to the first torn or damaged one, and how many
/// bytes they span.
pub fn decode_records(bytes: &[u8]) -> (Vec<(u32, u64)>, usize) {
    let mut records = Vec::new();
    let mut used = 0;
    for chunk in bytes.chunks_exact(RECORD_BYTES) {
        let (body, sum) = chunk.split_at(12);
        if checksum(body).to_le_bytes() != sum {
            break;
        }
        let account = u32::from_le_bytes(body[..4].try_into().expect("4 bytes"));
        let coid = u64::from_le_bytes(body[4..].try_into().expect("8 bytes"));
        records.push((account, coid));
        used += RECORD_BYTES;
    }
    (records, used)
}

impl AckedIds {
    /// A set of at most `max` ids; with `persist`, each new id's record is handed out by
    /// [`AckedIds::take_output`].
    pub fn new(max: usize, persist: bool) -> AckedIds {
        AckedIds {
            ids: HashMap::new(),
            len: 0,
            max,
            out: persist.then(Vec::new),
            cleared: false,
            dropped: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, account: u32, client_order_id: u64) -> bool {
        self.ids
            .get(&account)
            .is_some_and(|set| set.contains(&client_order_id))
    }

    /// Adds an id; a new one is recorded for the journal.
    pub fn insert(&mut self, account: u32, client_order_id: u64) {
        if self.contains(account, client_order_id) {
            return;
        }
        if self.len >= self.max {
            self.dropped += 1;
            return;
        }
        self.ids.entry(account).or_default().insert(client_order_id);
        self.len += 1;
        if let Some(out) = &mut self.out {
            encode_record(account, client_order_id, out);
        }
    }

    /// A new trading day: every id may be used again.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.len = 0;
        self.cleared = true;
        if let Some(out) = &mut self.out {
            out.clear();
        }
    }

    /// Whether the journal must be emptied first, and the records to append after.
    pub fn take_output(&mut self) -> (bool, Vec<u8>) {
        (
            std::mem::take(&mut self.cleared),
            self.out.as_mut().map(std::mem::take).unwrap_or_default(),
        )
    }

    /// Replaces the set with a journal's records; returns how many bytes were whole,
    /// undamaged records (a torn or damaged tail is left out, as is anything past `max`).
    pub fn restore(&mut self, bytes: &[u8]) -> usize {
        self.ids.clear();
        self.len = 0;
        let (records, mut used) = decode_records(bytes);
        for (i, (account, coid)) in records.into_iter().enumerate() {
            if self.len >= self.max {
                used = i * RECORD_BYTES;
                break;
            }
            if self.ids.entry(account).or_default().insert(coid) {
                self.len += 1;
            }
        }
        if let Some(out) = &mut self.out {
            out.clear();
        }
        self.cleared = false;
        used
    }
}

/// The acknowledged id a NewOrder, or a Replace giving its order a new id, would reuse.
pub fn new_id(cmd: &ringex_core::Command) -> Option<u64> {
    match cmd {
        ringex_core::Command::NewOrder(o) => Some(o.client_order_id),
        ringex_core::Command::Replace(r) if r.client_order_id != r.orig_client_order_id => {
            Some(r.client_order_id)
        }
        _ => None,
    }
}
