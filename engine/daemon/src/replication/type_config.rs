//! The types openraft is instantiated with: what one Raft entry carries (a batch of
//! sequenced inputs), what applying it answers, and what the cluster knows of a node.
//!
//! A normal entry is a whole batch of inputs stamped by the leader's sequencer: openraft
//! 0.9 waits for each append's fsync before handing over the next, so throughput comes
//! from large entries (group commit), never from many small ones.

use std::fmt;
use std::io::Cursor;

use ringex_core::{Seq, TimestampNs};
use ringex_protocol::command_codec::{decode_input, encode_input, encoded_len};
use ringex_protocol::Input;
use serde::{Deserialize, Serialize};

openraft::declare_raft_types!(
    /// ringex's Raft: entries are input batches, applying one answers its last seq.
    pub RingexRaft:
        D = InputBatch,
        R = AppliedThrough,
        Node = ClusterNode,
);

/// Bytes of one input's header inside a batch: seq then timestamp.
const STAMP_BYTES: usize = 16;

/// Sequenced inputs, each `seq u64, timestamp_ns u64, input` (the command codec's
/// encoding), little-endian, back to back. Seqs are consecutive within a batch.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputBatch {
    bytes: Vec<u8>,
    inputs: u32,
}

/// One input of a batch, as the sequencer stamped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StampedInput {
    pub seq: Seq,
    pub timestamp_ns: TimestampNs,
    pub input: Input,
}

/// Why the bytes of a batch (from the log or a peer) are not a valid batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadBatch(pub &'static str);

impl fmt::Display for BadBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid input batch: {}", self.0)
    }
}

impl std::error::Error for BadBatch {}

impl InputBatch {
    /// Appends one stamped input; its seq must follow the previous one.
    pub fn push(&mut self, stamped: &StampedInput) {
        if let Some(last) = self.last_seq() {
            assert_eq!(stamped.seq, last + 1, "a batch holds consecutive seqs");
        }
        self.bytes.extend_from_slice(&stamped.seq.to_le_bytes());
        self.bytes
            .extend_from_slice(&stamped.timestamp_ns.to_le_bytes());
        encode_input(&stamped.input, &mut self.bytes);
        self.inputs += 1;
    }

    pub fn len(&self) -> usize {
        self.inputs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.inputs == 0
    }

    /// The encoded form, as journaled and sent to peers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks and adopts bytes read from the log or a peer: every input decodes and
    /// the seqs are consecutive. Never trusts a length it has not checked.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<InputBatch, BadBatch> {
        let mut batch = InputBatch { bytes, inputs: 0 };
        let mut count: u32 = 0;
        let mut previous: Option<Seq> = None;
        for stamped in batch.iter() {
            let stamped = stamped?;
            if previous.is_some_and(|p| p.checked_add(1) != Some(stamped.seq)) {
                return Err(BadBatch("seqs are not consecutive"));
            }
            previous = Some(stamped.seq);
            count = count.checked_add(1).ok_or(BadBatch("too many inputs"))?;
        }
        batch.inputs = count;
        Ok(batch)
    }

    /// The inputs in order; an item is an error where the bytes stop making sense.
    pub fn iter(&self) -> impl Iterator<Item = Result<StampedInput, BadBatch>> + '_ {
        let mut rest = self.bytes.as_slice();
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let item = split_input(rest);
            match item {
                Ok((stamped, used)) => {
                    rest = &rest[used..];
                    Some(Ok(stamped))
                }
                Err(e) => {
                    rest = &[];
                    Some(Err(e))
                }
            }
        })
    }

    pub fn first_seq(&self) -> Option<Seq> {
        self.iter().next().and_then(Result::ok).map(|s| s.seq)
    }

    pub fn last_seq(&self) -> Option<Seq> {
        let first = self.first_seq()?;
        Some(first + u64::from(self.inputs) - 1)
    }
}

fn split_input(bytes: &[u8]) -> Result<(StampedInput, usize), BadBatch> {
    if bytes.len() <= STAMP_BYTES {
        return Err(BadBatch("input cut short"));
    }
    let len = encoded_len(bytes[STAMP_BYTES]).ok_or(BadBatch("unknown input type"))?;
    let end = STAMP_BYTES + len;
    if bytes.len() < end {
        return Err(BadBatch("input cut short"));
    }
    let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let input =
        decode_input(&bytes[STAMP_BYTES..end]).map_err(|_| BadBatch("input does not decode"))?;
    let stamped = StampedInput {
        seq: field(0),
        timestamp_ns: field(8),
        input,
    };
    Ok((stamped, end))
}

impl fmt::Debug for InputBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InputBatch({} inputs, seqs {:?}..={:?})",
            self.inputs,
            self.first_seq(),
            self.last_seq()
        )
    }
}

/// What applying an entry answers: the last seq the state machine has applied (0
/// before any input), so a writer knows its batch went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedThrough(pub Seq);

/// What the cluster records of a node in its membership: its two listeners.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterNode {
    /// The Raft peer listener, `host:port`.
    pub raft: String,
    /// The gateway link listener, `host:port`.
    pub link: String,
}

impl fmt::Display for ClusterNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "raft {} link {}", self.raft, self.link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_round_trips_through_its_bytes() {
        let mut batch = InputBatch::default();
        for seq in 7..10 {
            batch.push(&StampedInput {
                seq,
                timestamp_ns: seq * 100,
                input: Input::TakeSnapshot,
            });
        }
        let back = InputBatch::from_bytes(batch.as_bytes().to_vec()).expect("valid");
        assert_eq!(back, batch);
        assert_eq!(
            (back.first_seq(), back.last_seq(), back.len()),
            (Some(7), Some(9), 3)
        );
    }

    #[test]
    fn damaged_batches_are_refused_never_followed() {
        let mut batch = InputBatch::default();
        batch.push(&StampedInput {
            seq: 1,
            timestamp_ns: 1,
            input: Input::Shutdown,
        });
        let bytes = batch.as_bytes().to_vec();
        for cut in 0..bytes.len() {
            assert!(InputBatch::from_bytes(bytes[..cut].to_vec()).is_err() || cut == 0);
        }
        let mut twice = bytes.clone();
        twice.extend_from_slice(&bytes);
        assert_eq!(
            InputBatch::from_bytes(twice),
            Err(BadBatch("seqs are not consecutive"))
        );
    }
}
