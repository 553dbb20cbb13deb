//! What a command generator believes about the market: the instruments it created, the
//! orders resting as far as the events it was shown tell, and the last trade prices.
//! It only steers inputs towards interesting states; it is never an oracle.

use std::collections::BTreeMap;

use ringex_core::*;

use crate::rng::Rng;

/// A resting order, kept so that cancels, replaces and duplicates can aim at it.
#[derive(Clone, Copy)]
pub struct LiveOrder {
    pub account: AccountId,
    pub client_order_id: ClientOrderId,
    pub spec: InstrumentSpec,
    pub price: Price,
    pub leaves: Qty,
}

#[derive(Default)]
pub struct MarketModel {
    /// Instruments created with valid specs.
    specs: Vec<InstrumentSpec>,
    live: Vec<LiveOrder>,
    last_trade: BTreeMap<InstrumentId, Price>,
}

impl MarketModel {
    /// Remembers an instrument the generator creates, unless its id is already known.
    pub fn add_instrument(&mut self, spec: InstrumentSpec) {
        if self.spec(spec.instrument).is_none() {
            self.specs.push(spec);
        }
    }

    pub fn spec(&self, instrument: InstrumentId) -> Option<InstrumentSpec> {
        self.specs
            .iter()
            .find(|s| s.instrument == instrument)
            .copied()
    }

    pub fn any_spec(&self, rng: &mut Rng) -> Option<InstrumentSpec> {
        if self.specs.is_empty() {
            return None;
        }
        Some(self.specs[rng.below(self.specs.len() as u64) as usize])
    }

    pub fn any_live_order(&self, rng: &mut Rng) -> Option<LiveOrder> {
        if self.live.is_empty() {
            return None;
        }
        Some(self.live[rng.below(self.live.len() as u64) as usize])
    }

    /// Where prices of an instrument gather: its last trade, or its reference before.
    pub fn centre(&self, spec: &InstrumentSpec) -> Price {
        self.last_trade
            .get(&spec.instrument)
            .copied()
            .unwrap_or(spec.reference_price)
    }

    /// Follows the events of one command.
    pub fn observe(&mut self, events: &[Event]) {
        for event in events {
            match *event {
                Event::Accepted {
                    account,
                    instrument,
                    client_order_id,
                    order_type: OrderType::Limit,
                    time_in_force: TimeInForce::Gtc | TimeInForce::Day,
                    price,
                    qty,
                    ..
                } => {
                    if let Some(spec) = self.spec(instrument) {
                        self.live.push(LiveOrder {
                            account,
                            client_order_id,
                            spec,
                            price,
                            leaves: qty,
                        });
                    }
                }
                Event::Trade(t) => {
                    self.last_trade.insert(t.instrument, t.price);
                    self.set_leaves(t.maker_account, t.maker_client_order_id, t.maker_leaves);
                    self.set_leaves(t.taker_account, t.taker_client_order_id, t.taker_leaves);
                }
                Event::Replaced {
                    account,
                    orig_client_order_id,
                    client_order_id,
                    price,
                    qty,
                    ..
                } => {
                    if let Some(o) = self.live_mut(account, orig_client_order_id) {
                        o.client_order_id = client_order_id;
                        o.price = price;
                        o.leaves = qty;
                    }
                }
                Event::Cancelled {
                    account,
                    client_order_id,
                    ..
                }
                | Event::Expired {
                    account,
                    client_order_id,
                    ..
                } => self.set_leaves(account, client_order_id, 0),
                _ => {}
            }
        }
    }

    fn live_mut(&mut self, account: AccountId, id: ClientOrderId) -> Option<&mut LiveOrder> {
        self.live
            .iter_mut()
            .find(|o| o.account == account && o.client_order_id == id)
    }

    fn set_leaves(&mut self, account: AccountId, id: ClientOrderId, leaves: Qty) {
        if leaves == 0 {
            self.live
                .retain(|o| o.account != account || o.client_order_id != id);
        } else if let Some(o) = self.live_mut(account, id) {
            o.leaves = leaves;
        }
    }
}
