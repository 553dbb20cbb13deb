//! The client library's enumerations are the codes the Rust codec accepts, name for
//! name: every byte is read through the field codec of each enum the client session
//! messages declare (and through `TryFrom` for two codes that travel in other fields: a
//! Goodbye's decode error and the retransmission reply's status), and what it accepts
//! must be the Python class's members exactly; the code tables of `protocol/SPEC.md`
//! must be the same codes and names. A code added on one side only fails here, not in a
//! client that meets it on the wire.

use std::collections::BTreeMap;

use ringex_core::market_data::{LevelAction, RemoveReason};
use ringex_core::{CancelReason, CommandKind, OrderType, RejectReason, Side, TimeInForce};
use ringex_protocol::client::{CLIENT_MESSAGES, SERVER_MESSAGES};
use ringex_protocol::feed::{FeedKind, FeedRejectReason};
use ringex_protocol::field_codec::{CancelCode, FieldCodec, RejectCode, RejectedFeed, Values};
use ringex_protocol::mold::ReplyStatus;
use ringex_protocol::reference::{DefinitionUpdate, InstrumentState};
use ringex_protocol::session::{
    GatewayRejectReason, Liquidity, LoginRejectReason, Role, SessionEndReason,
    CANCEL_REASON_EXPIRED,
};
use ringex_protocol::wire::Reader;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The client's modules that define wire enumerations.
const PYTHON_MODULES: [&str; 2] = [
    "clients/python/src/ringex_client/enums.py",
    "clients/python/src/ringex_client/mold_packet.py",
];
const SPEC: &str = "protocol/SPEC.md";

/// Code → member name, for one enumeration.
type Members = BTreeMap<u8, String>;

/// Whether `name` is an enum member's name (upper case), not a docstring's words.
fn is_member_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The `IntEnum` classes of the client's modules: each `class Name(IntEnum):` and its
/// `NAME = code` lines.
fn python_enums() -> BTreeMap<String, Members> {
    let mut classes: BTreeMap<String, Members> = BTreeMap::new();
    for module in PYTHON_MODULES {
        let text = std::fs::read_to_string(format!("{ROOT}/{module}")).unwrap();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("class ") {
                current = rest.strip_suffix("(IntEnum):").map(str::to_string);
                if let Some(name) = &current {
                    assert!(classes.insert(name.clone(), Members::new()).is_none());
                }
            } else if !line.starts_with(' ') && !line.is_empty() {
                current = None;
            } else if let (Some(class), Some((name, code))) =
                (&current, line.trim().split_once(" = "))
            {
                if !is_member_name(name) {
                    continue;
                }
                let code: u8 = code
                    .parse()
                    .unwrap_or_else(|_| panic!("{module}: {class}.{name} = {code}"));
                let members = classes.get_mut(class).unwrap();
                let previous = members.insert(code, name.to_string());
                assert!(previous.is_none(), "{class} gives code {code} twice");
            }
        }
    }
    classes
}

/// What `C` reads from each one-byte input, named by the value's `Debug`.
fn accepted<T: std::fmt::Debug, C: FieldCodec<T>>() -> Members {
    (0..=u8::MAX)
        .filter_map(|code| {
            let mut reader = Reader::new(std::slice::from_ref(&code));
            C::read(&mut reader).ok().map(|v| (code, format!("{v:?}")))
        })
        .collect()
}

/// The codes `T::try_from` takes, for enums that travel outside the declared fields.
fn tried<T: TryFrom<u8> + std::fmt::Debug>() -> Members {
    (0..=u8::MAX)
        .filter_map(|code| T::try_from(code).ok().map(|v| (code, format!("{v:?}"))))
        .collect()
}

/// A raw-code field's members: the named enums' codes it takes, by those enums' names.
fn accepted_raw<C: FieldCodec<u8>>(name: impl Fn(u8) -> String) -> Members {
    accepted::<u8, C>()
        .into_keys()
        .map(|code| (code, name(code)))
        .collect()
}

fn debug_or<T: std::fmt::Debug>(value: Result<T, u8>, fallback: impl FnOnce() -> String) -> String {
    value.map_or_else(|_| fallback(), |v| format!("{v:?}"))
}

