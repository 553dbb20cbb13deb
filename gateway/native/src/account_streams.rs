//! Every account's sequenced stream, created on first use with the configured capacity.

use rustc_hash::FxHashMap as HashMap;

use ringex_protocol::client::ServerMessage;

use crate::account_stream::AccountStream;

pub struct AccountStreams {
    by_account: HashMap<u32, AccountStream>,
    /// Sequenced messages kept per account for replay.
    capacity: usize,
}

impl AccountStreams {
    pub fn new(capacity: usize) -> AccountStreams {
        AccountStreams {
            by_account: HashMap::default(),
            capacity,
        }
    }

    pub fn get(&self, account: u32) -> Option<&AccountStream> {
        self.by_account.get(&account)
    }

    /// The account's stream, opened empty if it has none yet.
    pub fn open(&mut self, account: u32) -> &mut AccountStream {
        let capacity = self.capacity;
        self.by_account
            .entry(account)
            .or_insert_with(|| AccountStream::new(capacity))
    }

    /// Appends the message `build` makes for the account's next sequence number.
    pub fn push(&mut self, account: u32, build: impl FnOnce(u64) -> ServerMessage) {
        self.open(account).push(build);
    }
}
