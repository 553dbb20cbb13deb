//! New orders: validation in the core's order, then acceptance, fill-or-kill, trading,
//! and the remainder either resting or cancelled.

use ringex_core::*;

use super::checks::*;
use super::matching::Aggressor;
use super::state::RestingOrder;
use super::Reference;

impl Reference {
    pub(super) fn new_order(&mut self, c: &NewOrder) -> Result<Vec<Event>, RejectReason> {
        let limit = self.check_new_order(c)?;
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        let mut events = vec![Event::Accepted {
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
        }];
        // Whatever happens next, the id is spent for the day.
        self.used_ids.insert((c.account, c.client_order_id));
        let mut taker = Aggressor {
            order_id,
            account: c.account,
            client_order_id: c.client_order_id,
            instrument: c.instrument,
            side: c.side,
            leaves: c.qty,
        };
        if c.time_in_force == TimeInForce::Fok
            && self.available(c.instrument, c.side, limit) < u128::from(c.qty)
        {
            events.push(taker.cancelled(CancelReason::FillOrKill));
            return Ok(events);
        }
        self.trade(&mut taker, limit, &mut events);
        if taker.leaves == 0 {
            return Ok(events);
        }
        if c.order_type == OrderType::Limit && may_rest(c.time_in_force) {
            let queued_at = self.take_queue_stamp();
            let order = RestingOrder {
                view: OrderView {
                    order_id,
                    account: c.account,
                    instrument: c.instrument,
                    client_order_id: c.client_order_id,
                    side: c.side,
                    time_in_force: c.time_in_force,
                    post_only: c.post_only,
                    price: c.price,
                    leaves: taker.leaves,
                    filled: c.qty - taker.leaves,
                },
                queued_at,
            };
            self.instruments
                .get_mut(&c.instrument)
                .unwrap()
                .orders
                .push(order);
            return Ok(events);
        }
        let reason = if c.order_type == OrderType::Market && taker.leaves == c.qty {
            CancelReason::NoLiquidity
        } else {
            CancelReason::ImmediateRemainder
        };
        events.push(taker.cancelled(reason));
        Ok(events)
    }

    /// Validates a new order; returns the price it may trade up to (`None`: any).
    fn check_new_order(&self, c: &NewOrder) -> Result<Option<Price>, RejectReason> {
        let inst = self
            .instruments
            .get(&c.instrument)
            .ok_or(RejectReason::UnknownInstrument)?;
        let account = self
            .accounts
            .get(&c.account)
            .ok_or(RejectReason::UnknownAccount)?;
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        let is_limit = c.order_type == OrderType::Limit;
        let rests = is_limit && may_rest(c.time_in_force);
        let (limit, notional_price) = if is_limit {
            check_qty(inst, c.qty)?;
            check_price(inst, c.price)?;
            if c.post_only && !rests {
                return Err(RejectReason::InvalidOrderType);
            }
            (Some(c.price), c.price)
        } else {
            if c.price != 0 {
                return Err(RejectReason::InvalidPrice);
            }
            // Market orders need a band: it bounds where they trade and their notional.
            let Some((low, high)) = inst.band() else {
                return Err(RejectReason::InvalidOrderType);
            };
            if c.post_only || may_rest(c.time_in_force) {
                return Err(RejectReason::InvalidOrderType);
            }
            check_qty(inst, c.qty)?;
            // Notional at the highest price a fill can have: the band's top for a buy,
            // the best bid (or the reference, if higher or no bid) for a sell.
            match c.side {
                Side::Buy => (Some(high), high),
                Side::Sell => {
                    let best_bid = inst.best_price(Side::Buy).unwrap_or(0);
                    (Some(low), best_bid.max(inst.reference_price()))
                }
            }
        };
        if self.used_ids.contains(&(c.account, c.client_order_id)) {
            return Err(RejectReason::DuplicateClientOrderId);
        }
        if !self.may_use_another_id() {
            return Err(RejectReason::DailyOrderLimit);
        }
        check_size_and_notional(account, notional_price, c.qty)?;
        if is_limit {
            check_band(inst, c.price)?;
        }
        check_position(account, c.instrument, c.side, c.qty)?;
        if rests {
            if self.open_order_count(c.account) >= account.limits.max_open_orders as usize {
                return Err(RejectReason::MaxOpenOrders);
            }
            if self.resting_count() >= self.config.max_orders as usize {
                return Err(RejectReason::BookFull);
            }
        }
        if c.post_only && would_trade(inst, c.side, c.price) {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        Ok(limit)
    }
}
