//! FIX 4.4 tag=value messages: splitting a byte stream into whole messages, parsing one
//! into its fields with the checks the session layer relies on (BeginString, BodyLength,
//! CheckSum, header order, duplicate tags, repeating groups, malformed numbers), and
//! encoding with the BodyLength and CheckSum computed.
//!
//! Framing errors mean the stream cannot be resynchronised (the gateway ends the session
//! with a Logout); a checksum mismatch marks one message as garbled (ignored, its sequence
//! number not consumed, so the gap is resent); any other defect is a session-level Reject
//! with the SessionRejectReason the error names.

use crate::fix_groups::{gather, FixFields};
use crate::fix_message_error::invalid;
pub use crate::fix_message_error::{MessageError, SessionRejectReason};

/// Field separator.
pub const SOH: u8 = 0x01;
/// The only BeginString the gateway speaks.
pub const BEGIN_STRING: &[u8] = b"FIX.4.4";
const HEADER_PREFIX: &[u8] = b"8=FIX.4.4\x019=";
/// `10=nnn<SOH>`.
const TRAILER_BYTES: usize = 7;
/// Digits BodyLength may have: more is never a message the gateway accepts.
const BODY_LENGTH_DIGITS_MAX: usize = 7;
/// Fields one message may carry (a bound on the parse, far above any message in use).
pub const FIELDS_MAX: usize = 256;
/// Fields room is made for at first: more than an order or a report has.
const FIELDS_EXPECTED: usize = 24;
/// Largest tag number (FIX tags are at most five digits in practice; user-defined ones
/// reach 49999).
const TAG_MAX: u32 = 99_999;

/// Tags whose values are integers (FIX types int, SeqNum, Length, NumInGroup, Qty as the
/// gateway uses it): a value that is not one is `IncorrectDataFormat` at parse time.
const INT_TAGS: &[u32] = &[
    7,   // BeginSeqNo
    9,   // BodyLength
    14,  // CumQty
    16,  // EndSeqNo
    32,  // LastQty
    34,  // MsgSeqNum
    36,  // NewSeqNo
    38,  // OrderQty
    45,  // RefSeqNum
    98,  // EncryptMethod
    108, // HeartBtInt
    146, // NoRelatedSym
    151, // LeavesQty
    264, // MarketDepth
    265, // MDUpdateType
    267, // NoMDEntryTypes
    268, // NoMDEntries
    371, // RefTagID
    373, // SessionRejectReason
    380, // BusinessRejectReason
    383, // MaxMessageSize
];

/// Why a byte stream cannot be split into messages any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The stream does not start with `8=FIX.4.4<SOH>9=`.
    BadBeginString,
    /// BodyLength is not digits ended by SOH.
    BadBodyLength,
    /// The message would be larger than the bound.
    TooLarge,
    /// The bytes BodyLength points at are not a `10=nnn<SOH>` trailer.
    BadTrailer,
}

impl FrameError {
    /// Words for the Logout's Text.
    pub fn text(self) -> &'static str {
        match self {
            FrameError::BadBeginString => "stream does not start with 8=FIX.4.4|9=",
            FrameError::BadBodyLength => "BodyLength(9) is not a number",
            FrameError::TooLarge => "message larger than the gateway accepts",
            FrameError::BadTrailer => "BodyLength(9) does not end at CheckSum(10)",
        }
    }
}

