//! A vector with spare room at both ends, for the sorted levels of a ladder.
//!
//! Inserting or removing at index `i` moves `min(i, len - i)` items, not `len - i` as a
//! `Vec` does: a ladder keeps its best level at the end, so levels far from the touch
//! sit at the front, and the orders there (often the oldest, the ones traders cancel or
//! move) would otherwise shift the whole ladder on every change.

pub struct SlackVec<T> {
    buf: Vec<T>,
    /// The items are `buf[start..end]`; the rest is filler.
    start: usize,
    end: usize,
}

impl<T: Copy + Default> SlackVec<T> {
    /// Room for `capacity` items added at either end before any allocation.
    pub fn with_capacity(capacity: usize) -> SlackVec<T> {
        let size = 2 * capacity.max(1);
        SlackVec {
            buf: vec![T::default(); size],
            start: size / 2,
            end: size / 2,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.buf[self.start..self.end]
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.end]
    }

    /// Inserts `item` before index `i`, moving the shorter side outwards.
    pub fn insert(&mut self, i: usize, item: T) {
        let len = self.len();
        assert!(i <= len, "insert index out of range");
        let front_is_shorter = i < len - i;
        if (front_is_shorter && self.start == 0)
            || (!front_is_shorter && self.end == self.buf.len())
        {
            self.make_room();
        }
        let at = self.start + i;
        if front_is_shorter {
            self.buf.copy_within(self.start..at, self.start - 1);
            self.start -= 1;
            self.buf[at - 1] = item;
        } else {
            self.buf.copy_within(at..self.end, at + 1);
            self.end += 1;
            self.buf[at] = item;
        }
    }

    /// Removes and returns the item at index `i`, closing the gap from the shorter side.
    pub fn remove(&mut self, i: usize) -> T {
        let len = self.len();
        assert!(i < len, "remove index out of range");
        let at = self.start + i;
        let item = self.buf[at];
        if i < len - 1 - i {
            self.buf.copy_within(self.start..at, self.start + 1);
            self.start += 1;
        } else {
            self.buf.copy_within(at + 1..self.end, at);
            self.end -= 1;
        }
        self.recentre_if_empty();
        item
    }

    pub fn pop(&mut self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        self.end -= 1;
        let item = self.buf[self.end];
        self.recentre_if_empty();
        Some(item)
    }

    /// An empty vector costs nothing to move back to the middle, where both ends
    /// have room again.
    fn recentre_if_empty(&mut self) {
        if self.is_empty() {
            self.start = self.buf.len() / 2;
            self.end = self.start;
        }
    }

    /// Centres the items with room on both sides, growing the buffer when it is more
    /// than half full. Rare: each call buys at least a quarter buffer of inserts.
    fn make_room(&mut self) {
        let len = self.len();
        if 2 * len >= self.buf.len() {
            let size = 4 * len.max(1);
            let mut buf = vec![T::default(); size];
            let start = (size - len) / 2;
            buf[start..start + len].copy_from_slice(self.as_slice());
            self.buf = buf;
            self.start = start;
        } else {
            let start = (self.buf.len() - len) / 2;
            self.buf.copy_within(self.start..self.end, start);
            self.start = start;
        }
        self.end = self.start + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec() {
        let mut fast: SlackVec<u32> = SlackVec::with_capacity(2);
        let mut model: Vec<u32> = Vec::new();
        let mut x = 12345u32;
        for step in 0..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let r = (x >> 8) as usize;
            match r % 5 {
                0..=2 => {
                    let i = r / 5 % (model.len() + 1);
                    model.insert(i, step);
                    fast.insert(i, step);
                }
                3 if !model.is_empty() => {
                    let i = r / 5 % model.len();
                    assert_eq!(fast.remove(i), model.remove(i));
                }
                _ => assert_eq!(fast.pop(), model.pop()),
            }
            assert_eq!(fast.as_slice(), &model[..]);
            assert_eq!(fast.len(), model.len());
        }
    }
}
