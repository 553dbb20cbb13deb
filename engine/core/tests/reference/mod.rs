//! A reference matcher: the core's documented semantics written as plainly as possible,
//! to be the oracle the fast engine is checked against.
//!
//! Nothing clever: resting orders sit in one plain vector per instrument in no particular
//! order, price-time priority is a minimum over `(price, time queued)`, an account's
//! open orders are found by scanning, and the day's client order ids are one ordered
//! set. It shares with the core only its public types and the state hasher.

mod admin;
mod amend;
mod checks;
mod entry;
mod hash;
mod matching;
mod state;
mod views;

use std::collections::{BTreeMap, BTreeSet};

use ringex_core::*;

use state::{Account, Instrument, RestingOrder};

pub struct Reference {
    config: EngineConfig,
    instruments: BTreeMap<InstrumentId, Instrument>,
    accounts: BTreeMap<AccountId, Account>,
    /// Client order ids used today: by orders resting now and by orders that finished
    /// today. An id is open while an order rests under it.
    used_ids: BTreeSet<(AccountId, ClientOrderId)>,
    next_order_id: OrderId,
    next_match_id: MatchId,
    /// Stamps orders as they join the back of a price level: lower trades first.
    next_queue_stamp: u64,
    last_seq: Seq,
    last_timestamp_ns: TimestampNs,
}

/// What a client order id of an account names today.
enum ClientId {
    /// A resting order: its instrument and index in that instrument's orders.
    Open(InstrumentId, usize),
    /// An order that finished today.
    Finished,
    Unused,
}

fn reject(cmd: &Command, reason: RejectReason) -> Vec<Event> {
    vec![Event::Rejected {
        command: cmd.kind(),
        account: cmd.account(),
        client_order_id: cmd.client_order_id(),
        reason,
    }]
}

impl Reference {
    pub fn new(config: EngineConfig) -> Reference {
        Reference {
            config,
            instruments: BTreeMap::new(),
            accounts: BTreeMap::new(),
            used_ids: BTreeSet::new(),
            next_order_id: 1,
            next_match_id: 1,
            next_queue_stamp: 0,
            last_seq: 0,
            last_timestamp_ns: 0,
        }
    }

    /// Applies one stamped command and returns its events.
    pub fn apply(&mut self, seq: Seq, timestamp_ns: TimestampNs, cmd: &Command) -> Vec<Event> {
        if self.last_seq.checked_add(1) != Some(seq) {
            return reject(cmd, RejectReason::SequenceGap);
        }
        if timestamp_ns < self.last_timestamp_ns {
            return reject(cmd, RejectReason::TimestampRegressed);
        }
        self.last_seq = seq;
        self.last_timestamp_ns = timestamp_ns;
        let result = match cmd {
            Command::NewOrder(c) => self.new_order(c),
            Command::Cancel(c) => self.cancel(c),
            Command::Replace(c) => self.replace(c),
            Command::MassCancel(c) => self.mass_cancel(c),
            Command::EndOfDay => Ok(self.end_of_day()),
            Command::AddInstrument(spec) => self.add_instrument(spec),
            Command::AddAccount(spec) => self.add_account(spec),
            Command::SetHalted { instrument, halted } => self.set_halted(*instrument, *halted),
        };
        let events = result.unwrap_or_else(|reason| reject(cmd, reason));
        self.assert_consistent();
        events
    }

    fn client_id(&self, account: AccountId, id: ClientOrderId) -> ClientId {
        for (&instrument, inst) in &self.instruments {
            let named =
                |o: &RestingOrder| o.view.account == account && o.view.client_order_id == id;
            if let Some(index) = inst.orders.iter().position(named) {
                return ClientId::Open(instrument, index);
            }
        }
        if self.used_ids.contains(&(account, id)) {
            ClientId::Finished
        } else {
            ClientId::Unused
        }
    }

    /// The open order under an id, or why a cancel or replace of it is refused.
    fn open_order(
        &self,
        account: AccountId,
        id: ClientOrderId,
    ) -> Result<(InstrumentId, usize), RejectReason> {
        if !self.accounts.contains_key(&account) {
            return Err(RejectReason::UnknownAccount);
        }
        match self.client_id(account, id) {
            ClientId::Open(instrument, index) => Ok((instrument, index)),
            ClientId::Finished => Err(RejectReason::TooLateToCancel),
            ClientId::Unused => Err(RejectReason::UnknownOrder),
        }
    }

    fn all_resting(&self) -> impl Iterator<Item = &RestingOrder> {
        self.instruments.values().flat_map(|i| i.orders.iter())
    }

    fn resting_count(&self) -> usize {
        self.all_resting().count()
    }

    fn open_order_count(&self, account: AccountId) -> usize {
        self.all_resting()
            .filter(|o| o.view.account == account)
            .count()
    }

    fn may_use_another_id(&self) -> bool {
        self.used_ids.len() < self.config.max_client_ids_per_day as usize
    }

    fn take_queue_stamp(&mut self) -> u64 {
        self.next_queue_stamp += 1;
        self.next_queue_stamp
    }

    /// Between commands: capacities hold, every resting order is live and its id is
    /// used today and unique, books are uncrossed, positions net to zero.
    fn assert_consistent(&self) {
        assert!(self.resting_count() <= self.config.max_orders as usize);
        assert!(self.used_ids.len() <= self.config.max_client_ids_per_day as usize);
        let mut ids = BTreeSet::new();
        for o in self.all_resting() {
            let key = (o.view.account, o.view.client_order_id);
            assert!(o.view.leaves > 0, "resting order without quantity");
            assert!(self.used_ids.contains(&key), "resting id not used today");
            assert!(ids.insert(key), "two resting orders share an id");
        }
        for (id, inst) in &self.instruments {
            if let (Some(bid), Some(ask)) =
                (inst.best_price(Side::Buy), inst.best_price(Side::Sell))
            {
                assert!(bid < ask, "instrument {id}: book crossed");
            }
            let net: i128 = self
                .accounts
                .values()
                .map(|a| i128::from(a.position(*id)))
                .sum();
            assert_eq!(net, 0, "instrument {id}: positions do not net to zero");
        }
    }
}
