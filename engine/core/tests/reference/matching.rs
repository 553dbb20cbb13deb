//! Matching: an aggressor takes the first order in line on the other side while its
//! price is acceptable, one trade per fill, at the resting order's price.

use ringex_core::*;

use super::checks::price_acceptable;
use super::Reference;

/// An order while it trades on entry, or after a replace that lost its place.
pub struct Aggressor {
    pub order_id: OrderId,
    pub account: AccountId,
    pub client_order_id: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub leaves: Qty,
}

impl Aggressor {
    pub fn cancelled(&self, reason: CancelReason) -> Event {
        Event::Cancelled {
            order_id: self.order_id,
            account: self.account,
            instrument: self.instrument,
            client_order_id: self.client_order_id,
            qty: self.leaves,
            reason,
        }
    }
}

impl Reference {
    /// Quantity on the other side that an aggressor with `limit` could trade against.
    pub(super) fn available(
        &self,
        instrument: InstrumentId,
        side: Side,
        limit: Option<Price>,
    ) -> u128 {
        self.instruments[&instrument]
            .orders
            .iter()
            .filter(|o| o.view.side == side.opposite())
            .filter(|o| price_acceptable(side, limit, o.view.price))
            .map(|o| u128::from(o.view.leaves))
            .sum()
    }

    pub(super) fn trade(
        &mut self,
        taker: &mut Aggressor,
        limit: Option<Price>,
        events: &mut Vec<Event>,
    ) {
        while taker.leaves > 0 {
            let inst = self.instruments.get_mut(&taker.instrument).unwrap();
            let Some(index) = inst.first_in_line(taker.side.opposite()) else {
                break;
            };
            let maker = &mut inst.orders[index].view;
            if !price_acceptable(taker.side, limit, maker.price) {
                break;
            }
            let qty = maker.leaves.min(taker.leaves);
            maker.leaves -= qty;
            maker.filled += qty;
            taker.leaves -= qty;
            let match_id = self.next_match_id;
            self.next_match_id += 1;
            events.push(Event::Trade(Trade {
                instrument: taker.instrument,
                match_id,
                price: maker.price,
                qty,
                aggressor_side: taker.side,
                maker_order_id: maker.order_id,
                maker_account: maker.account,
                maker_client_order_id: maker.client_order_id,
                maker_leaves: maker.leaves,
                taker_order_id: taker.order_id,
                taker_account: taker.account,
                taker_client_order_id: taker.client_order_id,
                taker_leaves: taker.leaves,
            }));
            inst.last_trade_price = Some(maker.price);
            let maker_account = maker.account;
            if maker.leaves == 0 {
                inst.orders.remove(index);
            }
            let (buyer, seller) = match taker.side {
                Side::Buy => (taker.account, maker_account),
                Side::Sell => (maker_account, taker.account),
            };
            let signed = i64::try_from(qty).unwrap();
            self.add_position(buyer, taker.instrument, signed);
            self.add_position(seller, taker.instrument, -signed);
        }
    }

    fn add_position(&mut self, account: AccountId, instrument: InstrumentId, delta: i64) {
        let account = self.accounts.get_mut(&account).unwrap();
        *account.positions.entry(instrument).or_insert(0) += delta;
    }
}
