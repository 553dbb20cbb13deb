//! Every decoder fed random and mutated bytes: it never panics, never reads past its
//! input, and whatever it accepts re-encodes to the same bytes. A std-only mutation loop
//! seeded from the samples, so it runs in every test run without extra tooling.

mod common;

use common::fuzz::{fuzz_declared, Rng};
use common::samples;
use ringex_protocol::command_codec::{
    decode_input, decode_input_message, encode_input, INPUT_MESSAGES,
};
use ringex_protocol::event_codec::{
    decode_event, decode_event_message, encode_event, EVENT_MESSAGES,
};
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::from_engine::{decode_from_engine_frame, encode_from_engine};
use ringex_protocol::link::to_engine::{decode_to_engine_frame, encode_to_engine};
use ringex_protocol::link::{
    decode_from_engine, decode_to_engine, events, write_engine_heartbeat, write_events,
    write_expired, write_goodbye, write_heartbeat, write_input, write_not_leader, write_resume,
    write_timed_input_with, write_welcome, FromEngine, FromEngineFrame, GoodbyeReason, ResumeFrom,
    ToEngine, ToEngineFrame, FROM_ENGINE_FRAMES, LINK_FRAME_MAX, TO_ENGINE_FRAMES,
};
use ringex_protocol::mold;

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
            2 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
            3 => bytes.push(rng.next() as u8),
            4 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.remove(i);
            }
            _ => {
                let i = rng.below(bytes.len() + 1);
                let interesting = [0u8, 1, 0x7f, 0x80, 0xff];
                bytes.insert(i, interesting[rng.below(interesting.len())]);
            }
        }
    }
    bytes
}

fn random_bytes(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    (0..rng.below(max_len + 1))
        .map(|_| rng.next() as u8)
        .collect()
}

fn check_input(bytes: &[u8]) {
    if let Ok(input) = decode_input(bytes) {
        let mut again = Vec::new();
        encode_input(&input, &mut again);
        assert_eq!(again, bytes, "accepted input does not round-trip");
    }
}

fn check_event(bytes: &[u8]) {
    if let Ok((event, used)) = decode_event(bytes) {
        assert!(used <= bytes.len());
        let mut again = Vec::new();
        encode_event(&event, &mut again);
        assert_eq!(again, bytes[..used], "accepted event does not round-trip");
    }
}

/// Any link frame a declared decoder accepts is its fields re-encoded, then its tail.
fn check_declared_frames(bytes: &[u8]) {
    if let Ok((frame, tail)) = ToEngineFrame::decode_with_tail(bytes) {
        let mut again = Vec::new();
        encode_to_engine(&frame, &mut again);
        again.extend_from_slice(tail);
        assert_eq!(
            again, bytes,
            "accepted frame to the engine does not round-trip"
        );
    }
    if let Ok((frame, tail)) = FromEngineFrame::decode_with_tail(bytes) {
        let mut again = Vec::new();
        encode_from_engine(&frame, &mut again);
        again.extend_from_slice(tail);
        assert_eq!(
            again, bytes,
            "accepted frame from the engine does not round-trip"
        );
    }
}

fn check_link(bytes: &[u8]) {
    check_declared_frames(bytes);
    // Fixed-size link frames the decoder accepts re-encode to the same bytes.
    if let Ok(ToEngine::Resume(from)) = decode_to_engine(bytes) {
        let mut again = Vec::new();
        write_resume(&mut again, from);
        assert_eq!(again[4..], *bytes, "accepted resume does not round-trip");
    }
    if let Ok(FromEngine::Expired { correlation }) = decode_from_engine(bytes) {
        let mut again = Vec::new();
        write_expired(&mut again, correlation);
        assert_eq!(again[4..], *bytes, "accepted expired does not round-trip");
    }
    if let Ok(FromEngine::Heartbeat { time_ns }) = decode_from_engine(bytes) {
        let mut again = Vec::new();
        write_engine_heartbeat(&mut again, time_ns);
        assert_eq!(again[4..], *bytes, "accepted heartbeat does not round-trip");
    }
    if let Ok(FromEngine::NotLeader { leader_id, term }) = decode_from_engine(bytes) {
        let mut again = Vec::new();
        write_not_leader(&mut again, leader_id, term);
        assert_eq!(
            again[4..],
            *bytes,
            "accepted not-leader does not round-trip"
        );
    }
    if let Ok(FromEngine::Events {
        header,
        events: body,
    }) = decode_from_engine(bytes)
    {
        // Accepted batches were checked whole: iterating them cannot fail.
        let decoded: Vec<_> = events(body).map(|e| e.unwrap()).collect();
        assert_eq!(decoded.len(), usize::from(header.count));
    }
    for prefix in [LengthPrefix::U16, LengthPrefix::U32] {
        if let Ok(Some((body, used))) = split_frame(bytes, prefix, 256) {
            assert!(used <= bytes.len() && body.len() <= 256 && !body.is_empty());
        }
    }
}

const ROUNDS: usize = 200_000;

