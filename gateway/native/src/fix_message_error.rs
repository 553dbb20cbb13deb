//! What can be wrong with one FIX message that framing found whole, and the
//! SessionRejectReason a session-level Reject of it carries.

/// FIX 4.4 SessionRejectReason (tag 373) values the gateway sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SessionRejectReason {
    InvalidTagNumber = 0,
    RequiredTagMissing = 1,
    TagNotDefinedForMessageType = 2,
    UndefinedTag = 3,
    TagWithoutValue = 4,
    ValueIncorrect = 5,
    IncorrectDataFormat = 6,
    CompIdProblem = 9,
    SendingTimeAccuracy = 10,
    InvalidMsgType = 11,
    TagAppearsMoreThanOnce = 13,
    TagOutOfOrder = 14,
    RepeatingGroupFieldsOutOfOrder = 15,
    IncorrectNumInGroupCount = 16,
    Other = 99,
}

/// What is wrong with one message (that framing found whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// CheckSum does not match: the message is ignored, its sequence number unused.
    Garbled(&'static str),
    /// A defect answered with a session-level Reject.
    Invalid {
        reason: SessionRejectReason,
        ref_tag: u32,
        text: &'static str,
    },
}

/// The error of a defect answered with a session-level Reject.
pub(crate) fn invalid(
    reason: SessionRejectReason,
    ref_tag: u32,
    text: &'static str,
) -> MessageError {
    MessageError::Invalid {
        reason,
        ref_tag,
        text,
    }
}
