//! Exact conversion between FIX decimal prices (`Price`, e.g. `101.25`) and the engine's
//! integer price units: a price unit is `10^-decimals` of the FIX price. No floating point
//! is involved; a price with non-zero digits past `decimals` is not a whole number of
//! units and is refused, never rounded.

use std::io::Write;

/// Most decimals a price may be configured with (10^18 fits i64).
pub const DECIMALS_MAX: u32 = 18;
/// Digits a FIX price may have in all (before and after the point).
const DIGITS_MAX: usize = 36;

/// Why a FIX price is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceError {
    /// Not `[-]digits[.digits]`.
    Malformed,
    /// Non-zero digits past the configured decimals: not a whole number of price units.
    OffTick,
    /// Outside i64 price units.
    OutOfRange,
}

impl PriceError {
    /// Words for a Reject's Text.
    pub fn text(self) -> &'static str {
        match self {
            PriceError::Malformed => "price is not a decimal number",
            PriceError::OffTick => "price has more decimals than the instrument's price unit",
            PriceError::OutOfRange => "price out of range",
        }
    }
}

/// `text` (a FIX decimal) in units of `10^-decimals`.
pub fn price_to_units(text: &str, decimals: u32) -> Result<i64, PriceError> {
    assert!(
        decimals <= DECIMALS_MAX,
        "decimals bounded at configuration"
    );
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !digits_ok(whole)
        || !digits_ok(fraction)
        || whole.len() + fraction.len() > DIGITS_MAX
    {
        return Err(PriceError::Malformed);
    }
    let keep = (decimals as usize).min(fraction.len());
    if fraction[keep..].bytes().any(|b| b != b'0') {
        return Err(PriceError::OffTick);
    }
    let mut units: i128 = 0;
    for b in whole.bytes().chain(fraction[..keep].bytes()) {
        units = units * 10 + i128::from(b - b'0');
    }
    units *= 10i128.pow(decimals - keep as u32);
    let units = if negative { -units } else { units };
    i64::try_from(units).map_err(|_| PriceError::OutOfRange)
}

/// `units` of `10^-decimals` as a FIX decimal, without trailing zeros past the point.
pub fn units_to_price(units: i64, decimals: u32) -> String {
    let mut out = Vec::new();
    write_price(&mut out, units, decimals);
    String::from_utf8(out).expect("a price is ASCII")
}

/// Appends `units` of `10^-decimals` as a FIX decimal, without trailing zeros past the
/// point.
pub fn write_price(out: &mut Vec<u8>, units: i64, decimals: u32) {
    assert!(
        decimals <= DECIMALS_MAX,
        "decimals bounded at configuration"
    );
    let scale = 10u128.pow(decimals);
    let magnitude = units.unsigned_abs() as u128;
    if units < 0 {
        out.push(b'-');
    }
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    write!(out, "{whole}").expect("writing to memory");
    if fraction != 0 {
        write!(out, ".{fraction:0width$}", width = decimals as usize).expect("writing to memory");
        while out.last() == Some(&b'0') {
            out.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_both_ways() {
        assert_eq!(price_to_units("101.25", 2), Ok(10125));
        assert_eq!(price_to_units("101.250", 2), Ok(10125));
        assert_eq!(price_to_units("101", 2), Ok(10100));
        assert_eq!(price_to_units(".5", 1), Ok(5));
        assert_eq!(price_to_units("-0.01", 2), Ok(-1));
        assert_eq!(units_to_price(10125, 2), "101.25");
        assert_eq!(units_to_price(10100, 2), "101");
        assert_eq!(units_to_price(-1, 2), "-0.01");
        assert_eq!(units_to_price(i64::MIN, 0), i64::MIN.to_string());
        assert_eq!(units_to_price(7, 0), "7");
    }

    #[test]
    fn refuses_off_tick_malformed_and_too_large() {
        assert_eq!(price_to_units("101.255", 2), Err(PriceError::OffTick));
        assert_eq!(price_to_units("1e5", 2), Err(PriceError::Malformed));
        assert_eq!(price_to_units("", 2), Err(PriceError::Malformed));
        assert_eq!(price_to_units(".", 2), Err(PriceError::Malformed));
        assert_eq!(price_to_units("1.2.3", 2), Err(PriceError::Malformed));
        assert_eq!(price_to_units("+1", 2), Err(PriceError::Malformed));
        assert_eq!(
            price_to_units("92233720368547758.08", 2),
            Err(PriceError::OutOfRange)
        );
    }

    #[test]
    fn every_unit_round_trips() {
        for decimals in [0, 1, 4, 8, DECIMALS_MAX] {
            for units in [0, 1, -1, 999, 10_000_001, i64::MAX, i64::MIN + 1] {
                let text = units_to_price(units, decimals);
                assert_eq!(price_to_units(&text, decimals), Ok(units), "{text}");
            }
        }
    }
}
