//! Exact divisibility by a fixed divisor with a multiply instead of a division.
//!
//! Every order's price and quantity is checked against its instrument's tick and lot
//! size; a 64-bit division costs tens of cycles on the hot path, this a few. For
//! `d = 2^k * m` with `m` odd, `n` is a multiple of `d` exactly when its low `k` bits
//! are zero and `(n >> k) * m⁻¹ (mod 2^64)` is at most `(2^64 - 1) / m`: multiplying by
//! the inverse maps the multiples of `m` onto `0..=(2^64 - 1) / m` one to one, and
//! every other number above it.

#[derive(Clone, Copy, Debug)]
pub struct Divisor {
    shift: u32,
    inverse: u64,
    limit: u64,
}

impl Divisor {
    /// `divisor` must be positive; 0 is taken as 1.
    pub fn new(divisor: u64) -> Divisor {
        let divisor = divisor.max(1);
        let shift = divisor.trailing_zeros();
        let odd = divisor >> shift;
        // Newton's iteration doubles the correct low bits of an inverse mod 2^64 each
        // step; `odd` itself is correct to 3 bits since odd * odd = 1 (mod 8).
        let mut inverse = odd;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        }
        Divisor {
            shift,
            inverse,
            limit: u64::MAX / odd,
        }
    }

    #[inline]
    pub fn divides(&self, n: u64) -> bool {
        n.trailing_zeros() >= self.shift
            && (n >> self.shift).wrapping_mul(self.inverse) <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_remainder() {
        let divisors = [
            1u64, 2, 3, 5, 6, 7, 10, 12, 25, 64, 96, 100, 1000, 4096, 999_983,
        ];
        for d in divisors
            .into_iter()
            .chain([u64::MAX, u64::MAX - 1, 1 << 52])
        {
            let divisor = Divisor::new(d);
            let samples = (0..5000u64).chain([u64::MAX, u64::MAX - 1, d, d.wrapping_mul(3)]);
            for n in samples.chain((1..2000u64).map(|i| i.wrapping_mul(d))) {
                assert_eq!(divisor.divides(n), n % d == 0, "{n} by {d}");
            }
        }
    }
}
