//! FIX repeating groups: which ones a message type may carry, and the pass that gathers a
//! parsed message's fields into its body and its groups.
//!
//! A group is a NumInGroup field followed by that many entries; each entry opens with the
//! group's first tag and holds only the group's tags, each at most once. Outside a group
//! a tag may appear once. Only the groups listed here are accepted: anywhere else a tag
//! seen twice is still `TagAppearsMoreThanOnce`.

use crate::fix_message_error::{invalid, MessageError, SessionRejectReason};

/// One repeating group of one message type.
struct GroupSpec {
    msg_type: &'static str,
    /// The NumInGroup tag that announces the entries.
    count_tag: u32,
    /// The tags an entry may hold; the first opens every entry.
    members: &'static [u32],
}

const GROUPS: &[GroupSpec] = &[
    // MarketDataRequest: NoMDEntryTypes (MDEntryType), NoRelatedSym (Symbol).
    GroupSpec {
        msg_type: "V",
        count_tag: 267,
        members: &[269],
    },
    GroupSpec {
        msg_type: "V",
        count_tag: 146,
        members: &[55],
    },
    // SecurityList: the gateway's own, parsed again when it is resent.
    GroupSpec {
        msg_type: "y",
        count_tag: 146,
        members: &[55],
    },
];

/// The entries of one group, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group<'a> {
    pub count_tag: u32,
    pub entries: Vec<Vec<(u32, &'a str)>>,
}

/// A parsed message: its fields outside groups (the NumInGroup fields among them) and
/// its groups, each in the order received. Values borrow from the message's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixFields<'a> {
    pub fields: Vec<(u32, &'a str)>,
    pub groups: Vec<Group<'a>>,
}

impl<'a> FixFields<'a> {
    /// Every field in wire order: each group's entries right after its NumInGroup.
    pub fn flat(&self) -> Vec<(u32, &'a str)> {
        let mut out = Vec::new();
        for &(tag, value) in &self.fields {
            out.push((tag, value));
            if let Some(group) = self.groups.iter().find(|g| g.count_tag == tag) {
                for entry in &group.entries {
                    out.extend_from_slice(entry);
                }
            }
        }
        out
    }
}

fn has(fields: &[(u32, &str)], tag: u32) -> bool {
    fields.iter().any(|(t, _)| *t == tag)
}

/// Gathers `flat` (MsgType first) into body and groups, refusing a tag twice outside a
/// group or twice in one entry, an entry that does not open with the group's first tag,
/// and a count that is not the number of entries.
pub fn gather(flat: Vec<(u32, &str)>) -> Result<FixFields<'_>, MessageError> {
    let msg_type = flat.first().map_or("", |(_, v)| *v);
    let mut out = FixFields {
        fields: Vec::with_capacity(flat.len()),
        groups: Vec::new(),
    };
    let mut rest = flat.into_iter().peekable();
    while let Some((tag, value)) = rest.next() {
        if has(&out.fields, tag) {
            return Err(invalid(
                SessionRejectReason::TagAppearsMoreThanOnce,
                tag,
                "tag appears more than once",
            ));
        }
        let spec = GROUPS
            .iter()
            .find(|g| g.msg_type == msg_type && g.count_tag == tag);
        out.fields.push((tag, value));
        let Some(spec) = spec else {
            continue;
        };
        let count = value.parse::<usize>().ok();
        let mut entries: Vec<Vec<(u32, &str)>> = Vec::new();
        while let Some(field) = rest.next_if(|(t, _)| spec.members.contains(t)) {
            add_member(&mut entries, spec, field)?;
        }
        if count != Some(entries.len()) {
            return Err(invalid(
                SessionRejectReason::IncorrectNumInGroupCount,
                tag,
                "NumInGroup is not the number of entries",
            ));
        }
        out.groups.push(Group {
            count_tag: tag,
            entries,
        });
    }
    Ok(out)
}

/// Adds one field of a group: its first tag opens a new entry.
fn add_member<'a>(
    entries: &mut Vec<Vec<(u32, &'a str)>>,
    spec: &GroupSpec,
    field: (u32, &'a str),
) -> Result<(), MessageError> {
    if field.0 == spec.members[0] {
        entries.push(vec![field]);
        return Ok(());
    }
    let Some(entry) = entries.last_mut() else {
        return Err(invalid(
            SessionRejectReason::RepeatingGroupFieldsOutOfOrder,
            field.0,
            "a group entry must open with the group's first tag",
        ));
    };
    if has(entry, field.0) {
        return Err(invalid(
            SessionRejectReason::TagAppearsMoreThanOnce,
            field.0,
            "tag appears more than once in a group entry",
        ));
    }
    entry.push(field);
    Ok(())
}
