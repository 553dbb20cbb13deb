//! The engine input and event tables of `protocol/SPEC.md` against the codec and the
//! shared vectors: every type the codec knows has a row and every row a type, each row's
//! size is the codec's, its columns add up to that size, and read column by column with
//! the spec's names and widths, every vector's bytes give the vector's fields. So a
//! client written from these tables reads what the engine writes.

use ringex_protocol::command_codec::encoded_len;
use ringex_protocol::event_codec::event_len;
use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One row of a message table: type byte, name, size and the `name type` columns.
struct Row {
    type_byte: u8,
    name: String,
    size: usize,
    columns: Vec<(String, String)>,
}

fn width(wire_type: &str) -> usize {
    match wire_type {
        "u8" | "bool" => 1,
        "u16" => 2,
        "u32" => 4,
        "u64" | "i64" => 8,
        "u128" => 16,
        other => panic!("SPEC.md names an unknown type {other}"),
    }
}

/// The columns in a row's first backticked span: `name type, name type (note), …`.
fn columns(fields: &str) -> Vec<(String, String)> {
    let Some(span) = fields.split('`').nth(1) else {
        return Vec::new();
    };
    span.split(", ")
        .map(|column| {
            let mut words = column.split_whitespace();
            let name = words.next().expect("a column name");
            let wire_type = words.next().expect("a column type");
            (name.to_string(), wire_type.to_string())
        })
        .collect()
}

fn row(line: &str) -> Row {
    let cells: Vec<&str> = line.split(" | ").collect();
    let hex = cells[0].rsplit("0x").next().expect("a type byte");
    Row {
        type_byte: u8::from_str_radix(hex.trim(), 16).expect("a hex type byte"),
        name: cells[1].to_string(),
        size: cells[2].parse().expect("a size"),
        columns: columns(cells[3]),
    }
}

/// The rows of the first table after the heading `heading`.
fn table(spec: &str, heading: &str) -> Vec<Row> {
    let section = spec.split(heading).nth(1).expect("the section");
    section
        .lines()
        .skip_while(|l| !l.starts_with("| type"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(row)
        .collect()
}

fn spec() -> String {
    std::fs::read_to_string(format!("{ROOT}/SPEC.md")).unwrap()
}

fn check_rows(rows: &[Row], len: fn(u8) -> Option<usize>) {
    for kind in 0..=u8::MAX {
        let found = rows.iter().find(|r| r.type_byte == kind);
        assert_eq!(found.map(|r| r.size), len(kind), "type 0x{kind:02X}");
    }
    for r in rows {
        let size: usize = 1 + r.columns.iter().map(|(_, t)| width(t)).sum::<usize>();
        assert_eq!(size, r.size, "{}: the columns do not add up", r.name);
    }
}

/// A column's value as the vectors write it: integers as numbers, `u128` as a decimal
/// string, `bool` as a boolean.
fn value(raw: &[u8], wire_type: &str) -> Value {
    let mut le = [0u8; 16];
    le[..raw.len()].copy_from_slice(raw);
    let n = u128::from_le_bytes(le);
    match wire_type {
        "bool" => json!(n == 1),
        "i64" => json!(n as u64 as i64),
        "u128" => json!(n.to_string()),
        _ => json!(n as u64),
    }
}

fn check_vectors(rows: &[Row], vectors: &Value) {
    for v in vectors.as_array().unwrap() {
        let text = v["hex"].as_str().unwrap();
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        let r = rows.iter().find(|r| r.type_byte == bytes[0]).unwrap();
        let mut fields = json!({"type": r.name});
        let mut at = 1;
        for (name, wire_type) in &r.columns {
            let raw = &bytes[at..at + width(wire_type)];
            at += raw.len();
            fields[name] = value(raw, wire_type);
        }
        assert_eq!(at, bytes.len(), "{}", v["name"]);
        assert_eq!(fields, v["fields"], "{}", v["name"]);
    }
}

#[test]
fn engine_tables_are_the_codec_and_read_the_vectors() {
    let spec = spec();
    let inputs = table(&spec, "\n## Engine inputs\n");
    let events = table(&spec, "\n## Engine events\n");
    check_rows(&inputs, encoded_len);
    check_rows(&events, event_len);
    let path = format!("{ROOT}/vectors/engine.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    check_vectors(&inputs, &vectors["inputs"]);
    check_vectors(&events, &vectors["events"]);
}
