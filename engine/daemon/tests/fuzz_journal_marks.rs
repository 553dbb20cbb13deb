//! The durable mark and loss entry decoders fed random and mutated bytes: they never
//! panic, and whatever they accept re-encodes to the same bytes. A std-only mutation
//! loop seeded with valid slots and entries, so it runs in every test run.

mod workload;

use ringex_daemon::journal::durable_mark::{DurableMark, MarkState, MARK_SLOT_BYTES};
use ringex_daemon::journal::loss_record::{LossKind, RecordedLoss, LOSS_ENTRY_BYTES};
use workload::{mutate, Rng};

const CASES: usize = 200_000;

fn seeds() -> Vec<Vec<u8>> {
    let marks = [MarkState::Running, MarkState::CleanStop].map(|state| {
        DurableMark {
            state,
            generation: 7,
            durable_seq: 123_456,
            durable_checksum: 0xDEAD_BEEF,
        }
        .encode()
        .to_vec()
    });
    let losses = [LossKind::AcknowledgedCut, LossKind::HistoryOnly].map(|kind| {
        RecordedLoss {
            kind,
            first_seq: 10,
            last_seq: 20,
            kept_last_seq: 9,
            recorded_unix_ms: 1_700_000_000_000,
        }
        .encode()
        .to_vec()
    });
    marks.into_iter().chain(losses).collect()
}

#[test]
fn mark_and_loss_decoders_never_panic_and_round_trip() {
    let seeds = seeds();
    let mut rng = Rng(0xF022);
    let (mut marks, mut losses) = (0, 0);
    for _ in 0..CASES {
        let bytes = mutate(&mut rng, &seeds, 2 * MARK_SLOT_BYTES);
        if let Ok(mark) = DurableMark::decode(&bytes) {
            assert_eq!(&mark.encode()[..], &bytes[..MARK_SLOT_BYTES]);
            marks += 1;
        }
        if let Ok(loss) = RecordedLoss::decode(&bytes) {
            assert_eq!(&loss.encode()[..], &bytes[..LOSS_ENTRY_BYTES]);
            losses += 1;
        }
    }
    // Mutations that only grew a seed stay valid: both decoders were exercised.
    assert!(marks > 0 && losses > 0, "{marks} {losses}");
}
