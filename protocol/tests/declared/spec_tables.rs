//! The message tables of `protocol/SPEC.md`, rendered from the declarations.

use ringex_protocol::declare::MessageDecl;
use ringex_protocol::field_codec::WireType;

/// A column's type as the specification writes it.
fn spec_type(wire: WireType) -> String {
    match wire {
        WireType::Text(n) => format!("[{n}]"),
        WireType::Bool => "bool".into(),
        WireType::U8 => "u8".into(),
        WireType::U16 => "u16".into(),
        WireType::U32 => "u32".into(),
        WireType::U64 => "u64".into(),
        WireType::I64 => "i64".into(),
        WireType::U128 => "u128".into(),
    }
}

/// A message's size: a message with a tail is at least its fields.
fn size(m: &MessageDecl) -> String {
    match m.tail {
        Some(_) => format!("≥ {}", m.size),
        None => m.size.to_string(),
    }
}

/// A message's fields, then its tail if it has one.
fn fields(m: &MessageDecl) -> String {
    let columns: Vec<String> = m
        .columns()
        .map(|c| format!("{} {}", c.name, spec_type(c.column.wire)))
        .collect();
    let columns = if columns.is_empty() {
        "—".to_string()
    } else {
        format!("`{}`", columns.join(", "))
    };
    match m.tail {
        Some(tail) => format!("{columns}, then {tail}"),
        None => columns,
    }
}

/// One row; `meaning` adds the declaration's doc as a column.
fn row(m: &MessageDecl, meaning: bool) -> String {
    let doc = if meaning {
        format!(
            " {} |",
            m.doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
        )
    } else {
        String::new()
    };
    format!(
        "| `{}` 0x{:02X} | {} | {} | {} |{} {} |",
        m.type_byte as char,
        m.type_byte,
        m.name,
        size(m),
        fields(m),
        doc,
        m.family.sequencing()
    )
}

/// The table of one direction's messages.
pub fn table(messages: &[MessageDecl]) -> String {
    rows(
        messages,
        false,
        "| type | name | size | fields after the type byte | sequenced, replayed |\n\
         | --- | --- | --- | --- | --- |\n",
    )
}

/// The table of one direction's engine link frames, with what each says.
pub fn link_table(messages: &[MessageDecl]) -> String {
    rows(
        messages,
        true,
        "| type | name | size | fields after the type byte | what it says | sequenced, replayed |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    )
}

fn rows(messages: &[MessageDecl], meaning: bool, head: &str) -> String {
    let mut out = String::from(head);
    for m in messages {
        out += &row(m, meaning);
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
