//! What one normal Raft entry carries: a batch of inputs stamped by the leader's
//! sequencer, in two forms made once. The encoded bytes are what the log journals and
//! peers receive; the decoded inputs are what the state machine applies. Both sit
//! behind one shared pointer, so openraft's copies of an entry (the log's recent
//! entries, the apply and replication reads) copy no inputs and decode none again.
//!
//! Bytes from the log or from a peer are checked and decoded once, when they arrive
//! ([`InputBatch::from_bytes`]).

use std::fmt;
use std::sync::Arc;

use ringex_core::{Seq, TimestampNs};
use ringex_protocol::command_codec::{decode_input, encode_input, encoded_len};
use ringex_protocol::Input;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes of one input's header inside a batch: seq then timestamp.
const STAMP_BYTES: usize = 16;

/// Sequenced inputs, each encoded as `seq u64, timestamp_ns u64, input` (the command
/// codec's encoding), little-endian, back to back. Seqs are consecutive within a batch.
#[derive(Clone, Default)]
pub struct InputBatch(Arc<Batch>);

#[derive(Clone, Default)]
struct Batch {
    bytes: Vec<u8>,
    inputs: Vec<StampedInput>,
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
        // Unshared while it is being filled: no copy is made here.
        let batch = Arc::make_mut(&mut self.0);
        batch.bytes.extend_from_slice(&stamped.seq.to_le_bytes());
        batch
            .bytes
            .extend_from_slice(&stamped.timestamp_ns.to_le_bytes());
        encode_input(&stamped.input, &mut batch.bytes);
        batch.inputs.push(*stamped);
    }

    pub fn len(&self) -> usize {
        self.0.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.inputs.is_empty()
    }

    /// The encoded form, as journaled and sent to peers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    /// The inputs in order.
    pub fn inputs(&self) -> &[StampedInput] {
        &self.0.inputs
    }

    /// Checks and adopts bytes read from the log or a peer: every input decodes and
    /// the seqs are consecutive. Never trusts a length it has not checked.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<InputBatch, BadBatch> {
        let mut inputs: Vec<StampedInput> = Vec::new();
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let (stamped, used) = split_input(rest)?;
            if inputs
                .last()
                .is_some_and(|p| p.seq.checked_add(1) != Some(stamped.seq))
            {
                return Err(BadBatch("seqs are not consecutive"));
            }
            inputs.push(stamped);
            rest = &rest[used..];
        }
        if u32::try_from(inputs.len()).is_err() {
            return Err(BadBatch("too many inputs"));
        }
        Ok(InputBatch(Arc::new(Batch { bytes, inputs })))
    }

    pub fn first_seq(&self) -> Option<Seq> {
        self.0.inputs.first().map(|s| s.seq)
    }

    pub fn last_seq(&self) -> Option<Seq> {
        self.0.inputs.last().map(|s| s.seq)
    }

    /// Memory the batch holds, both forms: what a cache of entries counts.
    pub fn held_bytes(&self) -> usize {
        self.0.bytes.len() + self.0.inputs.len() * std::mem::size_of::<StampedInput>()
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

impl PartialEq for InputBatch {
    fn eq(&self, other: &InputBatch) -> bool {
        self.0.bytes == other.0.bytes
    }
}

impl Eq for InputBatch {}

impl fmt::Debug for InputBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InputBatch({} inputs, seqs {:?}..={:?})",
            self.len(),
            self.first_seq(),
            self.last_seq()
        )
    }
}

/// To peers: the encoded bytes as one byte string (written in one piece, not byte by
/// byte), then the count of inputs.
impl Serialize for InputBatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut wire = serializer.serialize_struct("InputBatch", 2)?;
        wire.serialize_field("bytes", &ByteString(&self.0.bytes))?;
        wire.serialize_field("inputs", &(self.len() as u32))?;
        wire.end()
    }
}

/// From a peer: the bytes are checked and decoded as the log's are, and must hold the
/// count of inputs stated.
impl<'de> Deserialize<'de> for InputBatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<InputBatch, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "InputBatch")]
        struct Wire {
            bytes: OwnedByteString,
            inputs: u32,
        }
        let wire = Wire::deserialize(deserializer)?;
        let batch = InputBatch::from_bytes(wire.bytes.0).map_err(de::Error::custom)?;
        if batch.len() != wire.inputs as usize {
            return Err(de::Error::custom(
                "input batch: count does not match its bytes",
            ));
        }
        Ok(batch)
    }
}

struct ByteString<'a>(&'a [u8]);

impl Serialize for ByteString<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

struct OwnedByteString(Vec<u8>);

impl<'de> Deserialize<'de> for OwnedByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OwnedByteString, D::Error> {
        deserializer.deserialize_byte_buf(ByteStringVisitor)
    }
}

struct ByteStringVisitor;

impl<'de> Visitor<'de> for ByteStringVisitor {
    type Value = OwnedByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<OwnedByteString, E> {
        Ok(OwnedByteString(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<OwnedByteString, E> {
        Ok(OwnedByteString(v))
    }

    /// Formats without byte strings send a sequence; its length is never trusted
    /// for an allocation (the elements are counted as they come).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OwnedByteString, A::Error> {
        let mut bytes = Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            bytes.push(b);
        }
        Ok(OwnedByteString(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_of(seqs: std::ops::Range<u64>, input: Input) -> InputBatch {
        let mut batch = InputBatch::default();
        for seq in seqs {
            batch.push(&StampedInput {
                seq,
                timestamp_ns: seq * 100,
                input,
            });
        }
        batch
    }

    #[test]
    fn a_batch_round_trips_through_its_bytes() {
        let batch = batch_of(7..10, Input::TakeSnapshot);
        let back = InputBatch::from_bytes(batch.as_bytes().to_vec()).expect("valid");
        assert_eq!(back, batch);
        assert_eq!(back.inputs(), batch.inputs());
        assert_eq!(
            (back.first_seq(), back.last_seq(), back.len()),
            (Some(7), Some(9), 3)
        );
    }

    #[test]
    fn damaged_batches_are_refused_never_followed() {
        let bytes = batch_of(1..2, Input::Shutdown).as_bytes().to_vec();
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

    #[test]
    fn peers_get_the_bytes_in_one_piece_and_a_wrong_count_is_refused() {
        use bincode::Options;
        let codec = || bincode::DefaultOptions::new().with_limit(1 << 20);
        let batch = batch_of(3..6, Input::TakeSnapshot);
        let wire = codec().serialize(&batch).expect("serialises");
        let back: InputBatch = codec().deserialize(&wire).expect("deserialises");
        assert_eq!(back.inputs(), batch.inputs());
        // The count is the last byte (a small varint): claiming one more is refused.
        let mut lying = wire.clone();
        *lying.last_mut().expect("not empty") += 1;
        assert!(codec().deserialize::<InputBatch>(&lying).is_err());
        let json = serde_json::to_string(&batch).expect("serialises");
        let back: InputBatch = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, batch);
    }
}
