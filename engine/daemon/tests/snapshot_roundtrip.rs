//! Engine snapshots: the restored engine has the same state hash, passes its invariant
//! check, encodes to the same bytes and goes on producing exactly the same events; and
//! no bytes, however damaged, make decoding panic.

mod workload;

use ringex_core::{Engine, SnapshotError, SNAPSHOT_VERSION};
use workload::*;

/// Header: magic 8, version 4, body length 8, body checksum 4.
const HEADER_BYTES: usize = 24;

fn assert_roundtrip(engine: &Engine) -> Engine {
    let bytes = engine.encode_snapshot();
    let restored = Engine::decode_snapshot(&bytes, &engine_config()).expect("decodes");
    assert_eq!(restored.state_hash(), engine.state_hash());
    assert_eq!(restored.check_invariants(), Ok(()));
    assert_eq!(restored.encode_snapshot(), bytes);
    restored
}

#[test]
fn restored_engines_go_on_exactly_as_the_original() {
    for seed in 1..=4 {
        let mut engine = Engine::new(engine_config()).unwrap();
        let mut workload = Workload::new(seed);
        assert_roundtrip(&engine);
        let mut deepest = 0;
        for _ in 0..12 {
            apply_more(&mut engine, &mut workload, 700);
            deepest = deepest.max(engine.resting_orders());
            let mut restored = assert_roundtrip(&engine);
            let mut same = workload.clone();
            let expected = apply_more(&mut engine, &mut workload, 300);
            assert_eq!(apply_more(&mut restored, &mut same, 300), expected);
            assert_eq!(restored.state_hash(), engine.state_hash());
        }
        assert!(deepest > 40, "the workload builds books: {deepest}");
    }
}

#[test]
fn a_snapshot_taken_encodes_the_state_it_was_taken_in() {
    let mut engine = Engine::new(engine_config()).unwrap();
    let mut workload = Workload::new(11);
    apply_more(&mut engine, &mut workload, 3_000);
    let taken = engine.take_snapshot();
    let then = engine.encode_snapshot();
    // The engine goes on (closing more ids) before the taken snapshot is encoded.
    apply_more(&mut engine, &mut workload, 3_000);
    assert_ne!(engine.encode_snapshot(), then);
    assert_eq!(taken.encode(), then);
}

#[test]
fn the_body_checksum_is_crc32c() {
    let mut engine = Engine::new(engine_config()).unwrap();
    apply_more(&mut engine, &mut Workload::new(7), 2_000);
    let bytes = engine.encode_snapshot();
    assert_eq!(&bytes[..8], b"RINGEXSN");
    assert_eq!(bytes[8..12], SNAPSHOT_VERSION.to_le_bytes());
    let stored = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(stored, crc32c::crc32c(&bytes[HEADER_BYTES..]));
}

#[test]
fn header_damage_is_named() {
    let engine = Engine::new(engine_config()).unwrap();
    let bytes = engine.encode_snapshot();
    let config = engine_config();
    let mut bad = bytes.clone();
    bad[0] ^= 1;
    assert!(matches!(
        Engine::decode_snapshot(&bad, &config),
        Err(SnapshotError::BadMagic)
    ));
    let mut bad = bytes.clone();
    bad[8] = 99;
    assert!(matches!(
        Engine::decode_snapshot(&bad, &config),
        Err(SnapshotError::UnsupportedVersion(_))
    ));
    assert!(matches!(
        Engine::decode_snapshot(&bytes[..bytes.len() - 1], &config),
        Err(SnapshotError::BadLength { .. })
    ));
    let mut bad = bytes.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(matches!(
        Engine::decode_snapshot(&bad, &config),
        Err(SnapshotError::BadChecksum { .. })
    ));
}

/// Rewrites the body checksum so the damage reaches the field checks.
fn reseal(bytes: &mut [u8]) {
    let crc = crc32c::crc32c(&bytes[HEADER_BYTES..]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn damaged_bodies_never_panic_and_never_decode_to_a_broken_engine() {
    let mut engine = Engine::new(engine_config()).unwrap();
    apply_more(&mut engine, &mut Workload::new(11), 3_000);
    let bytes = engine.encode_snapshot();
    let config = engine_config();
    let mut rng = Rng(11);
    let mut accepted = 0;
    for case in 0..20_000u64 {
        let mut bad = bytes.clone();
        match case % 4 {
            // A few flipped bits.
            0 | 1 => {
                for _ in 0..1 + rng.below(3) {
                    let bit =
                        HEADER_BYTES as u64 * 8 + rng.below((bad.len() - HEADER_BYTES) as u64 * 8);
                    bad[(bit / 8) as usize] ^= 1 << (bit % 8);
                }
            }
            // A run of bytes overwritten with one value (counts and ids go huge or zero).
            2 => {
                let start = HEADER_BYTES + rng.below((bad.len() - HEADER_BYTES) as u64) as usize;
                let end = (start + 1 + rng.below(16) as usize).min(bad.len());
                let value = [0x00, 0xFF, 0x01, 0x7F][rng.below(4) as usize];
                bad[start..end].fill(value);
            }
            // Cut short, the declared length adjusted.
            _ => {
                let keep = HEADER_BYTES + rng.below((bad.len() - HEADER_BYTES) as u64) as usize;
                bad.truncate(keep);
                let body_len = (keep - HEADER_BYTES) as u64;
                bad[12..20].copy_from_slice(&body_len.to_le_bytes());
            }
        }
        reseal(&mut bad);
        if let Ok(restored) = Engine::decode_snapshot(&bad, &config) {
            // Whatever is accepted is a consistent engine that encodes canonically.
            accepted += 1;
            assert_eq!(restored.check_invariants(), Ok(()));
            let again = restored.encode_snapshot();
            let twice = Engine::decode_snapshot(&again, &config).unwrap();
            assert_eq!(twice.state_hash(), restored.state_hash());
        }
    }
    // Most damage is caught by the field checks themselves.
    assert!(accepted < 10_000, "{accepted} damaged snapshots accepted");
}
