//! Cancel, cancel/replace and mass cancel of resting orders.

use ringex_core::*;

use super::checks::*;
use super::matching::Aggressor;
use super::state::RestingOrder;
use super::Reference;

impl Reference {
    pub(super) fn cancel(&mut self, c: &Cancel) -> Result<Vec<Event>, RejectReason> {
        let (instrument, index) = self.open_order(c.account, c.client_order_id)?;
        let order = self.take_resting(instrument, index);
        Ok(vec![cancelled(&order, CancelReason::Requested)])
    }

    pub(super) fn replace(&mut self, c: &Replace) -> Result<Vec<Event>, RejectReason> {
        let (instrument, index) = self.open_order(c.account, c.orig_client_order_id)?;
        let inst = &self.instruments[&instrument];
        let account = &self.accounts[&c.account];
        let order = inst.orders[index].view.clone();
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        check_qty(inst, c.qty)?;
        check_price(inst, c.price)?;
        let renamed = c.client_order_id != c.orig_client_order_id;
        if renamed {
            if self.used_ids.contains(&(c.account, c.client_order_id)) {
                return Err(RejectReason::DuplicateClientOrderId);
            }
            if !self.may_use_another_id() {
                return Err(RejectReason::DailyOrderLimit);
            }
        }
        check_size_and_notional(account, c.price, c.qty)?;
        // Only a smaller (or equal) quantity at the same price keeps the queue position;
        // such a reduction enters no new price, so the band does not apply to it.
        let priority_kept = c.price == order.price && c.qty <= order.leaves;
        if !priority_kept {
            check_band(inst, c.price)?;
        }
        check_position(account, instrument, order.side, c.qty)?;
        if order.post_only && would_trade(inst, order.side, c.price) {
            return Err(RejectReason::PostOnlyWouldCross);
        }

        let mut events = vec![Event::Replaced {
            order_id: order.order_id,
            account: order.account,
            instrument,
            orig_client_order_id: order.client_order_id,
            client_order_id: c.client_order_id,
            price: c.price,
            qty: c.qty,
            priority_kept,
        }];
        self.used_ids.insert((c.account, c.client_order_id));
        let inst = self.instruments.get_mut(&instrument).unwrap();
        if priority_kept {
            let view = &mut inst.orders[index].view;
            view.leaves = c.qty;
            view.client_order_id = c.client_order_id;
            return Ok(events);
        }
        let mut resting = inst.orders.remove(index);
        let mut taker = Aggressor {
            order_id: order.order_id,
            account: order.account,
            client_order_id: c.client_order_id,
            instrument,
            side: order.side,
            leaves: c.qty,
        };
        self.trade(&mut taker, Some(c.price), &mut events);
        if taker.leaves > 0 {
            resting.view.client_order_id = c.client_order_id;
            resting.view.price = c.price;
            resting.view.filled += c.qty - taker.leaves;
            resting.view.leaves = taker.leaves;
            resting.queued_at = self.take_queue_stamp();
            self.instruments
                .get_mut(&instrument)
                .unwrap()
                .orders
                .push(resting);
        }
        Ok(events)
    }

    pub(super) fn mass_cancel(&mut self, c: &MassCancel) -> Result<Vec<Event>, RejectReason> {
        if !self.accounts.contains_key(&c.account) {
            return Err(RejectReason::UnknownAccount);
        }
        if let Some(id) = c.instrument {
            if !self.instruments.contains_key(&id) {
                return Err(RejectReason::UnknownInstrument);
            }
        }
        let removed = self.take_resting_where(|o| {
            o.account == c.account && c.instrument.is_none_or(|id| id == o.instrument)
        });
        let mut events: Vec<Event> = removed
            .iter()
            .map(|o| cancelled(o, CancelReason::MassCancel))
            .collect();
        events.push(Event::MassCancelled {
            account: c.account,
            instrument: c.instrument,
            count: removed.len().try_into().unwrap(),
        });
        Ok(events)
    }

    fn take_resting(&mut self, instrument: InstrumentId, index: usize) -> RestingOrder {
        self.instruments
            .get_mut(&instrument)
            .unwrap()
            .orders
            .remove(index)
    }

    /// Removes every resting order that matches, oldest first within each account, and
    /// accounts in id order.
    pub(super) fn take_resting_where(
        &mut self,
        matches: impl Fn(&OrderView) -> bool,
    ) -> Vec<RestingOrder> {
        let mut removed = Vec::new();
        for inst in self.instruments.values_mut() {
            let (taken, kept) = std::mem::take(&mut inst.orders)
                .into_iter()
                .partition(|o| matches(&o.view));
            inst.orders = kept;
            removed.extend::<Vec<RestingOrder>>(taken);
        }
        // An account's orders are listed oldest first: order ids grow with entry time,
        // and a replace keeps an order's id.
        removed.sort_by_key(|o| (o.view.account, o.view.order_id));
        removed
    }
}

pub fn cancelled(o: &RestingOrder, reason: CancelReason) -> Event {
    Event::Cancelled {
        order_id: o.view.order_id,
        account: o.view.account,
        instrument: o.view.instrument,
        client_order_id: o.view.client_order_id,
        qty: o.view.leaves,
        reason,
    }
}