/// Every enumeration a client may meet, as the Rust codec reads it.
fn rust_enums() -> BTreeMap<&'static str, Members> {
    BTreeMap::from([
        ("Side", accepted::<Side, Side>()),
        ("OrderType", accepted::<OrderType, OrderType>()),
        ("TimeInForce", accepted::<TimeInForce, TimeInForce>()),
        ("CommandKind", accepted::<CommandKind, CommandKind>()),
        (
            "RejectReason",
            accepted_raw::<RejectCode>(|code| {
                debug_or(RejectReason::try_from(code), || {
                    debug_or(GatewayRejectReason::try_from(code), || unreachable!())
                })
            }),
        ),
        (
            "CancelReason",
            accepted_raw::<CancelCode>(|code| {
                debug_or(CancelReason::try_from(code), || {
                    assert_eq!(code, CANCEL_REASON_EXPIRED);
                    "Expired".into()
                })
            }),
        ),
        ("Role", accepted::<Role, Role>()),
        (
            "LoginRejectReason",
            accepted::<LoginRejectReason, LoginRejectReason>(),
        ),
        (
            "SessionEndReason",
            accepted::<SessionEndReason, SessionEndReason>(),
        ),
        ("Liquidity", accepted::<Liquidity, Liquidity>()),
        ("FeedKind", accepted::<FeedKind, FeedKind>()),
        (
            "RejectedFeed",
            accepted::<Option<FeedKind>, RejectedFeed>()
                .into_iter()
                .map(|(code, name)| {
                    let name = match name.strip_prefix("Some(") {
                        Some(feed) => feed.trim_end_matches(')').to_string(),
                        None => "TopOfBook".into(),
                    };
                    (code, name)
                })
                .collect(),
        ),
        (
            "FeedRejectReason",
            accepted::<FeedRejectReason, FeedRejectReason>(),
        ),
        ("RemoveReason", accepted::<RemoveReason, RemoveReason>()),
        ("LevelAction", accepted::<LevelAction, LevelAction>()),
        (
            "InstrumentState",
            accepted::<InstrumentState, InstrumentState>(),
        ),
        (
            "DefinitionUpdate",
            accepted::<DefinitionUpdate, DefinitionUpdate>(),
        ),
        ("DecodeError", tried::<ringex_protocol::DecodeError>()),
        ("ReplyStatus", tried::<ReplyStatus>()),
    ])
}

/// `PostOnlyWouldCross` and `POST_ONLY_WOULD_CROSS` alike: letters and digits, upper case.
fn plain(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[test]
fn every_declared_enum_is_checked_here() {
    let checked = rust_enums();
    for message in CLIENT_MESSAGES.iter().chain(SERVER_MESSAGES) {
        for column in message.columns() {
            if let Values::Enum(name) = column.column.values {
                assert!(
                    checked.contains_key(name),
                    "{}.{} carries the enum {name}, which this test does not read",
                    message.name,
                    column.name
                );
            }
        }
    }
}

#[test]
fn the_client_enums_are_the_codecs_codes_and_names() {
    let python = python_enums();
    assert!(
        !python.is_empty(),
        "no IntEnum class found in {PYTHON_MODULES:?}"
    );
    for (class, rust) in rust_enums() {
        assert!(!rust.is_empty(), "the codec of {class} accepts no byte");
        let members = python
            .get(class)
            .unwrap_or_else(|| panic!("the client has no IntEnum {class}"));
        let codes = |m: &Members| m.keys().copied().collect::<Vec<_>>();
        assert_eq!(
            codes(members),
            codes(&rust),
            "{class}: the client's codes against the codec's"
        );
        for (code, name) in &rust {
            assert_eq!(
                plain(&members[code]),
                plain(name),
                "{class} code {code}: the client's name against the codec's"
            );
        }
    }
}

/// `UnknownInstrument`: a capital, then letters and digits.
fn is_code_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The specification's code tables: runs of rows `| code | Name | meaning |`.
fn spec_code_tables() -> Vec<Members> {
    let text = std::fs::read_to_string(format!("{ROOT}/{SPEC}")).unwrap();
    let mut tables: Vec<Members> = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let row = match cells.as_slice() {
            ["", code, name, _meaning, ""] => code
                .parse::<u8>()
                .ok()
                .filter(|_| is_code_name(name))
                .map(|code| (code, name.to_string())),
            _ => None,
        };
        match row {
            Some((code, name)) => {
                if !in_table {
                    tables.push(Members::new());
                }
                in_table = true;
                let previous = tables.last_mut().unwrap().insert(code, name);
                assert!(
                    previous.is_none(),
                    "SPEC.md: code {code} twice in one table"
                );
            }
            None => in_table = false,
        }
    }
    tables
}

#[test]
fn the_specs_code_tables_are_the_codecs() {
    let rust = rust_enums();
    let mut claimed: BTreeMap<&str, Members> = BTreeMap::new();
    for table in spec_code_tables() {
        // A table belongs to the enum that has every one of its names.
        let owner = rust
            .iter()
            .find(|(_, members)| {
                table
                    .values()
                    .all(|name| members.values().any(|m| plain(m) == plain(name)))
            })
            .map(|(class, _)| *class)
            .unwrap_or_else(|| panic!("SPEC.md: no enum has every name of the table {table:?}"));
        claimed.entry(owner).or_default().extend(table);
    }
    for class in ["RejectReason", "SessionEndReason", "ReplyStatus"] {
        let spec = claimed
            .get(class)
            .unwrap_or_else(|| panic!("SPEC.md has no code table of {class}"));
        let rust = &rust[class];
        let named = |m: &Members| {
            m.iter()
                .map(|(code, name)| (*code, plain(name)))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            named(spec),
            named(rust),
            "{class}: SPEC.md against the codec"
        );
    }
}
