//! The client session decoders fed random and mutated bytes: they never panic, and
//! whatever they accept re-encodes to the same bytes. Seeds are the client vectors; a
//! std-only mutation loop, so it runs in every test run without extra tooling.

mod common;

use common::fuzz::{fuzz_declared, Rng};
use ringex_protocol::client::{
    decode_client, decode_server, encode_client, encode_server, stamp, CLIENT_MESSAGES,
    SERVER_MESSAGES,
};
use ringex_protocol::command_codec::decode_command;
use ringex_protocol::frame::split_frame;
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};
use serde_json::Value;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/client.json");

fn seeds(direction: &str) -> Vec<Vec<u8>> {
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    stored[direction]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = v["hex"].as_str().unwrap();
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
            2 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
            3 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.remove(i);
            }
            _ => bytes.push(rng.next() as u8),
        }
    }
    bytes
}

fn check_client(bytes: &[u8]) {
    if let Ok(message) = decode_client(bytes) {
        let mut again = Vec::new();
        encode_client(&message, &mut again);
        assert_eq!(again, bytes, "accepted client message does not round-trip");
        // What the gateway accepts as an order or admin message, the engine accepts as
        // the same command once stamped.
        if let Some(cmd) = message.command() {
            let mut input = Vec::new();
            stamp(bytes, 0, &mut input);
            assert_eq!(decode_command(&input), Ok(cmd));
        }
    }
}

fn check_server(bytes: &[u8]) {
    if let Ok(message) = decode_server(bytes) {
        let mut again = Vec::new();
        encode_server(&message, &mut again);
        assert_eq!(again, bytes, "accepted server message does not round-trip");
    }
}

fn check_frame(bytes: &[u8]) {
    if let Ok(Some((body, used))) = split_frame(bytes, CLIENT_PREFIX, CLIENT_FRAME_MAX) {
        assert!(used <= bytes.len() && body.len() <= CLIENT_FRAME_MAX);
        check_client(body);
        check_server(body);
    }
}

#[test]
fn mutated_messages_never_panic_and_round_trip() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let client = seeds("client");
    let server = seeds("server");
    for _ in 0..200_000 {
        let seed = &client[rng.below(client.len())];
        check_client(&mutate(&mut rng, seed));
        let seed = &server[rng.below(server.len())];
        check_server(&mutate(&mut rng, seed));
    }
}

#[test]
fn random_bytes_and_frames_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..200_000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check_client(&bytes);
        check_server(&bytes);
        check_frame(&bytes);
    }
}

#[test]
fn every_type_byte_with_every_length_is_checked_whole() {
    for kind in 0..=u8::MAX {
        for len in 1..80 {
            let mut bytes = vec![0u8; len];
            bytes[0] = kind;
            check_client(&bytes);
            check_server(&bytes);
        }
    }
}

#[test]
fn every_declared_message_is_fuzzed() {
    let mut rng = Rng(0x5851_F42D_4C95_7F2D);
    fuzz_declared(&mut rng, CLIENT_MESSAGES, check_client, |b| {
        decode_client(b).map(drop)
    });
    fuzz_declared(&mut rng, SERVER_MESSAGES, check_server, |b| {
        decode_server(b).map(drop)
    });
}
