//! The engine link's frames byte for byte, as the link has always carried them: the
//! declared encoders must not move a byte. And a Goodbye's reason is checked like every
//! other enum.

use ringex_core::Event;
use ringex_protocol::link::{
    decode_from_engine, write_engine_heartbeat, write_events, write_expired, write_goodbye,
    write_heartbeat, write_input, write_not_leader, write_resume, write_timed_input_with,
    write_welcome, GoodbyeReason, ResumeFrom, LINK_GOODBYE,
};
use ringex_protocol::{DecodeError, Input};

/// A frame: the u32 length, the type byte, then the given pieces in order.
fn frame(kind: u8, pieces: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = std::iter::once(kind)
        .chain(pieces.iter().flat_map(|p| p.iter().copied()))
        .collect();
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend(body);
    out
}

fn written(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut buf = Vec::new();
    write(&mut buf);
    buf
}

#[test]
fn frames_to_the_engine_keep_their_bytes() {
    let snapshot = [b'P'];
    let seven = 7u64.to_le_bytes();
    let deadline = 0x0102_0304_0506_0708u64.to_le_bytes();
    assert_eq!(
        written(|b| write_input(b, 7, &Input::TakeSnapshot)),
        frame(b'C', &[&seven, &snapshot])
    );
    assert_eq!(
        written(|b| write_timed_input_with(b, 7, 0x0102_0304_0506_0708, |b| b.push(b'P'))),
        frame(b'T', &[&seven, &deadline, &snapshot])
    );
    assert_eq!(
        written(|b| write_resume(b, ResumeFrom::After(7))),
        frame(b'R', &[&seven, &[0]])
    );
    assert_eq!(
        written(|b| write_resume(b, ResumeFrom::Live)),
        frame(b'R', &[&[0; 8], &[1]])
    );
    assert_eq!(written(write_heartbeat), frame(b'H', &[]));
}

#[test]
fn frames_from_the_engine_keep_their_bytes() {
    let (two, nine) = (2u64.to_le_bytes(), 9u64.to_le_bytes());
    assert_eq!(written(|b| write_welcome(b, 9)), frame(b'W', &[&nine]));
    assert_eq!(
        written(|b| write_engine_heartbeat(b, 9)),
        frame(b'H', &[&nine])
    );
    assert_eq!(written(|b| write_expired(b, 9)), frame(b'X', &[&nine]));
    assert_eq!(
        written(|b| write_goodbye(b, GoodbyeReason::BadInput, 3)),
        frame(b'Z', &[&[2, 3]])
    );
    assert_eq!(
        written(|b| write_not_leader(b, 2, 9)),
        frame(b'N', &[&two, &nine])
    );
    let header = |flags: u8, count: u16| {
        let mut h = [1u64, 2, 3].map(u64::to_le_bytes).concat();
        h.push(flags);
        h.extend_from_slice(&count.to_le_bytes());
        h
    };
    assert_eq!(
        written(|b| write_events(b, 1, 2, 3, &[])),
        frame(b'E', &[&header(1, 0)])
    );
    let added = Event::AccountAdded { account: 7 };
    assert_eq!(
        written(|b| write_events(b, 1, 2, 3, &[added, added])),
        frame(b'E', &[&header(1, 2), b"n\x07\0\0\0n\x07\0\0\0"])
    );
}

#[test]
fn a_goodbye_with_an_unknown_reason_is_refused() {
    for reason in 1..=7 {
        assert!(decode_from_engine(&[LINK_GOODBYE, reason, 0]).is_ok());
    }
    for reason in [0, 8, 0xff] {
        assert_eq!(
            decode_from_engine(&[LINK_GOODBYE, reason, 0]),
            Err(DecodeError::BadEnum)
        );
    }
}
