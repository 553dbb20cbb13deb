//! Capacities fixed when an engine is created: every table is sized here, once.

/// Bounds of one engine. Memory for orders and client ids is reserved up front, so the
/// matching path never allocates once warm; commands beyond a bound are rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Resting orders across all books.
    pub max_orders: u32,
    pub max_instruments: u32,
    pub max_accounts: u32,
    /// Client order ids that may be used in one trading day, across all accounts.
    pub max_client_ids_per_day: u32,
    /// Price levels reserved per book side (a book may grow past it, allocating).
    pub levels_per_side: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_orders: 1 << 20,
            max_instruments: 1024,
            max_accounts: 1 << 16,
            max_client_ids_per_day: 1 << 22,
            levels_per_side: 1024,
        }
    }
}

impl EngineConfig {
    /// Checks the bounds against the limits the core's integer widths allow.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.max_orders == 0 || self.max_orders > 1 << 24 {
            return Err("max_orders must be in 1..=16777216");
        }
        if self.max_instruments == 0 || self.max_instruments > 1 << 20 {
            return Err("max_instruments must be in 1..=1048576");
        }
        if self.max_accounts == 0 || self.max_accounts > 1 << 24 {
            return Err("max_accounts must be in 1..=16777216");
        }
        if self.max_client_ids_per_day < self.max_orders {
            return Err("max_client_ids_per_day must be at least max_orders");
        }
        // Its table is reserved at start: keep it to what a machine can hold.
        if self.max_client_ids_per_day > 1 << 26 {
            return Err("max_client_ids_per_day must be at most 67108864");
        }
        if self.levels_per_side == 0 || self.levels_per_side > 1 << 20 {
            return Err("levels_per_side must be in 1..=1048576");
        }
        Ok(())
    }
}