#[test]
fn decoders_survive_mutated_samples() {
    let mut rng = Rng(0x5EED_0001);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for (_, input) in samples::inputs() {
        let mut buf = Vec::new();
        encode_input(&input, &mut buf);
        seeds.push(buf.clone());
        let mut frame = Vec::new();
        write_input(&mut frame, 99, &input);
        seeds.push(frame[4..].to_vec());
        let mut timed = Vec::new();
        write_timed_input_with(&mut timed, 99, 1 << 60, |b| encode_input(&input, b));
        seeds.push(timed[4..].to_vec());
    }
    for from in [ResumeFrom::After(12), ResumeFrom::Live] {
        let mut frame = Vec::new();
        write_resume(&mut frame, from);
        seeds.push(frame[4..].to_vec());
    }
    let mut expired = Vec::new();
    write_expired(&mut expired, 5);
    seeds.push(expired[4..].to_vec());
    let mut not_leader = Vec::new();
    write_not_leader(&mut not_leader, 2, 11);
    seeds.push(not_leader[4..].to_vec());
    let mut control = Vec::new();
    write_welcome(&mut control, 9);
    write_engine_heartbeat(&mut control, 1 << 62);
    write_goodbye(&mut control, GoodbyeReason::BadInput, 3);
    write_heartbeat(&mut control);
    let mut rest = &control[..];
    while let Some((body, used)) = split_frame(rest, LengthPrefix::U32, LINK_FRAME_MAX).unwrap() {
        seeds.push(body.to_vec());
        rest = &rest[used..];
    }
    let all_events: Vec<_> = samples::events().into_iter().map(|(_, e)| e).collect();
    for (_, event) in samples::events() {
        let mut buf = Vec::new();
        encode_event(&event, &mut buf);
        seeds.push(buf);
    }
    let mut frame = Vec::new();
    write_events(&mut frame, 5, 6, 7, &all_events);
    seeds.push(frame[4..].to_vec());
    for _ in 0..ROUNDS {
        let seed = &seeds[rng.below(seeds.len())];
        let bytes = mutate(&mut rng, seed);
        check_input(&bytes);
        check_event(&bytes);
        check_link(&bytes);
    }
}

#[test]
fn decoders_survive_random_bytes() {
    let mut rng = Rng(0x5EED_0002);
    for _ in 0..ROUNDS {
        let bytes = random_bytes(&mut rng, 96);
        check_input(&bytes);
        check_event(&bytes);
        check_link(&bytes);
    }
}

#[test]
fn every_declared_engine_message_is_fuzzed() {
    let mut rng = Rng(0x5EED_0004);
    fuzz_declared(&mut rng, INPUT_MESSAGES, check_input, |b| {
        decode_input_message(b).map(drop)
    });
    fuzz_declared(&mut rng, EVENT_MESSAGES, check_event, |b| {
        decode_event_message(b).map(drop)
    });
}

#[test]
fn every_declared_link_frame_is_fuzzed() {
    let mut rng = Rng(0x5EED_0005);
    fuzz_declared(&mut rng, TO_ENGINE_FRAMES, check_link, |b| {
        decode_to_engine_frame(b).map(drop)
    });
    fuzz_declared(&mut rng, FROM_ENGINE_FRAMES, check_link, |b| {
        decode_from_engine_frame(b).map(drop)
    });
}

#[test]
fn oversize_and_empty_frames_are_refused_before_reading() {
    let huge = (LINK_FRAME_MAX as u32 + 1).to_le_bytes();
    assert!(split_frame(&huge, LengthPrefix::U32, LINK_FRAME_MAX).is_err());
    assert!(split_frame(&[0, 0], LengthPrefix::U16, 256).is_err());
    assert_eq!(split_frame(&[5, 0, 1], LengthPrefix::U16, 256), Ok(None));
}

#[test]
fn large_event_batches_split_into_flagged_frames() {
    let event = samples::events()[2].1;
    let many = vec![event; 5000];
    let mut buf = Vec::new();
    write_events(&mut buf, 1, 2, 3, &many);
    let (mut rest, mut seen, mut frames) = (&buf[..], 0usize, 0);
    while let Some((body, used)) = split_frame(rest, LengthPrefix::U32, LINK_FRAME_MAX).unwrap() {
        let FromEngine::Events {
            header,
            events: body,
        } = decode_from_engine(body).unwrap()
        else {
            panic!("not an events frame");
        };
        seen += events(body).count();
        frames += 1;
        assert_eq!(header.last, seen == many.len());
        rest = &rest[used..];
    }
    assert!(rest.is_empty() && frames > 1);
    assert_eq!(seen, many.len());
}

/// A multicast packet the decoder accepts is exactly its header and its messages.
fn check_packet(bytes: &[u8]) {
    if let Ok((header, messages)) = mold::decode_packet(bytes) {
        assert_eq!(header.messages(), messages.len());
        let mut again = Vec::new();
        header.write(&mut again);
        for m in messages {
            again.extend_from_slice(&(m.len() as u16).to_le_bytes());
            again.extend_from_slice(m);
        }
        assert_eq!(again, bytes);
    }
    if let Ok(Some((_, packet, used))) = mold::split_reply(bytes) {
        assert!(used <= bytes.len() && packet.len() < used);
    }
}

#[test]
fn multicast_packets_survive_mutation_and_random_bytes() {
    let mut rng = Rng(0x5EED_0003);
    let header = |count| mold::Header {
        session: *b"SEED      ",
        sequence: 1 << 40,
        count,
    };
    let mut packet = Vec::new();
    header(3).write(&mut packet);
    packet.extend_from_slice(&[1, 0, b'H', 3, 0, b'a', 1, 2, 2, 0, b't', 9]);
    let mut heartbeat = Vec::new();
    header(0).write(&mut heartbeat);
    let mut end = Vec::new();
    header(mold::END_OF_SESSION).write(&mut end);
    let mut reply = Vec::new();
    mold::write_status_reply(&mut reply, mold::ReplyStatus::TooOld, &header(0));
    let mut messages = vec![(packet.len() + 1) as u8, 0, 0];
    messages.extend_from_slice(&packet);
    let seeds = [packet, heartbeat, end, reply, messages];
    for _ in 0..ROUNDS {
        let seed = &seeds[rng.below(seeds.len())];
        check_packet(&mutate(&mut rng, seed));
        check_packet(&random_bytes(&mut rng, 64));
    }
}
