//! Client order ids: unique per account for the trading day, so a resend after a
//! reconnect is recognised instead of executed twice.
//!
//! Two tables keep the hot one small: `open` maps the ids of resting orders to their
//! slots (touched by every cancel and replace), `closed` remembers the ids of orders
//! that finished today (touched only when a new id is checked). Both are sized at
//! startup; the day's capacity bounds them together.

mod closed_log;
mod open_ids;

use rustc_hash::FxHashSet;

use closed_log::{ClosedLog, CHUNK_IDS};
use open_ids::OpenIds;

pub use closed_log::ClosedIds;

use crate::types::{AccountId, ClientOrderId};

type Key = (AccountId, ClientOrderId);

pub struct ClientIds {
    open: OpenIds,
    closed: FxHashSet<Key>,
    /// The same ids as `closed`, in the order they closed. A snapshot writes them in
    /// this order, which every engine fed the same stream shares, so encoding needs no
    /// sort of a set that grows all day, and takes them without copying the day's list.
    closed_in_order: ClosedLog,
    day_capacity: usize,
    /// Order-independent digest of every id used today, for the state hash.
    digest: u64,
}

/// One id's term in the order-independent digest of the day's used ids (a wrapping sum
/// of these terms). Public so that other models of the state can rebuild the digest.
#[inline]
pub fn client_id_digest_term(account: AccountId, id: ClientOrderId) -> u64 {
    let mut x = id ^ (u64::from(account)).rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub enum Lookup {
    Open(u32),
    Closed,
    Unknown,
}

impl ClientIds {
    pub fn with_capacity(open_capacity: usize, day_capacity: usize) -> ClientIds {
        assert!(open_capacity <= day_capacity);
        ClientIds {
            open: OpenIds::with_capacity(open_capacity),
            closed: FxHashSet::with_capacity_and_hasher(day_capacity, Default::default()),
            // A small day (tests, tools) needs no more than one chunk its own size.
            closed_in_order: ClosedLog::with_capacity(
                day_capacity,
                CHUNK_IDS.min(day_capacity.max(1)),
            ),
            day_capacity,
            digest: 0,
        }
    }

    #[inline]
    pub fn lookup(&self, account: AccountId, id: ClientOrderId) -> Lookup {
        if let Some(slot) = self.open.get(&(account, id)) {
            return Lookup::Open(slot);
        }
        if self.closed.contains(&(account, id)) {
            return Lookup::Closed;
        }
        Lookup::Unknown
    }

    #[inline]
    pub fn is_used(&self, account: AccountId, id: ClientOrderId) -> bool {
        !matches!(self.lookup(account, id), Lookup::Unknown)
    }

    /// Whether another id may be used today.
    #[inline]
    pub fn has_room(&self) -> bool {
        self.open.len() + self.closed.len() < self.day_capacity
    }

    /// Records a new id of an order that will not rest.
    pub fn use_closed(&mut self, account: AccountId, id: ClientOrderId) {
        assert!(self.has_room());
        let fresh = self.closed.insert((account, id));
        assert!(fresh, "client order id used twice");
        self.closed_in_order.push((account, id));
        self.digest = self.digest.wrapping_add(client_id_digest_term(account, id));
    }

    /// Records a new id of a resting order.
    pub fn use_open(&mut self, account: AccountId, id: ClientOrderId, slot: u32) {
        assert!(self.has_room());
        let fresh = self.open.insert((account, id), slot);
        assert!(fresh, "client order id used twice");
        self.digest = self.digest.wrapping_add(client_id_digest_term(account, id));
    }

    /// The order under this id stopped resting.
    pub fn close(&mut self, account: AccountId, id: ClientOrderId) {
        let slot = self.open.remove(&(account, id));
        assert!(slot.is_some(), "closing an id that is not open");
        let fresh = self.closed.insert((account, id));
        assert!(fresh);
        self.closed_in_order.push((account, id));
    }

    /// A new trading day: forget closed ids. Open ids stay used while their orders rest,
    /// and the digest is rebuilt from them by the caller through `carry_over`.
    pub fn start_day(&mut self) {
        self.closed.clear();
        self.closed_in_order.clear();
        self.digest = 0;
    }

    /// Re-adds an open id to the digest after `start_day`.
    pub fn carry_over(&mut self, account: AccountId, id: ClientOrderId) {
        assert!(self.open.contains_key(&(account, id)));
        self.digest = self.digest.wrapping_add(client_id_digest_term(account, id));
    }

    /// Fills both tables to their capacity with ids no account can have and clears
    /// them again, so every page they reserved is mapped now rather than on first use
    /// while trading. Only for empty tables (a new engine): clearing is what restores
    /// them exactly, with no tombstones left behind.
    pub fn prefault(&mut self) {
        if !self.open.is_empty() || !self.closed.is_empty() {
            return;
        }
        // Account ids are below 2^24, so these keys never meet a real one.
        let fake = |i: usize| (AccountId::MAX, i as ClientOrderId);
        self.open.prefault(fake);
        for i in 0..self.closed.capacity() {
            self.closed.insert(fake(i));
        }
        self.closed.clear();
        self.closed_in_order.prefault(fake(0));
    }

    /// Ids of orders that finished today, in the order they finished, as they stand
    /// now: later ones do not change what this returns.
    pub fn closed_ids(&self) -> ClosedIds {
        assert_eq!(self.closed_in_order.len(), self.closed.len());
        self.closed_in_order.snapshot()
    }

    pub fn digest(&self) -> u64 {
        self.digest
    }

    pub fn used_today(&self) -> usize {
        self.open.len() + self.closed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefault_leaves_the_tables_as_new() {
        let mut ids = ClientIds::with_capacity(64, 256);
        let closed_capacity = ids.closed.capacity();
        ids.prefault();
        assert_eq!(ids.used_today(), 0);
        assert_eq!(ids.digest(), 0);
        assert_eq!(ids.closed.capacity(), closed_capacity);
        assert!(matches!(ids.lookup(AccountId::MAX, 3), Lookup::Unknown));
        ids.use_open(1, 7, 0);
        ids.prefault();
        assert!(matches!(ids.lookup(1, 7), Lookup::Open(0)));
        assert_eq!(ids.used_today(), 1);
    }
}
