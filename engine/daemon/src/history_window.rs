//! The history window: the most recent event batches, kept in memory up to a byte bound,
//! so a gateway that relinks after a short absence is sent what it missed straight from
//! memory. Batches are shared with the links' queues (`Arc`), so the window costs only
//! the batches no queue still holds.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::event_batch::EventBatch;

pub struct HistoryWindow {
    batches: VecDeque<Arc<EventBatch>>,
    bytes: usize,
    max_bytes: usize,
}

impl HistoryWindow {
    /// A window of at most `max_bytes` of batches; 0 keeps none.
    pub fn new(max_bytes: usize) -> HistoryWindow {
        HistoryWindow {
            batches: VecDeque::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// Keeps the newest batch, forgetting the oldest ones past the bound.
    pub fn keep(&mut self, batch: &Arc<EventBatch>) {
        self.batches.push_back(Arc::clone(batch));
        self.bytes += batch.len_bytes();
        while self.bytes > self.max_bytes {
            let Some(old) = self.batches.pop_front() else {
                break;
            };
            self.bytes -= old.len_bytes();
        }
    }

    /// The batches holding every input in `(after_seq, to_seq]`, or `None` if the window
    /// no longer reaches back to `after_seq + 1`. The first batch may start earlier: write
    /// it with [`EventBatch::write_after`].
    pub fn after(&self, after_seq: u64, to_seq: u64) -> Option<Vec<Arc<EventBatch>>> {
        assert!(after_seq <= to_seq);
        if after_seq == to_seq {
            return Some(Vec::new());
        }
        let oldest = self.batches.front()?.seqs().0;
        let newest = self.batches.back()?.seqs().1;
        if oldest > after_seq + 1 || newest < to_seq {
            return None;
        }
        let wanted = self
            .batches
            .iter()
            .filter(|b| b.seqs().1 > after_seq && b.seqs().0 <= to_seq)
            .cloned()
            .collect();
        Some(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_core::Event;

    fn batch(seqs: std::ops::RangeInclusive<u64>) -> Arc<EventBatch> {
        let mut b = EventBatch::new();
        for seq in seqs {
            b.push(seq, seq, 1, seq, &[Event::DayEnded { expired: 0 }]);
        }
        Arc::new(b)
    }

    #[test]
    fn serves_what_it_still_holds_and_forgets_past_its_bound() {
        let size = batch(1..=2).len_bytes();
        let mut w = HistoryWindow::new(2 * size);
        w.keep(&batch(1..=2));
        w.keep(&batch(3..=4));
        let seqs = |v: Vec<Arc<EventBatch>>| v.iter().map(|b| b.seqs()).collect::<Vec<_>>();
        assert_eq!(seqs(w.after(0, 4).unwrap()), vec![(1, 2), (3, 4)]);
        assert_eq!(seqs(w.after(2, 4).unwrap()), vec![(3, 4)]);
        assert_eq!(seqs(w.after(1, 3).unwrap()), vec![(1, 2), (3, 4)]);
        assert!(w.after(4, 4).unwrap().is_empty());
        assert!(w.after(2, 5).is_none(), "not published yet");
        w.keep(&batch(5..=6));
        assert!(w.after(0, 6).is_none(), "1..=2 was forgotten");
        assert_eq!(seqs(w.after(2, 6).unwrap()), vec![(3, 4), (5, 6)]);
        let mut none = HistoryWindow::new(0);
        none.keep(&batch(1..=1));
        assert!(none.after(0, 1).is_none());
    }
}