/// The length of the first whole message in `buf`, `None` if more bytes are needed.
pub fn next_frame(buf: &[u8], max_bytes: usize) -> Result<Option<usize>, FrameError> {
    let prefix_len = HEADER_PREFIX.len().min(buf.len());
    if buf[..prefix_len] != HEADER_PREFIX[..prefix_len] {
        return Err(FrameError::BadBeginString);
    }
    let digits_at = HEADER_PREFIX.len();
    let rest = &buf[prefix_len..];
    let Some(soh) = rest.iter().position(|&b| b == SOH) else {
        if rest.len() > BODY_LENGTH_DIGITS_MAX || !rest.iter().all(u8::is_ascii_digit) {
            return Err(FrameError::BadBodyLength);
        }
        return Ok(None);
    };
    let digits = &rest[..soh];
    if digits.is_empty()
        || digits.len() > BODY_LENGTH_DIGITS_MAX
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return Err(FrameError::BadBodyLength);
    }
    let body_len: usize = digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0'));
    let body_at = digits_at + soh + 1;
    let total = body_at + body_len + TRAILER_BYTES;
    if total > max_bytes {
        return Err(FrameError::TooLarge);
    }
    if buf.len() < total {
        return Ok(None);
    }
    let trailer = &buf[body_at + body_len..total];
    if !trailer.starts_with(b"10=")
        || trailer[TRAILER_BYTES - 1] != SOH
        || !trailer[3..6].iter().all(u8::is_ascii_digit)
    {
        return Err(FrameError::BadTrailer);
    }
    Ok(Some(total))
}

/// The checksum of `bytes`: their sum modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

/// A message whose fields could not all be taken: the error, and MsgSeqNum/MsgType if
/// they were readable (for the Reject's RefSeqNum and RefMsgType).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub error: MessageError,
    pub seq_num: u64,
    pub msg_type: String,
}

/// Parses one whole message (as [`next_frame`] delimited it) into its fields after
/// BodyLength, in order, without CheckSum, gathered into body and repeating groups.
/// Values are printable ASCII.
pub fn parse(frame: &[u8]) -> Result<FixFields<'_>, Refused> {
    let trailer_at = frame.len() - TRAILER_BYTES;
    let stated = std::str::from_utf8(&frame[trailer_at + 3..trailer_at + 6])
        .ok()
        .and_then(|d| d.parse::<u16>().ok());
    let garbled = stated != Some(u16::from(checksum(&frame[..trailer_at])));
    let body_at = frame[HEADER_PREFIX.len()..]
        .iter()
        .position(|&b| b == SOH)
        .map_or(trailer_at, |p| HEADER_PREFIX.len() + p + 1);
    let body = &frame[body_at..trailer_at];
    let mut fields: Vec<(u32, &str)> = Vec::with_capacity(FIELDS_EXPECTED);
    let mut error = if !body.ends_with(&[SOH]) {
        Some(MessageError::Garbled(
            "BodyLength(9) does not end at a field",
        ))
    } else {
        garbled.then_some(MessageError::Garbled("CheckSum(10) does not match"))
    };
    let body = body.strip_suffix(&[SOH]).unwrap_or(body);
    for raw in body.split(|&b| b == SOH) {
        match parse_field(raw) {
            Ok(field) if error.is_none() => fields.push(field),
            Ok(field) => {
                if field.0 == 34 || field.0 == 35 {
                    fields.push(field);
                }
            }
            Err(e) if error.is_none() => error = Some(e),
            Err(_) => {}
        }
        if fields.len() > FIELDS_MAX {
            error.get_or_insert(MessageError::Invalid {
                reason: SessionRejectReason::Other,
                ref_tag: 0,
                text: "too many fields",
            });
            break;
        }
    }
    if error.is_none() {
        error = check_header_order(&fields);
    }
    // Values borrow from the frame, not from `fields`: what a refusal names is kept.
    let (seq_num, msg_type) = (find(&fields, 34), find(&fields, 35));
    error
        .map_or_else(|| gather(fields), Err)
        .map_err(|error| Refused {
            error,
            seq_num: seq_num.and_then(|v| v.parse().ok()).unwrap_or(0),
            msg_type: msg_type.unwrap_or("").to_owned(),
        })
}

fn find<'a>(fields: &[(u32, &'a str)], tag: u32) -> Option<&'a str> {
    fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
}

