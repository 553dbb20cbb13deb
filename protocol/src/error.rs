//! Decoding errors. Every malformed input maps to one of these; none panics.

use std::fmt;

/// Why bytes were refused. The numeric values are stable: a session closed for bad
/// input reports the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DecodeError {
    /// The buffer ended inside a field.
    Truncated = 1,
    /// Bytes were left after the last field of a fixed-size message.
    TrailingBytes = 2,
    /// The message type byte is not one this protocol defines.
    UnknownType = 3,
    /// An enum field holds a value outside its range.
    BadEnum = 4,
    /// A frame's declared length is zero or above the maximum.
    BadLength = 5,
    /// A flags field has bits set that the protocol does not define.
    BadFlags = 6,
}

impl DecodeError {
    pub fn code(self) -> u8 {
        self as u8
    }
}

// The error a Goodbye's `detail` names, for a peer that reads one.
crate::session::u8_codes!(DecodeError {
    Truncated,
    TrailingBytes,
    UnknownType,
    BadEnum,
    BadLength,
    BadFlags
});

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            DecodeError::Truncated => "message truncated",
            DecodeError::TrailingBytes => "trailing bytes after message",
            DecodeError::UnknownType => "unknown message type",
            DecodeError::BadEnum => "enum value out of range",
            DecodeError::BadLength => "frame length out of range",
            DecodeError::BadFlags => "undefined flag bits set",
        };
        f.write_str(text)
    }
}

impl std::error::Error for DecodeError {}
