//! A small seeded random source (SplitMix64). Tests must replay exactly from a printed
//! seed on every machine, so the generator is fixed here rather than taken from a crate.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        // The modulo bias is irrelevant for test inputs.
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi);
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (u128::from(self.next_u64()) % span) as i128) as i64
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    pub fn flip(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Any `u64`, biased towards the values where bugs live: small numbers, the top of the
    /// range and powers of two either side.
    pub fn edgy_u64(&mut self) -> u64 {
        match self.below(10) {
            0..=3 => self.below(8),
            4..=5 => u64::MAX - self.below(4),
            6 => (1u64 << self.below(64)).wrapping_add(self.between(-1, 1) as u64),
            _ => self.next_u64(),
        }
    }

    pub fn edgy_u32(&mut self) -> u32 {
        match self.below(10) {
            0..=3 => self.below(8) as u32,
            4..=5 => u32::MAX - self.below(4) as u32,
            6 => (1u32 << self.below(32)).wrapping_add(self.between(-1, 1) as u32),
            _ => self.next_u64() as u32,
        }
    }

    pub fn edgy_i64(&mut self) -> i64 {
        match self.below(10) {
            0..=3 => self.between(-4, 8),
            4 => i64::MAX - self.below(4) as i64,
            5 => i64::MIN + self.below(4) as i64,
            6 => (1i64 << self.below(63)).wrapping_add(self.between(-1, 1)),
            _ => self.next_u64() as i64,
        }
    }

    pub fn edgy_u128(&mut self) -> u128 {
        match self.below(4) {
            0 => u128::from(self.below(8)),
            1 => u128::MAX - u128::from(self.below(4)),
            _ => (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64()),
        }
    }
}