fn parse_field(raw: &[u8]) -> Result<(u32, &str), MessageError> {
    use SessionRejectReason as R;
    let Some(eq) = raw.iter().position(|&b| b == b'=') else {
        return Err(invalid(R::InvalidTagNumber, 0, "field without '='"));
    };
    let (tag_bytes, value) = (&raw[..eq], &raw[eq + 1..]);
    let tag = parse_tag(tag_bytes).ok_or(invalid(R::InvalidTagNumber, 0, "tag not a number"))?;
    if value.is_empty() {
        return Err(invalid(R::TagWithoutValue, tag, "tag without a value"));
    }
    if !value.iter().all(|b| (0x20..=0x7E).contains(b)) {
        return Err(invalid(
            R::IncorrectDataFormat,
            tag,
            "value not printable ASCII",
        ));
    }
    if INT_TAGS.contains(&tag) && !is_int(value) {
        return Err(invalid(R::IncorrectDataFormat, tag, "value not an integer"));
    }
    // Checked printable ASCII above, so this is valid UTF-8.
    let value = std::str::from_utf8(value).expect("ASCII is UTF-8");
    Ok((tag, value))
}

fn parse_tag(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 5 || bytes[0] == b'0' {
        return None;
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let tag = bytes.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    (tag <= TAG_MAX).then_some(tag)
}

/// An optional minus sign and 1-18 digits (fits i64).
fn is_int(value: &[u8]) -> bool {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit)
}

/// MsgType must be the first field after BodyLength (FIX 4.4's standard header order).
fn check_header_order(fields: &[(u32, &str)]) -> Option<MessageError> {
    use SessionRejectReason as R;
    match fields.first() {
        Some((35, _)) => None,
        _ if find(fields, 35).is_none() => {
            Some(invalid(R::RequiredTagMissing, 35, "MsgType(35) missing"))
        }
        _ => Some(invalid(
            R::TagOutOfOrder,
            35,
            "MsgType(35) must be the third field",
        )),
    }
}

/// Why a message cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// A value is empty or holds a byte outside printable ASCII (SOH included).
    BadValue(u32),
}

/// Encodes `fields` (MsgType first, then the rest of the header and the body) as one
/// message: BeginString, BodyLength, the fields, CheckSum.
pub fn encode(fields: &[(u32, &str)], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_with_body(fields, &[], out)
}

/// Whether `value` may be a field's value: not empty, printable ASCII (no SOH).
pub fn printable(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (0x20..=0x7E).contains(&b))
}

/// Encodes `header` (MsgType first), then `body` (fields already written as
/// `tag=value<SOH>`, see [`crate::fix_body`]) as one message with BodyLength and CheckSum.
pub fn encode_with_body(
    header: &[(u32, &str)],
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let header_len = header.iter().try_fold(0, |len, &(tag, value)| {
        if !printable(value) {
            return Err(EncodeError::BadValue(tag));
        }
        Ok(len + decimal_digits(u64::from(tag)) + value.len() + 2)
    })?;
    let body_len = header_len + body.len();
    let start = out.len();
    out.reserve(HEADER_PREFIX.len() + 8 + body_len + TRAILER_BYTES);
    out.extend_from_slice(HEADER_PREFIX);
    push_decimal(out, body_len as u64);
    out.push(SOH);
    for &(tag, value) in header {
        push_decimal(out, u64::from(tag));
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.push(SOH);
    }
    out.extend_from_slice(body);
    let sum = checksum(&out[start..]);
    out.extend_from_slice(b"10=");
    out.extend_from_slice(&[b'0' + sum / 100, b'0' + sum / 10 % 10, b'0' + sum % 10, SOH]);
    Ok(())
}

/// How many decimal digits `n` has.
fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// `n` in decimal, written into `buf` (room for any u64).
pub fn decimal_str(n: u64, buf: &mut [u8; 20]) -> &str {
    let digits = write_digits(n, buf);
    std::str::from_utf8(&buf[..digits]).expect("digits are ASCII")
}

/// Appends `n` in decimal, without allocating.
pub fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0; 20];
    let digits = write_digits(n, &mut buf);
    out.extend_from_slice(&buf[..digits]);
}

/// Writes the digits of `n` at the start of `buf`; returns how many.
fn write_digits(n: u64, buf: &mut [u8; 20]) -> usize {
    let digits = decimal_digits(n);
    let mut rest = n;
    for at in (0..digits).rev() {
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    digits
}
