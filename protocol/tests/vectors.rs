//! The shared test vectors: bytes and fields of every engine input and event, the fields
//! under the specification's names, read through the declarations. The file is the
//! contract; the Python codec checks the same file. Regenerate it deliberately with
//! `RINGEX_WRITE_VECTORS=1 cargo test -p ringex-protocol --test vectors`.

mod common;

use common::samples;
use common::wire_fields::wire_fields;
use ringex_protocol::command_codec::{decode_input, encode_input, encoded_len, INPUT_MESSAGES};
use ringex_protocol::event_codec::{decode_event, encode_event, event_len, EVENT_MESSAGES};
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/engine.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn build() -> Value {
    let inputs: Vec<Value> = samples::inputs()
        .iter()
        .map(|(name, input)| {
            let mut buf = Vec::new();
            encode_input(input, &mut buf);
            json!({"name": name, "hex": hex(&buf), "fields": wire_fields(INPUT_MESSAGES, &buf)})
        })
        .collect();
    let events: Vec<Value> = samples::events()
        .iter()
        .map(|(name, event)| {
            let mut buf = Vec::new();
            encode_event(event, &mut buf);
            json!({"name": name, "hex": hex(&buf), "fields": wire_fields(EVENT_MESSAGES, &buf)})
        })
        .collect();
    json!({"inputs": inputs, "events": events})
}

#[test]
fn vectors_file_matches_the_codec() {
    let built = build();
    if std::env::var_os("RINGEX_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
        std::fs::write(PATH, text).unwrap();
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    // Every stored vector decodes to its fields and re-encodes to its bytes.
    for v in stored["inputs"].as_array().unwrap() {
        let bytes = unhex(v["hex"].as_str().unwrap());
        let input = decode_input(&bytes).unwrap();
        assert_eq!(
            wire_fields(INPUT_MESSAGES, &bytes),
            v["fields"],
            "{}",
            v["name"]
        );
        let mut again = Vec::new();
        encode_input(&input, &mut again);
        assert_eq!(again, bytes, "{}", v["name"]);
    }
    for v in stored["events"].as_array().unwrap() {
        let bytes = unhex(v["hex"].as_str().unwrap());
        let (event, used) = decode_event(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(
            wire_fields(EVENT_MESSAGES, &bytes),
            v["fields"],
            "{}",
            v["name"]
        );
        let mut again = Vec::new();
        encode_event(&event, &mut again);
        assert_eq!(again, bytes, "{}", v["name"]);
    }
    assert_eq!(stored, built, "samples and the stored vectors differ");
}

#[test]
fn every_type_byte_has_a_sample() {
    let built = build();
    let kinds = |list: &str| -> Vec<u8> {
        built[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u8::from_str_radix(&v["hex"].as_str().unwrap()[..2], 16).unwrap())
            .collect()
    };
    let (inputs, events) = (kinds("inputs"), kinds("events"));
    for kind in 0..=u8::MAX {
        assert_eq!(
            encoded_len(kind).is_some(),
            inputs.contains(&kind),
            "{kind}"
        );
        assert_eq!(event_len(kind).is_some(), events.contains(&kind), "{kind}");
    }
}
