//! The client library's message module (`ringex_client/messages.py`), rendered from the
//! declarations: one frozen msgspec struct per message, with its type byte, its
//! `struct` layout and the text widths and flag bits its codec needs.

use std::collections::BTreeSet;

use ringex_protocol::declare::{Family, MessageDecl};
use ringex_protocol::field_codec::{Values, WireType};

const HEADER: &str = r#""""Typed messages of the client session protocol (SPEC.md, "Client sessions").

Generated from the declarations in protocol/src/client.rs: do not edit. Regenerate with
``RINGEX_WRITE_DECLARED=1 cargo test -p ringex-protocol --test declared_outputs``.

Every message is a :class:`msgspec.Struct` whose fields are in wire order; ``TYPE`` is
its type byte, ``LAYOUT`` the :mod:`struct` format of the fields after it,
``TEXT_WIDTHS`` the width of each text field and ``FLAGS`` the bit of each flag field.
Messages a client sends are :data:`ClientMessage`; messages the gateway sends are
:data:`ServerMessage`. :class:`Heartbeat` goes both ways.
"""

from typing import ClassVar

import msgspec

"#;

const BASE: &str = r#"

class Message(msgspec.Struct, frozen=True):
    """Base of every protocol message."""

    TYPE: ClassVar[bytes]
    LAYOUT: ClassVar[str]
    TEXT_WIDTHS: ClassVar[dict[str, int]] = {}
    FLAGS: ClassVar[dict[str, int]] = {}
"#;

fn struct_code(wire: WireType) -> String {
    match wire {
        WireType::U8 | WireType::Bool => "B".into(),
        WireType::U32 => "I".into(),
        WireType::U64 => "Q".into(),
        WireType::I64 => "q".into(),
        WireType::U16 | WireType::U128 => {
            unreachable!("no client session message carries a u16 or a u128")
        }
        WireType::Text(n) => format!("{n}s"),
    }
}

/// The Python attributes of one message: name, annotation, default.
fn attributes(m: &MessageDecl) -> Vec<(String, String, Option<&'static str>)> {
    let mut out = Vec::new();
    for field in m.fields {
        for column in field.columns {
            let name = column.name.unwrap_or(field.name);
            match column.values {
                Values::Flags(bits) => out.extend(
                    bits.iter()
                        .map(|(bit, _)| (bit.to_string(), "bool".into(), None)),
                ),
                Values::Int => out.push((name.into(), "int".into(), field.default)),
                Values::Bool => out.push((name.into(), "bool".into(), field.default)),
                Values::Text => out.push((name.into(), "str".into(), field.default)),
                Values::Enum(e) => out.push((name.into(), e.into(), field.default)),
            }
        }
    }
    out
}

fn docstring(doc: &[&str]) -> String {
    let lines: Vec<String> = doc.iter().map(|l| l.trim().replace('`', "``")).collect();
    format!("    \"\"\"{}\"\"\"\n", lines.join("\n    "))
}

fn class(m: &MessageDecl) -> String {
    let layout: String = m.columns().map(|c| struct_code(c.column.wire)).collect();
    let mut out = format!("\n\nclass {}(Message, frozen=True):\n", m.name);
    out += &docstring(m.doc);
    out += &format!(
        "\n    TYPE = b\"{}\"\n    LAYOUT = \"{layout}\"\n",
        m.type_byte as char
    );
    let texts: Vec<String> = m
        .columns()
        .filter_map(|c| match c.column.wire {
            WireType::Text(n) => Some(format!("\"{}\": {n}", c.name)),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        out += &format!("    TEXT_WIDTHS = {{{}}}\n", texts.join(", "));
    }
    let flags: Vec<String> = m
        .columns()
        .flat_map(|c| match c.column.values {
            Values::Flags(bits) => bits.to_vec(),
            _ => Vec::new(),
        })
        .map(|(name, bit)| format!("\"{name}\": 0x{bit:02X}"))
        .collect();
    if !flags.is_empty() {
        out += &format!("    FLAGS = {{{}}}\n", flags.join(", "));
    }
    for (name, annotation, default) in attributes(m) {
        match default {
            Some(d) => out += &format!("    {name}: {annotation} = {d}\n"),
            None => out += &format!("    {name}: {annotation}\n"),
        }
    }
    out
}

/// `items` joined by `sep`, wrapped in lines of at most 88 characters indented by 4: a
/// line breaks before ` | ` and after `,`.
fn wrapped(items: &[&str], sep: &str) -> String {
    let (tail, head) = sep.split_at(sep.trim_end().len().min(1));
    let mut lines = vec![format!("    {}", items[0])];
    for item in &items[1..] {
        let last = lines.last_mut().expect("one line");
        if last.len() + sep.len() + item.len() > 88 {
            last.push_str(tail.trim());
            lines.push(format!("    {}{item}", head.trim_start()));
        } else {
            last.push_str(sep);
            last.push_str(item);
        }
    }
    lines.join("\n")
}

fn union(name: &str, members: &[&str]) -> String {
    format!("{name} = (\n{}\n)  # fmt: skip\n", wrapped(members, " | "))
}

fn tuple(name: &str, members: &[&str]) -> String {
    format!(
        "{name}: tuple[type[Message], ...] = (\n{},\n)  # fmt: skip\n",
        wrapped(members, ", ")
    )
}

fn names(messages: &[MessageDecl], keep: impl Fn(Family) -> bool) -> Vec<&'static str> {
    messages
        .iter()
        .filter(|m| keep(m.family))
        .map(|m| m.name)
        .collect()
}

fn imports(client: &[MessageDecl], server: &[MessageDecl]) -> String {
    let mut enums = BTreeSet::new();
    let mut all_instruments = false;
    for m in client.iter().chain(server) {
        for f in m.fields {
            all_instruments |= f.default == Some("ALL_INSTRUMENTS");
            for c in f.columns {
                if let Values::Enum(e) = c.values {
                    enums.insert((e.to_lowercase(), e));
                }
            }
        }
    }
    let mut lines: Vec<String> = Vec::new();
    if all_instruments {
        lines.push("    ALL_INSTRUMENTS,".into());
    }
    lines.extend(enums.into_iter().map(|(_, e)| format!("    {e},")));
    format!(
        "from ringex_client.enums import (\n{}\n)\n",
        lines.join("\n")
    )
}

/// The whole module.
pub fn module(client: &[MessageDecl], server: &[MessageDecl]) -> String {
    let mut out = String::from(HEADER);
    out += &imports(client, server);
    out += BASE;
    let client_names: Vec<&str> = client.iter().map(|m| m.name).collect();
    for m in client {
        out += &class(m);
    }
    for m in server.iter().filter(|m| !client_names.contains(&m.name)) {
        out += &class(m);
    }
    let server_names: Vec<&str> = server.iter().map(|m| m.name).collect();
    let book = names(server, |f| f == Family::BookEvent);
    let feed = names(server, |f| {
        matches!(
            f,
            Family::BookEvent | Family::LevelUpdate | Family::FeedControl
        )
    });
    let responses = names(server, |f| f == Family::OrderResponse);
    out += "\n\n";
    out += &union("BookEvent", &book);
    out += &union("FeedMessage", &feed);
    out += &union("ClientMessage", &client_names);
    out += &union("ServerMessage", &server_names);
    out += &union("OrderResponse", &responses);
    out += "\n";
    out += &tuple("CLIENT_TYPES", &client_names);
    out += &tuple("SERVER_TYPES", &server_names);
    out
}
