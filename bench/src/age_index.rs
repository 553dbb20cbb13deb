//! Live orders in the order they were placed, so a workload can aim cancels and moves
//! at the k-th oldest live order in O(log n) (a Fenwick tree over placement numbers).

pub struct AgeIndex {
    /// Fenwick tree of live flags, 1-based.
    tree: Vec<u32>,
    live: Vec<bool>,
    count: u32,
}

impl AgeIndex {
    pub fn new() -> AgeIndex {
        AgeIndex {
            tree: vec![0; 2],
            live: vec![false; 1],
            count: 0,
        }
    }

    /// Live entries.
    pub fn len(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Marks placement number `position` live. Positions may arrive in any order.
    pub fn insert(&mut self, position: usize) {
        if position >= self.live.len() {
            self.grow(position + 1);
        }
        assert!(!self.live[position], "position inserted twice");
        self.live[position] = true;
        self.count += 1;
        self.add(position, 1);
    }

    pub fn remove(&mut self, position: usize) {
        assert!(self.live[position], "position not live");
        self.live[position] = false;
        self.count -= 1;
        self.add(position, u32::MAX);
    }

    /// Placement number of the `k`-th oldest live entry (0 is the oldest).
    pub fn nth_oldest(&self, k: u32) -> usize {
        assert!(k < self.count);
        let mut remaining = k + 1;
        let mut node = 0usize;
        let mut step = (self.tree.len() - 1).next_power_of_two();
        while step > 0 {
            let next = node + step;
            if next < self.tree.len() && self.tree[next] < remaining {
                node = next;
                remaining -= self.tree[next];
            }
            step /= 2;
        }
        // `node` is the 1-based index just before the answer.
        node
    }

    /// Adds `delta` (wrapping, so `u32::MAX` subtracts one) at `position`.
    fn add(&mut self, position: usize, delta: u32) {
        let mut i = position + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i].wrapping_add(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Doubles the capacity until it holds `len` positions and rebuilds the tree.
    fn grow(&mut self, len: usize) {
        let capacity = len.next_power_of_two().max(self.live.len() * 2);
        self.live.resize(capacity, false);
        self.tree = vec![0; capacity + 1];
        for i in 1..=capacity {
            self.tree[i] += u32::from(self.live[i - 1]);
            let parent = i + (i & i.wrapping_neg());
            if parent <= capacity {
                self.tree[parent] += self.tree[i];
            }
        }
    }
}

impl Default for AgeIndex {
    fn default() -> Self {
        AgeIndex::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_kth_oldest_across_growth_and_removal() {
        let mut index = AgeIndex::new();
        let mut model: Vec<usize> = Vec::new();
        for p in 0..1000 {
            if p % 3 != 1 {
                index.insert(p);
                model.push(p);
            }
        }
        for p in (0..1000).step_by(7) {
            if let Some(i) = model.iter().position(|&m| m == p) {
                model.remove(i);
                index.remove(p);
            }
        }
        assert_eq!(index.len() as usize, model.len());
        for (k, &p) in model.iter().enumerate() {
            assert_eq!(index.nth_oldest(k as u32), p);
        }
    }
}
