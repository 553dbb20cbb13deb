//! The day's closed client order ids in the order they closed, kept in chunks so that a
//! snapshot can take the list as it stands without copying it. A full chunk never
//! changes again and is shared; only the chunk being filled is copied. The matcher then
//! pauses for a snapshot for a copy of at most one chunk, and the snapshot is encoded
//! off its path while the day goes on.
//!
//! Every chunk is allocated (and may be prefaulted) at startup: the day's capacity is
//! fixed, so closing an id never allocates. A chunk a snapshot still holds at the start
//! of a new day is left to it and replaced by a new one, the only allocation here.

use std::sync::Arc;

use super::Key;

/// Ids per chunk: 64 Ki ids, 1 MiB, copied at most once per snapshot.
pub const CHUNK_IDS: usize = 64 * 1024;

pub struct ClosedLog {
    /// Full chunks, oldest first: each holds exactly `chunk_ids`.
    full: Vec<Arc<Vec<Key>>>,
    /// The chunk being filled.
    tail: Vec<Key>,
    /// Empty chunks with room for `chunk_ids` each, enough for the rest of the day.
    spare: Vec<Vec<Key>>,
    chunk_ids: usize,
}

/// The closed ids as they stood when a snapshot was taken.
#[derive(Clone)]
pub struct ClosedIds {
    full: Vec<Arc<Vec<Key>>>,
    tail: Vec<Key>,
}

impl ClosedLog {
    /// Room for `capacity` ids in chunks of `chunk_ids`.
    pub fn with_capacity(capacity: usize, chunk_ids: usize) -> ClosedLog {
        assert!(chunk_ids > 0);
        let chunks = capacity.div_ceil(chunk_ids).max(1);
        let mut spare: Vec<Vec<Key>> = (0..chunks).map(|_| Vec::with_capacity(chunk_ids)).collect();
        let tail = spare.pop().expect("at least one chunk");
        ClosedLog {
            full: Vec::with_capacity(chunks),
            tail,
            spare,
            chunk_ids,
        }
    }

    pub fn len(&self) -> usize {
        self.full.len() * self.chunk_ids + self.tail.len()
    }

    pub fn push(&mut self, key: Key) {
        if self.tail.len() == self.chunk_ids {
            let next = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(self.chunk_ids));
            let full = std::mem::replace(&mut self.tail, next);
            self.full.push(Arc::new(full));
        }
        self.tail.push(key);
    }

    /// Forgets every id; chunks no snapshot holds are kept for the new day.
    pub fn clear(&mut self) {
        for chunk in self.full.drain(..) {
            if let Ok(mut ids) = Arc::try_unwrap(chunk) {
                ids.clear();
                self.spare.push(ids);
            }
        }
        self.tail.clear();
    }

    /// Touches every page of every chunk, so none is first mapped while trading.
    pub fn prefault(&mut self, filler: Key) {
        assert_eq!(self.len(), 0, "only an empty log is prefaulted");
        for chunk in self.spare.iter_mut().chain(std::iter::once(&mut self.tail)) {
            chunk.resize(self.chunk_ids, filler);
            chunk.clear();
        }
    }

    /// The ids so far, shared: a copy of the chunk being filled, the rest by reference.
    pub fn snapshot(&self) -> ClosedIds {
        ClosedIds {
            full: self.full.clone(),
            tail: self.tail.clone(),
        }
    }
}

impl ClosedIds {
    pub fn len(&self) -> usize {
        self.full.iter().map(|c| c.len()).sum::<usize>() + self.tail.len()
    }

    /// Every id, in the order they closed.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.full
            .iter()
            .flat_map(|c| c.iter())
            .chain(self.tail.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_the_ids_it_saw_while_the_log_goes_on() {
        let mut log = ClosedLog::with_capacity(10, 3);
        for i in 0..5 {
            log.push((1, i));
        }
        let taken = log.snapshot();
        for i in 5..10 {
            log.push((1, i));
        }
        assert_eq!(log.len(), 10);
        assert_eq!(taken.len(), 5);
        assert_eq!(
            taken.iter().map(|k| k.1).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
        let all = log.snapshot();
        assert_eq!(
            all.iter().map(|k| k.1).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_new_day_reuses_the_chunks_no_snapshot_holds() {
        let mut log = ClosedLog::with_capacity(6, 2);
        log.prefault((0, 0));
        for i in 0..6 {
            log.push((2, i));
        }
        let held = log.snapshot();
        log.clear();
        assert_eq!(log.len(), 0);
        assert_eq!(log.snapshot().len(), 0);
        for i in 0..6 {
            log.push((3, i));
        }
        assert_eq!(held.iter().map(|k| k.0).collect::<Vec<_>>(), vec![2; 6]);
        assert_eq!(
            log.snapshot().iter().map(|k| k.0).collect::<Vec<_>>(),
            vec![3; 6]
        );
    }
}
