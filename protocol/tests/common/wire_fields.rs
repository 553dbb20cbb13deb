//! A message's fields as the specification names them, read from its bytes column by
//! column through its declaration (so independent of the typed decoders): numbers and
//! enum codes as integers (`u128` as a decimal string, beyond JSON's integers), booleans
//! as booleans, text without its padding. This is the shape of the test vectors in
//! `protocol/vectors/`, which the Python codec reads too; "type" is the message name.

use ringex_protocol::declare::MessageDecl;
use ringex_protocol::field_codec::WireType;
use ringex_protocol::session::decode_text;
use serde_json::{json, Value};

pub fn wire_fields(table: &[MessageDecl], bytes: &[u8]) -> Value {
    let decl = table.iter().find(|m| m.type_byte == bytes[0]).unwrap();
    assert_eq!(bytes.len(), decl.size, "{}", decl.name);
    let mut fields = json!({"type": decl.name});
    let mut at = 1;
    for c in decl.columns() {
        let raw = &bytes[at..at + c.column.wire.size()];
        at += raw.len();
        fields[c.name] = column_value(c.column.wire, raw);
    }
    fields
}

fn column_value(wire: WireType, raw: &[u8]) -> Value {
    let mut le = [0u8; 16];
    le[..raw.len().min(16)].copy_from_slice(&raw[..raw.len().min(16)]);
    let n = u128::from_le_bytes(le);
    match wire {
        WireType::Text(_) => json!(decode_text(raw).unwrap()),
        WireType::Bool => json!(raw[0] == 1),
        WireType::I64 => json!(n as u64 as i64),
        WireType::U128 => json!(n.to_string()),
        WireType::U8 | WireType::U16 | WireType::U32 | WireType::U64 => json!(n as u64),
    }
}
