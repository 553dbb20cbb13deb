//! What is generated from the message declarations must be what is committed: the
//! engine input and event tables, the engine link's frame tables and the client and
//! gateway message tables in
//! `protocol/SPEC.md`, and the client library's `ringex_client/messages.py`. Regenerate both deliberately with
//! `RINGEX_WRITE_DECLARED=1 cargo test -p ringex-protocol --test declared_outputs`.

#[path = "declared/python_messages.rs"]
mod python_messages;
#[path = "declared/spec_tables.rs"]
mod spec_tables;

use ringex_protocol::client::{CLIENT_MESSAGES, SERVER_MESSAGES};
use ringex_protocol::command_codec::INPUT_MESSAGES;
use ringex_protocol::declare::MessageDecl;
use ringex_protocol::event_codec::EVENT_MESSAGES;
use ringex_protocol::link::{FROM_ENGINE_FRAMES, LINK_FRAME_MAX, TO_ENGINE_FRAMES};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const SPEC: &str = "protocol/SPEC.md";
const PYTHON: &str = "clients/python/src/ringex_client/messages.py";

const INPUT_BEGIN: &str =
    "<!-- engine inputs: generated from protocol/src/command_codec.rs, do not edit -->";
const EVENT_BEGIN: &str =
    "<!-- engine events: generated from protocol/src/event_codec.rs, do not edit -->";
const CLIENT_BEGIN: &str =
    "<!-- client messages: generated from protocol/src/client.rs, do not edit -->";
const SERVER_BEGIN: &str =
    "<!-- gateway messages: generated from protocol/src/client.rs, do not edit -->";
const TO_ENGINE_BEGIN: &str =
    "<!-- gateway to engine frames: generated from protocol/src/link/to_engine.rs, do not edit -->";
const FROM_ENGINE_BEGIN: &str =
    "<!-- engine to gateway frames: generated from protocol/src/link/from_engine.rs, do not edit -->";
const END: &str = "<!-- end of generated table -->";

/// Compares `generated` with the committed file, writing it first when asked to.
fn check(path: &str, generated: &str) {
    let path = format!("{ROOT}/{path}");
    if std::env::var_os("RINGEX_WRITE_DECLARED").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == generated,
        "{path} differs from the message declarations; regenerate with \
         RINGEX_WRITE_DECLARED=1 cargo test -p ringex-protocol --test declared_outputs"
    );
}

#[test]
fn spec_tables_are_the_declarations() {
    let spec = std::fs::read_to_string(format!("{ROOT}/{SPEC}")).unwrap();
    let tables = [
        (INPUT_BEGIN, INPUT_MESSAGES),
        (EVENT_BEGIN, EVENT_MESSAGES),
        (CLIENT_BEGIN, CLIENT_MESSAGES),
        (SERVER_BEGIN, SERVER_MESSAGES),
    ];
    let spec = tables.iter().fold(spec, |spec, (begin, messages)| {
        spec_tables::replace_between(&spec, begin, END, &spec_tables::table(messages))
    });
    let links = [
        (TO_ENGINE_BEGIN, TO_ENGINE_FRAMES),
        (FROM_ENGINE_BEGIN, FROM_ENGINE_FRAMES),
    ];
    let spec = links.iter().fold(spec, |spec, (begin, frames)| {
        spec_tables::replace_between(&spec, begin, END, &spec_tables::link_table(frames))
    });
    check(SPEC, &spec);
}

#[test]
fn python_messages_are_the_declarations() {
    check(
        PYTHON,
        &python_messages::module(CLIENT_MESSAGES, SERVER_MESSAGES),
    );
}

/// Every message documented, its size the sum of its columns and within `frame_max`,
/// and no type byte used twice in its table.
fn check_table(table: &[MessageDecl], frame_max: usize) {
    for (i, m) in table.iter().enumerate() {
        assert!(m.size <= frame_max, "{}", m.name);
        assert!(!m.doc.is_empty(), "{} has no doc", m.name);
        let size: usize = 1 + m.columns().map(|c| c.column.wire.size()).sum::<usize>();
        assert_eq!(size, m.size, "{}", m.name);
        assert!(
            table[..i].iter().all(|o| o.type_byte != m.type_byte),
            "{} reuses a type byte",
            m.name
        );
    }
}

#[test]
fn declared_sizes_fit_a_frame_and_type_bytes_are_unique() {
    use ringex_protocol::session::CLIENT_FRAME_MAX;
    for table in [CLIENT_MESSAGES, SERVER_MESSAGES] {
        check_table(table, CLIENT_FRAME_MAX);
        assert!(table.iter().all(|m| m.tail.is_none()));
    }
    for table in [TO_ENGINE_FRAMES, FROM_ENGINE_FRAMES] {
        check_table(table, LINK_FRAME_MAX);
    }
}
