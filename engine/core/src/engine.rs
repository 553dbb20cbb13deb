//! The engine: every instrument, account and resting order, changed only by `apply`.

use crate::account::Account;
use crate::client_ids::{ClientIds, Lookup};
use crate::command::*;
use crate::config::EngineConfig;
use crate::event::*;
use crate::instrument::Instrument;
use crate::order::{Order, OrderPool, NIL};
use crate::types::*;

pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) instruments: Vec<Option<Instrument>>,
    pub(crate) accounts: Vec<Option<Account>>,
    pub(crate) pool: OrderPool,
    pub(crate) ids: ClientIds,
    pub(crate) next_order_id: OrderId,
    pub(crate) next_match_id: MatchId,
    pub(crate) last_seq: Seq,
    pub(crate) last_timestamp_ns: TimestampNs,
}

/// Appends a reject for `cmd` to `out`.
fn reject(out: &mut Vec<Event>, cmd: &Command, reason: RejectReason) {
    out.push(Event::Rejected {
        command: cmd.kind(),
        account: cmd.account(),
        client_order_id: cmd.client_order_id(),
        reason,
    });
}

/// Why a resting order leaves the book without trading.
#[derive(Clone, Copy)]
pub(crate) enum Removal {
    Cancel(CancelReason),
    Expire,
}

