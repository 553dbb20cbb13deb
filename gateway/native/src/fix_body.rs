//! A FIX message's fields after its standard header, written straight into bytes
//! (`tag=value<SOH>` each) as a report is built: no string per field, and the bytes go
//! on the wire as they are ([`crate::fix_codec::encode_with_body`] adds header and
//! trailer).

use crate::fix_codec::{printable, push_decimal, SOH};
use crate::fix_price::write_price;

/// Fields appended to a buffer, in the order written.
pub struct FixBody<'a>(pub &'a mut Vec<u8>);

impl FixBody<'_> {
    fn tag(&mut self, tag: u32) {
        push_decimal(self.0, u64::from(tag));
        self.0.push(b'=');
    }

    /// A text value; reports only carry values that were printable when they came in.
    pub fn text(&mut self, tag: u32, value: &str) -> &mut Self {
        assert!(
            printable(value),
            "tag {tag}: a FIX value is printable ASCII"
        );
        self.tag(tag);
        self.0.extend_from_slice(value.as_bytes());
        self.0.push(SOH);
        self
    }

    /// A one-character code (ExecType, OrdStatus, Side, ...).
    pub fn code(&mut self, tag: u32, value: u8) -> &mut Self {
        assert!(
            (0x21..=0x7E).contains(&value),
            "tag {tag}: a code is a printable character"
        );
        self.tag(tag);
        self.0.extend_from_slice(&[value, SOH]);
        self
    }

    /// A decimal number.
    pub fn number(&mut self, tag: u32, value: u64) -> &mut Self {
        self.prefixed(tag, "", value)
    }

    /// `prefix` then a decimal number (ExecIDs such as `E17`).
    pub fn prefixed(&mut self, tag: u32, prefix: &str, value: u64) -> &mut Self {
        self.tag(tag);
        self.0.extend_from_slice(prefix.as_bytes());
        push_decimal(self.0, value);
        self.0.push(SOH);
        self
    }

    /// A price of `units` in `10^-decimals`.
    pub fn price(&mut self, tag: u32, units: i64, decimals: u32) -> &mut Self {
        self.tag(tag);
        write_price(self.0, units, decimals);
        self.0.push(SOH);
        self
    }
}

/// The fields of `body` (as [`FixBody`] writes them), for callers that take them one by
/// one.
pub fn fields(body: &[u8]) -> Vec<(u32, String)> {
    body.split(|&b| b == SOH)
        .filter(|field| !field.is_empty())
        .map(|field| {
            let text = std::str::from_utf8(field).expect("FixBody writes ASCII");
            let (tag, value) = text.split_once('=').expect("FixBody writes tag=value");
            (
                tag.parse().expect("FixBody writes numeric tags"),
                value.to_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_back_as_written() {
        let mut bytes = Vec::new();
        FixBody(&mut bytes)
            .text(55, "XAU")
            .code(54, b'1')
            .number(38, 10)
            .prefixed(17, "E", 7)
            .price(44, -10_025, 2);
        assert_eq!(bytes, b"55=XAU\x0154=1\x0138=10\x0117=E7\x0144=-100.25\x01");
        let want = [
            (55, "XAU"),
            (54, "1"),
            (38, "10"),
            (17, "E7"),
            (44, "-100.25"),
        ];
        let want: Vec<(u32, String)> = want.iter().map(|(t, v)| (*t, v.to_string())).collect();
        assert_eq!(fields(&bytes), want);
    }
}
