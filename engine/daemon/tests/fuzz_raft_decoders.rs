//! The Raft entry record, input batch and peer frame decoders fed random and mutated
//! bytes: they never panic, never allocate past their bounds, and an entry record they
//! accept re-encodes to the same bytes. A std-only mutation loop seeded with valid
//! records and frames, so it runs in every test run.

mod workload;

use std::collections::{BTreeMap, BTreeSet};

use openraft::raft::{AppendEntriesRequest, VoteRequest};
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId, Membership, Vote};
use ringex_daemon::replication::admin::AdminRequest;
use ringex_daemon::replication::entry_record::{decode_entry, encode_entry};
use ringex_daemon::replication::input_batch::{InputBatch, StampedInput};
use ringex_daemon::replication::peer_frame::{
    check_body, decode_payload, encode_frame, parse_header, FrameKind,
};
use ringex_daemon::replication::type_config::{ClusterNode, RingexRaft};
use workload::{mutate, Rng, Workload};

const CASES: usize = 100_000;

fn entries() -> Vec<Entry<RingexRaft>> {
    let log_id = |index| LogId::new(CommittedLeaderId::new(2, 1), index);
    let mut workload = Workload::new(3);
    let mut batch = InputBatch::default();
    for seq in 1..=6 {
        batch.push(&StampedInput {
            seq,
            timestamp_ns: seq * 10,
            input: workload.next_input(),
        });
    }
    let node = ClusterNode {
        raft: "127.0.0.1:7710".into(),
        link: "127.0.0.1:7700".into(),
    };
    vec![
        Entry {
            log_id: log_id(1),
            payload: EntryPayload::Blank,
        },
        Entry {
            log_id: log_id(2),
            payload: EntryPayload::Normal(batch),
        },
        Entry {
            log_id: log_id(3),
            payload: EntryPayload::Membership(Membership::new(
                vec![BTreeSet::from([1])],
                BTreeMap::from([(1, node)]),
            )),
        },
    ]
}

fn seeds() -> Vec<Vec<u8>> {
    let entries = entries();
    let mut seeds = Vec::new();
    for entry in &entries {
        let mut bytes = Vec::new();
        encode_entry(entry, 0xABCD, &mut bytes);
        seeds.push(bytes);
        if let EntryPayload::Normal(batch) = &entry.payload {
            seeds.push(batch.as_bytes().to_vec());
        }
    }
    let append = AppendEntriesRequest::<RingexRaft> {
        vote: Vote::new_committed(2, 1),
        prev_log_id: None,
        entries,
        leader_commit: None,
    };
    seeds.push(encode_frame(FrameKind::AppendEntries, &append).expect("encodes"));
    let vote = VoteRequest::new(Vote::new(3, 2), None);
    seeds.push(encode_frame(FrameKind::Vote, &vote).expect("encodes"));
    seeds.push(encode_frame(FrameKind::Admin, &AdminRequest::Remove { id: 2 }).expect("encodes"));
    seeds
}

/// The peer frame path a server takes: header, checksum, then the payload by kind.
fn decode_frame(bytes: &[u8]) -> bool {
    let Some(header) = bytes.get(..8) else {
        return false;
    };
    let Ok((len, checksum)) = parse_header(header.try_into().expect("8 bytes")) else {
        return false;
    };
    let Some(body) = bytes.get(8..8 + len) else {
        return false;
    };
    let Ok((kind, payload)) = check_body(body, checksum) else {
        return false;
    };
    match kind {
        FrameKind::AppendEntries => {
            decode_payload::<AppendEntriesRequest<RingexRaft>>(payload).is_ok()
        }
        FrameKind::Vote => decode_payload::<VoteRequest<u64>>(payload).is_ok(),
        FrameKind::InstallSnapshot => false,
        FrameKind::Admin => decode_payload::<AdminRequest>(payload).is_ok(),
    }
}

#[test]
fn raft_decoders_never_panic_and_round_trip() {
    let seeds = seeds();
    let mut rng = Rng(0x5AF7);
    let (mut entries, mut batches, mut frames) = (0, 0, 0);
    for _ in 0..CASES {
        let bytes = mutate(&mut rng, &seeds, 256);
        if let Ok((entry, header)) = decode_entry(&bytes) {
            let mut again = Vec::new();
            encode_entry(&entry, header.prev_checksum, &mut again);
            assert_eq!(again[..], bytes[..header.size_bytes]);
            entries += 1;
        }
        if let Ok(batch) = InputBatch::from_bytes(bytes.clone()) {
            assert_eq!(batch.as_bytes(), &bytes[..]);
            batches += 1;
        }
        frames += usize::from(decode_frame(&bytes));
    }
    // Mutations that only grew a seed stay valid: every decoder was exercised.
    assert!(
        entries > 0 && batches > 0 && frames > 0,
        "{entries} {batches} {frames}"
    );
}

#[test]
fn every_entry_kind_round_trips_and_every_cut_and_flipped_bit_is_caught() {
    let mut prev = 0;
    for entry in entries() {
        let mut bytes = Vec::new();
        let checksum = encode_entry(&entry, prev, &mut bytes);
        let (back, header) = decode_entry(&bytes).expect("decodes");
        assert_eq!(back, entry);
        assert_eq!((header.checksum, header.prev_checksum), (checksum, prev));
        prev = checksum;
        for cut in 0..bytes.len() {
            assert!(decode_entry(&bytes[..cut]).is_err());
        }
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_entry(&damaged).is_err(), "bit {bit}");
        }
    }
}
