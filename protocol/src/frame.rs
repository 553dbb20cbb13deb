//! Length-prefixed framing. A frame is checked whole — its length against the limit and
//! its bytes all present — before anything parses it, so a slow or hostile peer can
//! neither make a reader allocate beyond the limit nor see half a message.

use crate::error::DecodeError;

/// Width of a frame's little-endian length prefix, which counts the bytes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthPrefix {
    /// Client sessions: small fixed-size messages.
    U16,
    /// The engine link: batches of events.
    U32,
}

impl LengthPrefix {
    pub fn width(self) -> usize {
        match self {
            LengthPrefix::U16 => 2,
            LengthPrefix::U32 => 4,
        }
    }
}

/// Finds the first complete frame in `buf`. Returns `Ok(None)` while more bytes are
/// needed, or the frame's body (type byte onwards) and the bytes it occupies.
pub fn split_frame(
    buf: &[u8],
    prefix: LengthPrefix,
    max_body: usize,
) -> Result<Option<(&[u8], usize)>, DecodeError> {
    let width = prefix.width();
    let Some(head) = buf.get(..width) else {
        return Ok(None);
    };
    let len = match prefix {
        LengthPrefix::U16 => usize::from(u16::from_le_bytes([head[0], head[1]])),
        LengthPrefix::U32 => u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize,
    };
    if len == 0 || len > max_body {
        return Err(DecodeError::BadLength);
    }
    match buf.get(width..width + len) {
        Some(body) => Ok(Some((body, width + len))),
        None => Ok(None),
    }
}

/// Appends a frame: writes the prefix, lets `body` append the body, then fills the
/// length in. Panics if the body breaks the limit: that is a bug in the writer.
pub fn write_frame(
    buf: &mut Vec<u8>,
    prefix: LengthPrefix,
    max_body: usize,
    body: impl FnOnce(&mut Vec<u8>),
) {
    let start = buf.len();
    let width = prefix.width();
    buf.extend_from_slice(&[0u8; 4][..width]);
    body(buf);
    let len = buf.len() - start - width;
    assert!(len > 0 && len <= max_body, "frame body of {len} bytes");
    match prefix {
        LengthPrefix::U16 => buf[start..start + 2].copy_from_slice(&(len as u16).to_le_bytes()),
        LengthPrefix::U32 => buf[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes()),
    }
}
