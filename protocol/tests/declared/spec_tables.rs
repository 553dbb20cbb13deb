//! The message tables of `protocol/SPEC.md`, rendered from the declarations.

use ringex_protocol::declare::MessageDecl;
use ringex_protocol::field_codec::WireType;

/// A column's type as the specification writes it.
fn spec_type(wire: WireType) -> String {
    match wire {
        WireType::Text(n) => format!("[{n}]"),
        WireType::Bool => "bool".into(),
        WireType::U8 => "u8".into(),
        WireType::U32 => "u32".into(),
        WireType::U64 => "u64".into(),
        WireType::I64 => "i64".into(),
        WireType::U128 => "u128".into(),
    }
}

fn row(m: &MessageDecl) -> String {
    let fields: Vec<String> = m
        .columns()
        .map(|c| format!("{} {}", c.name, spec_type(c.column.wire)))
        .collect();
    let fields = if fields.is_empty() {
        "—".to_string()
    } else {
        format!("`{}`", fields.join(", "))
    };
    format!(
        "| `{}` 0x{:02X} | {} | {} | {} | {} |",
        m.type_byte as char,
        m.type_byte,
        m.name,
        m.size,
        fields,
        m.family.sequencing()
    )
}

/// The table of one direction's messages.
pub fn table(messages: &[MessageDecl]) -> String {
    let mut out = String::from(
        "| type | name | size | fields after the type byte | sequenced, replayed |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for m in messages {
        out += &row(m);
        out.push('\n');
    }
    out
}

/// `text` with the part between `begin` and `end` markers replaced by `body`.
pub fn replace_between(text: &str, begin: &str, end: &str, body: &str) -> String {
    let start = text.find(begin).expect("begin marker") + begin.len();
    let stop = text[start..].find(end).expect("end marker") + start;
    format!("{}\n{}{}", &text[..start], body, &text[stop..])
}