impl Engine {
    /// Creates an empty engine, reserving every table the configuration sizes.
    pub fn new(config: EngineConfig) -> Result<Engine, &'static str> {
        config.validate()?;
        let mut instruments = Vec::with_capacity(config.max_instruments as usize);
        instruments.resize_with(config.max_instruments as usize, || None);
        let mut accounts = Vec::with_capacity(config.max_accounts as usize);
        accounts.resize_with(config.max_accounts as usize, || None);
        Ok(Engine {
            config,
            instruments,
            accounts,
            pool: OrderPool::with_capacity(config.max_orders),
            ids: ClientIds::with_capacity(
                config.max_orders as usize,
                config.max_client_ids_per_day as usize,
            ),
            next_order_id: 1,
            next_match_id: 1,
            last_seq: 0,
            last_timestamp_ns: 0,
        })
    }

    /// Maps every page the engine reserved (the order slab and the client-id tables)
    /// now, so that trading never stops on a first-touch page fault. Call once on a new
    /// engine, before the first command; it takes a fraction of a second for the
    /// default capacities and makes the whole reservation resident. Changes no state.
    pub fn prefault(&mut self) {
        self.pool.prefault();
        self.ids.prefault();
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The sequence number of the last command applied (0 before the first).
    pub fn last_seq(&self) -> Seq {
        self.last_seq
    }

    /// The timestamp of the last command applied: a new sequencer must not stamp below
    /// it, or the engine would refuse the command.
    pub fn last_timestamp_ns(&self) -> TimestampNs {
        self.last_timestamp_ns
    }

    /// Applies one sequenced command, appending its events to `out`.
    ///
    /// `seq` must be exactly one more than the last applied sequence number and
    /// `timestamp_ns` must not go backwards; otherwise the command is rejected and the
    /// state is untouched. Never panics on any command value.
    pub fn apply(
        &mut self,
        seq: Seq,
        timestamp_ns: TimestampNs,
        cmd: &Command,
        out: &mut Vec<Event>,
    ) {
        if Some(seq) != self.last_seq.checked_add(1) {
            return reject(out, cmd, RejectReason::SequenceGap);
        }
        if timestamp_ns < self.last_timestamp_ns {
            return reject(out, cmd, RejectReason::TimestampRegressed);
        }
        self.last_seq = seq;
        self.last_timestamp_ns = timestamp_ns;
        match cmd {
            Command::NewOrder(c) => self.new_order(cmd, c, out),
            Command::Cancel(c) => self.cancel(cmd, c, out),
            Command::Replace(c) => self.replace(cmd, c, out),
            Command::MassCancel(c) => self.mass_cancel(cmd, c, out),
            Command::EndOfDay => self.end_of_day(out),
            Command::AddInstrument(spec) => self.add_instrument(cmd, spec, out),
            Command::AddAccount(spec) => self.add_account(cmd, spec, out),
            Command::SetHalted { instrument, halted } => {
                self.set_halted(cmd, *instrument, *halted, out)
            }
        }
    }

    pub(crate) fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id as usize).and_then(Option::as_ref)
    }

    pub(crate) fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id as usize).and_then(Option::as_ref)
    }

    /// Checks a price and quantity against the instrument's shape rules.
    fn check_shape(inst: &Instrument, price: Price, qty: Qty) -> Result<(), RejectReason> {
        if qty == 0 || qty > QTY_MAX {
            return Err(RejectReason::InvalidQuantity);
        }
        if !inst.on_lot(qty) {
            return Err(RejectReason::QtyNotOnLot);
        }
        if price <= 0 || price > PRICE_MAX {
            return Err(RejectReason::InvalidPrice);
        }
        if !inst.on_tick(price) {
            return Err(RejectReason::PriceNotOnTick);
        }
        Ok(())
    }

    /// Per-order risk: size, notional and the fat-finger band.
    fn check_risk(
        account: &Account,
        inst: &Instrument,
        side: Side,
        price: Price,
        qty: Qty,
        band_applies: bool,
    ) -> Result<(), RejectReason> {
        if qty > account.limits.max_order_qty {
            return Err(RejectReason::MaxOrderQty);
        }
        // price > 0 and both bounded: the product fits u128 with room to spare.
        let notional = u128::from(price.unsigned_abs()) * u128::from(qty);
        if notional > account.limits.max_order_notional {
            return Err(RejectReason::MaxOrderNotional);
        }
        if band_applies && !inst.price_in_band(price) {
            return Err(RejectReason::PriceBand);
        }
        // Both terms are far inside i64: the position is at most POSITION_MAX plus what
        // every resting order could add, qty at most QTY_MAX.
        let position = account.position(inst.spec.instrument);
        let signed_qty = qty as i64;
        let after = match side {
            Side::Buy => position + signed_qty,
            Side::Sell => position - signed_qty,
        };
        if after.unsigned_abs() > POSITION_MAX.unsigned_abs() {
            return Err(RejectReason::PositionLimit);
        }
        Ok(())
    }

    /// Whether an order at `price` on `side` would trade on entry.
    fn would_cross(inst: &Instrument, side: Side, price: Price) -> bool {
        match inst.book.side(side.opposite()).best() {
            Some(level) => side.accepts(price, level.price),
            None => false,
        }
    }

    fn new_order(&mut self, cmd: &Command, c: &NewOrder, out: &mut Vec<Event>) {
        match self.check_new_order(c) {
            Ok(limit) => self.execute_new_order(c, limit, out),
            Err(reason) => reject(out, cmd, reason),
        }
    }

    /// Validates a new order; returns the price it may trade up to.
    fn check_new_order(&self, c: &NewOrder) -> Result<Price, RejectReason> {
        let inst = self
            .instrument(c.instrument)
            .ok_or(RejectReason::UnknownInstrument)?;
        let account = self
            .account(c.account)
            .ok_or(RejectReason::UnknownAccount)?;
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        let (limit, check_price) = match c.order_type {
            OrderType::Limit => {
                Self::check_shape(inst, c.price, c.qty)?;
                if c.post_only && !c.time_in_force.may_rest() {
                    return Err(RejectReason::InvalidOrderType);
                }
                (c.price, c.price)
            }
            OrderType::Market => {
                if c.price != 0 {
                    return Err(RejectReason::InvalidPrice);
                }
                // Without a band nothing would bound the prices a market order sweeps
                // through, nor its notional: such instruments take limit orders only.
                if c.post_only || c.time_in_force.may_rest() || inst.band().is_none() {
                    return Err(RejectReason::InvalidOrderType);
                }
                // The reference price passes every shape check; only qty can fail.
                Self::check_shape(inst, inst.reference_price(), c.qty)?;
                market_limit(inst, c.side)
            }
        };
        if self.ids.is_used(c.account, c.client_order_id) {
            return Err(RejectReason::DuplicateClientOrderId);
        }
        if !self.ids.has_room() {
            return Err(RejectReason::DailyOrderLimit);
        }
        let band_applies = c.order_type == OrderType::Limit;
        Self::check_risk(account, inst, c.side, check_price, c.qty, band_applies)?;
        if c.order_type == OrderType::Limit && c.time_in_force.may_rest() {
            if account.open_orders >= account.limits.max_open_orders {
                return Err(RejectReason::MaxOpenOrders);
            }
            if self.pool.is_full() {
                return Err(RejectReason::BookFull);
            }
        }
        if c.post_only && Self::would_cross(inst, c.side, c.price) {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        Ok(limit)
    }

    fn execute_new_order(&mut self, c: &NewOrder, limit: Price, out: &mut Vec<Event>) {
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        out.push(Event::Accepted {
            order_id,
            account: c.account,
            instrument: c.instrument,
            client_order_id: c.client_order_id,
            side: c.side,
            order_type: c.order_type,
            time_in_force: c.time_in_force,
            post_only: c.post_only,
            price: c.price,
            qty: c.qty,
        });
        let mut taker = Taker {
            order_id,
            account: c.account,
            client_order_id: c.client_order_id,
            instrument: c.instrument,
            side: c.side,
            leaves: c.qty,
        };
        if c.time_in_force == TimeInForce::Fok {
            let inst = self.instrument(c.instrument).expect("checked");
            let available = inst
                .book
                .side(c.side.opposite())
                .available(c.side, limit, c.qty);
            if available < c.qty {
                self.ids.use_closed(c.account, c.client_order_id);
                return taker.cancel_rest(CancelReason::FillOrKill, out);
            }
        }
        self.match_taker(&mut taker, limit, out);
        if taker.leaves == 0 {
            return self.ids.use_closed(c.account, c.client_order_id);
        }
        if c.order_type == OrderType::Limit && c.time_in_force.may_rest() {
            let order = Order {
                order_id,
                client_order_id: c.client_order_id,
                price: c.price,
                leaves: taker.leaves,
                filled: c.qty - taker.leaves,
                account: c.account,
                instrument: c.instrument,
                prev: NIL,
                next: NIL,
                account_prev: NIL,
                account_next: NIL,
                side: c.side,
                time_in_force: c.time_in_force,
                post_only: c.post_only,
            };
            let slot = self.pool.alloc(order).expect("capacity checked");
            self.rest(slot);
            self.ids.use_open(c.account, c.client_order_id, slot);
            return;
        }
        self.ids.use_closed(c.account, c.client_order_id);
        let reason = if c.order_type == OrderType::Market && taker.leaves == c.qty {
            CancelReason::NoLiquidity
        } else {
            CancelReason::ImmediateRemainder
        };
        taker.cancel_rest(reason, out);
    }

    /// Puts an order already in the pool at the back of its level and its account.
    fn rest(&mut self, slot: u32) {
        let (instrument, account, side) = {
            let o = self.pool.get(slot);
            (o.instrument, o.account, o.side)
        };
        let inst = self.instruments[instrument as usize]
            .as_mut()
            .expect("exists");
        inst.book.side_mut(side).push_back(&mut self.pool, slot);
        let acct = self.accounts[account as usize].as_mut().expect("exists");
        acct.push_order(&mut self.pool, slot);
    }

    /// Removes a resting order without trading, reporting why.
    pub(crate) fn remove_resting(&mut self, slot: u32, why: Removal, out: &mut Vec<Event>) {
        let o = *self.pool.get(slot);
        let inst = self.instruments[o.instrument as usize]
            .as_mut()
            .expect("exists");
        inst.book.side_mut(o.side).unlink(&mut self.pool, slot);
        let acct = self.accounts[o.account as usize].as_mut().expect("exists");
        acct.remove_order(&mut self.pool, slot);
        self.ids.close(o.account, o.client_order_id);
        self.pool.free(slot);
        out.push(match why {
            Removal::Cancel(reason) => Event::Cancelled {
                order_id: o.order_id,
                account: o.account,
                instrument: o.instrument,
                client_order_id: o.client_order_id,
                qty: o.leaves,
                reason,
            },
            Removal::Expire => Event::Expired {
                order_id: o.order_id,
                account: o.account,
                instrument: o.instrument,
                client_order_id: o.client_order_id,
                qty: o.leaves,
            },
        });
    }

    /// The slot of an open order, or why there is none.
    fn open_order(&self, account: AccountId, id: ClientOrderId) -> Result<u32, RejectReason> {
        if self.account(account).is_none() {
            return Err(RejectReason::UnknownAccount);
        }
        match self.ids.lookup(account, id) {
            Lookup::Open(slot) => Ok(slot),
            Lookup::Closed => Err(RejectReason::TooLateToCancel),
            Lookup::Unknown => Err(RejectReason::UnknownOrder),
        }
    }

    fn cancel(&mut self, cmd: &Command, c: &Cancel, out: &mut Vec<Event>) {
        match self.open_order(c.account, c.client_order_id) {
            Ok(slot) => self.remove_resting(slot, Removal::Cancel(CancelReason::Requested), out),
            Err(reason) => reject(out, cmd, reason),
        }
    }

    fn replace(&mut self, cmd: &Command, c: &Replace, out: &mut Vec<Event>) {
        match self.check_replace(c) {
            Ok(slot) => self.execute_replace(c, slot, out),
            Err(reason) => reject(out, cmd, reason),
        }
    }

    fn check_replace(&self, c: &Replace) -> Result<u32, RejectReason> {
        let slot = self.open_order(c.account, c.orig_client_order_id)?;
        let order = self.pool.get(slot);
        let inst = self
            .instrument(order.instrument)
            .expect("resting order's instrument");
        let account = self.account(c.account).expect("checked");
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        // Shape, then ids, then risk: the order in which new orders are checked.
        Self::check_shape(inst, c.price, c.qty)?;
        if c.client_order_id != c.orig_client_order_id {
            if self.ids.is_used(c.account, c.client_order_id) {
                return Err(RejectReason::DuplicateClientOrderId);
            }
            if !self.ids.has_room() {
                return Err(RejectReason::DailyOrderLimit);
            }
        }
        // The band guards prices being entered. A reduction enters no new price and only
        // lowers exposure, so it stays allowed after the band has moved away from the
        // order's price; otherwise the owner could only cancel and lose the queue place.
        let band_applies = !is_reduction(order, c);
        Self::check_risk(account, inst, order.side, c.price, c.qty, band_applies)?;
        if order.post_only && Self::would_cross(inst, order.side, c.price) {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        Ok(slot)
    }

    fn execute_replace(&mut self, c: &Replace, slot: u32, out: &mut Vec<Event>) {
        let o = *self.pool.get(slot);
        let priority_kept = is_reduction(&o, c);
        let new_id = c.client_order_id != o.client_order_id;
        out.push(Event::Replaced {
            order_id: o.order_id,
            account: o.account,
            instrument: o.instrument,
            orig_client_order_id: o.client_order_id,
            client_order_id: c.client_order_id,
            price: c.price,
            qty: c.qty,
            priority_kept,
        });
        if new_id {
            self.ids.close(o.account, o.client_order_id);
        }
        let inst = self.instruments[o.instrument as usize]
            .as_mut()
            .expect("exists");
        let crosses = Self::would_cross(inst, o.side, c.price);
        let ladder = inst.book.side_mut(o.side);
        if priority_kept {
            if c.qty < o.leaves {
                ladder.reduce(&mut self.pool, slot, c.qty);
            }
            if new_id {
                self.pool.get_mut(slot).client_order_id = c.client_order_id;
                self.ids.use_open(o.account, c.client_order_id, slot);
            }
            return;
        }
        if !crosses {
            // Nothing to match: the order only changes place, which the ladder does in
            // one step (the common case for a price move).
            ladder.requeue(&mut self.pool, slot, c.price, c.qty);
            self.pool.get_mut(slot).client_order_id = c.client_order_id;
            if new_id {
                self.ids.use_open(o.account, c.client_order_id, slot);
            }
            return;
        }
        ladder.unlink(&mut self.pool, slot);
        let mut taker = Taker {
            order_id: o.order_id,
            account: o.account,
            client_order_id: c.client_order_id,
            instrument: o.instrument,
            side: o.side,
            leaves: c.qty,
        };
        self.match_taker(&mut taker, c.price, out);
        let order = self.pool.get_mut(slot);
        order.client_order_id = c.client_order_id;
        order.price = c.price;
        order.filled += c.qty - taker.leaves;
        order.leaves = taker.leaves;
        if taker.leaves > 0 {
            let inst = self.instruments[o.instrument as usize]
                .as_mut()
                .expect("exists");
            inst.book.side_mut(o.side).push_back(&mut self.pool, slot);
            if new_id {
                self.ids.use_open(o.account, c.client_order_id, slot);
            }
            return;
        }
        let acct = self.accounts[o.account as usize].as_mut().expect("exists");
        acct.remove_order(&mut self.pool, slot);
        self.pool.free(slot);
        if new_id {
            self.ids.use_closed(o.account, c.client_order_id);
        } else {
            self.ids.close(o.account, o.client_order_id);
        }
    }

    fn mass_cancel(&mut self, cmd: &Command, c: &MassCancel, out: &mut Vec<Event>) {
        let Some(account) = self.account(c.account) else {
            return reject(out, cmd, RejectReason::UnknownAccount);
        };
        if let Some(id) = c.instrument {
            if self.instrument(id).is_none() {
                return reject(out, cmd, RejectReason::UnknownInstrument);
            }
        }
        let mut count = 0u32;
        let mut slot = account.head;
        // Bounded: each step visits a distinct open order of the account.
        while slot != NIL {
            let o = self.pool.get(slot);
            let next = o.account_next;
            if c.instrument.is_none_or(|id| id == o.instrument) {
                self.remove_resting(slot, Removal::Cancel(CancelReason::MassCancel), out);
                count += 1;
            }
            slot = next;
        }
        out.push(Event::MassCancelled {
            account: c.account,
            instrument: c.instrument,
            count,
        });
    }

    fn end_of_day(&mut self, out: &mut Vec<Event>) {
        let mut expired = 0u32;
        for account in 0..self.accounts.len() {
            let mut slot = match &self.accounts[account] {
                Some(a) => a.head,
                None => continue,
            };
            while slot != NIL {
                let o = self.pool.get(slot);
                let next = o.account_next;
                if o.time_in_force == TimeInForce::Day {
                    self.remove_resting(slot, Removal::Expire, out);
                    expired += 1;
                }
                slot = next;
            }
        }
        // A new day: ids of finished orders may be used again; resting GTC ids may not.
        self.ids.start_day();
        for account in self.accounts.iter().flatten() {
            let mut slot = account.head;
            while slot != NIL {
                let o = self.pool.get(slot);
                self.ids.carry_over(o.account, o.client_order_id);
                slot = o.account_next;
            }
        }
        out.push(Event::DayEnded { expired });
    }

    fn add_instrument(&mut self, cmd: &Command, spec: &InstrumentSpec, out: &mut Vec<Event>) {
        let Some(entry) = self.instruments.get_mut(spec.instrument as usize) else {
            return reject(out, cmd, RejectReason::InvalidInstrument);
        };
        if entry.is_some() {
            return reject(out, cmd, RejectReason::DuplicateInstrument);
        }
        if !Instrument::spec_is_valid(spec) {
            return reject(out, cmd, RejectReason::InvalidInstrument);
        }
        *entry = Some(Instrument::new(*spec, self.config.levels_per_side as usize));
        out.push(Event::InstrumentAdded { spec: *spec });
    }

    fn add_account(&mut self, cmd: &Command, spec: &AccountSpec, out: &mut Vec<Event>) {
        let Some(entry) = self.accounts.get_mut(spec.account as usize) else {
            return reject(out, cmd, RejectReason::InvalidAccount);
        };
        if entry.is_some() {
            return reject(out, cmd, RejectReason::DuplicateAccount);
        }
        *entry = Some(Account::new(spec.limits));
        out.push(Event::AccountAdded {
            account: spec.account,
        });
    }

    fn set_halted(
        &mut self,
        cmd: &Command,
        instrument: InstrumentId,
        halted: bool,
        out: &mut Vec<Event>,
    ) {
        let Some(Some(inst)) = self.instruments.get_mut(instrument as usize) else {
            return reject(out, cmd, RejectReason::UnknownInstrument);
        };
        inst.halted = halted;
        out.push(Event::HaltChanged { instrument, halted });
    }
}

/// Whether a replace keeps the price and does not raise the quantity: such a replace
/// keeps the order's place in its queue.
fn is_reduction(o: &Order, c: &Replace) -> bool {
    c.price == o.price && c.qty <= o.leaves
}

/// The price a market order may trade up to (the edge of the band, which the caller has
/// checked exists), and the price its notional is checked at: the most a fill can be
/// priced at — the band's top for a buy, the best bid (or the reference) for a sell.
fn market_limit(inst: &Instrument, side: Side) -> (Price, Price) {
    let (low, high) = inst.band().expect("market orders need a band");
    match side {
        Side::Buy => (high, high),
        Side::Sell => {
            let best_bid = inst.book.side(Side::Buy).best().map(|level| level.price);
            (low, best_bid.unwrap_or(0).max(inst.reference_price()))
        }
    }
}

/// An order while it trades on entry (or after a replace that lost priority).
pub(crate) struct Taker {
    pub order_id: OrderId,
    pub account: AccountId,
    pub client_order_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub leaves: Qty,
}

impl Taker {
    /// Reports the unfilled remainder of an order that may not rest.
    fn cancel_rest(&self, reason: CancelReason, out: &mut Vec<Event>) {
        out.push(Event::Cancelled {
            order_id: self.order_id,
            account: self.account,
            instrument: self.instrument,
            client_order_id: self.client_order_id,
            qty: self.leaves,
            reason,
        });
    }
}
