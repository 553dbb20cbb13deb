//! What the fuzz tests share: a seeded generator and the per-declaration fuzz loop.

use ringex_protocol::declare::MessageDecl;
use ringex_protocol::DecodeError;

/// xorshift64*: tiny, seeded, good enough to drive mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every declared message, from the table: random field bytes at its exact size never
/// panic and round-trip when accepted (`check`); one byte short or long is refused by
/// length (`decoded`, the strict decoder of one whole message).
pub fn fuzz_declared(
    rng: &mut Rng,
    table: &[MessageDecl],
    check: fn(&[u8]),
    decoded: fn(&[u8]) -> Result<(), DecodeError>,
) {
    let decode = |bytes: &[u8]| {
        check(bytes);
        decoded(bytes)
    };
    for m in table {
        for _ in 0..5_000 {
            let mut bytes: Vec<u8> = (0..m.size).map(|_| rng.next() as u8).collect();
            bytes[0] = m.type_byte;
            decode(&bytes).ok();
            assert_eq!(decode(&bytes[..m.size - 1]), Err(DecodeError::Truncated));
            bytes.push(rng.next() as u8);
            assert_eq!(decode(&bytes), Err(DecodeError::TrailingBytes));
        }
    }
}
