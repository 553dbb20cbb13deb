//! The ids of resting orders and their slots: a small table that stays in cache, backed
//! by a large one reserved for the engine's full order capacity.
//!
//! A hash table reserved for a million entries spreads a thousand live ones over tens
//! of megabytes, one cache line and often one TLB entry each, and every cancel and
//! replace looks one up. Ids go to the small table while it has room and to the large
//! one only after, so a book of a few thousand resting orders never leaves the small
//! table, and lookups try the large one only when it holds anything.

use rustc_hash::FxHashMap;

use super::Key;

/// Entries the small table holds: enough for a busy book, small enough (about 200 KB
/// with its empty buckets) to stay in a core's cache.
const HOT_CAPACITY: usize = 4096;

pub struct OpenIds {
    hot: FxHashMap<Key, u32>,
    cold: FxHashMap<Key, u32>,
    hot_capacity: usize,
}

impl OpenIds {
    /// Room for `capacity` entries in the two tables together, reserved now.
    pub fn with_capacity(capacity: usize) -> OpenIds {
        let hot_capacity = capacity.min(HOT_CAPACITY);
        OpenIds {
            hot: FxHashMap::with_capacity_and_hasher(hot_capacity, Default::default()),
            cold: FxHashMap::with_capacity_and_hasher(capacity - hot_capacity, Default::default()),
            hot_capacity,
        }
    }

    #[inline]
    pub fn get(&self, key: &Key) -> Option<u32> {
        match self.hot.get(key) {
            Some(&slot) => Some(slot),
            None if self.cold.is_empty() => None,
            None => self.cold.get(key).copied(),
        }
    }

    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// Adds `key`; returns false, changing nothing, when it is already there.
    pub fn insert(&mut self, key: Key, slot: u32) -> bool {
        if self.contains_key(&key) {
            return false;
        }
        if self.hot.len() < self.hot_capacity {
            self.hot.insert(key, slot);
        } else {
            self.cold.insert(key, slot);
        }
        true
    }

    pub fn remove(&mut self, key: &Key) -> Option<u32> {
        match self.hot.remove(key) {
            Some(slot) => Some(slot),
            None if self.cold.is_empty() => None,
            None => self.cold.remove(key),
        }
    }

    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hot.is_empty() && self.cold.is_empty()
    }

    /// Fills both tables with `fake` keys to their capacity and clears them, mapping
    /// their pages. Only on empty tables: clearing is what restores them exactly.
    pub fn prefault(&mut self, fake: impl Fn(usize) -> Key) {
        assert!(self.is_empty());
        for table in [&mut self.hot, &mut self.cold] {
            for i in 0..table.capacity() {
                table.insert(fake(i), 0);
            }
            table.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_into_the_large_table_and_finds_everything() {
        let mut ids = OpenIds::with_capacity(HOT_CAPACITY + 100);
        let n = HOT_CAPACITY as u64 + 50;
        for id in 0..n {
            assert!(ids.insert((1, id), id as u32));
        }
        assert!(!ids.insert((1, 3), 9), "a key already in the small table");
        assert!(
            !ids.insert((1, n - 1), 9),
            "a key already in the large table"
        );
        assert_eq!(ids.len(), n as usize);
        assert!(!ids.cold.is_empty());
        for id in 0..n {
            assert_eq!(ids.get(&(1, id)), Some(id as u32));
        }
        assert_eq!(ids.remove(&(1, n - 1)), Some(n as u32 - 1));
        assert_eq!(ids.remove(&(1, 0)), Some(0));
        assert_eq!(ids.get(&(1, 0)), None);
        assert!(ids.insert((2, 0), 5), "the small table has room again");
        assert_eq!(ids.hot.get(&(2, 0)), Some(&5));
        assert_eq!(ids.len(), n as usize - 1);
    }
}
