//! The frames one publish encoded, gathered per feed: every subscriber of a feed gets
//! them in one append at the end of the publish, not one per message, so the fan-out's
//! cost per subscriber follows the publishes rather than the messages. Each feed's
//! messages keep their order; the feeds of one session follow each other batch by batch.

use rustc_hash::FxHashMap as HashMap;

use ringex_protocol::command_codec::ALL_INSTRUMENTS;

use crate::feed_key::FeedKey;

/// One feed's frames of the publish under way.
pub struct FeedBatch {
    pub key: FeedKey,
    pub frames: Vec<u8>,
    pub count: u64,
}

/// The batches of the publish under way, one per feed written to. Kept between
/// publishes (emptied) so their buffers are reused; at most one per feed of a listed
/// instrument.
#[derive(Default)]
pub struct FeedBatches {
    batches: Vec<FeedBatch>,
    at: HashMap<FeedKey, usize>,
}

impl FeedBatches {
    /// Adds one encoded frame to `key`'s batch.
    pub fn push(&mut self, key: FeedKey, frame: &[u8]) {
        assert_ne!(
            key.instrument, ALL_INSTRUMENTS,
            "a message is of one instrument"
        );
        let batches = &mut self.batches;
        let at = *self.at.entry(key).or_insert_with(|| {
            batches.push(FeedBatch {
                key,
                frames: Vec::new(),
                count: 0,
            });
            batches.len() - 1
        });
        let batch = &mut self.batches[at];
        batch.frames.extend_from_slice(frame);
        batch.count += 1;
    }

    /// The batches with frames, in the order their feeds were first ever written to.
    pub fn filled(&self) -> impl Iterator<Item = &FeedBatch> {
        self.batches.iter().filter(|b| b.count > 0)
    }

    /// Empties every batch, keeping its buffer.
    pub fn clear(&mut self) {
        for batch in &mut self.batches {
            batch.frames.clear();
            batch.count = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringex_protocol::feed::FeedKind;

    #[test]
    fn frames_gather_per_feed_in_order_and_clear_keeps_the_feeds() {
        let l3 = FeedKey {
            instrument: 1,
            feed: FeedKind::L3,
            depth: 0,
        };
        let trades = FeedKey {
            feed: FeedKind::Trades,
            ..l3
        };
        let mut batches = FeedBatches::default();
        batches.push(l3, b"a");
        batches.push(trades, b"t");
        batches.push(l3, b"b");
        let got: Vec<_> = batches
            .filled()
            .map(|b| (b.key, b.frames.clone(), b.count))
            .collect();
        assert_eq!(
            got,
            vec![(l3, b"ab".to_vec(), 2), (trades, b"t".to_vec(), 1)]
        );
        batches.clear();
        assert_eq!(batches.filled().count(), 0);
        batches.push(trades, b"u");
        assert_eq!(
            batches.filled().map(|b| b.key).collect::<Vec<_>>(),
            vec![trades]
        );
    }
}
