//! The same read-only views the core offers, built from the reference's structures.

use ringex_core::*;

use super::state::RestingOrder;
use super::Reference;

impl Reference {
    /// Levels best first, each with its orders in time priority.
    pub fn book_view(&self, instrument: InstrumentId) -> Option<BookView> {
        let inst = self.instruments.get(&instrument)?;
        let side = |side: Side| {
            let mut orders: Vec<&RestingOrder> =
                inst.orders.iter().filter(|o| o.view.side == side).collect();
            orders.sort_by_key(|o| o.queued_at);
            let mut prices: Vec<Price> = orders.iter().map(|o| o.view.price).collect();
            prices.sort_unstable();
            prices.dedup();
            if side == Side::Buy {
                prices.reverse();
            }
            prices
                .into_iter()
                .map(|price| {
                    let queue: Vec<OrderView> = orders
                        .iter()
                        .filter(|o| o.view.price == price)
                        .map(|o| o.view.clone())
                        .collect();
                    LevelView {
                        price,
                        total_qty: queue.iter().map(|o| o.leaves).sum(),
                        orders: queue,
                    }
                })
                .collect()
        };
        Some(BookView {
            instrument,
            bids: side(Side::Buy),
            asks: side(Side::Sell),
        })
    }

    pub fn top_of_book(&self, instrument: InstrumentId) -> Option<TopOfBook> {
        let book = self.book_view(instrument)?;
        let top = |levels: &[LevelView]| levels.first().map(|l| (l.price, l.total_qty));
        Some(TopOfBook {
            bid: top(&book.bids),
            ask: top(&book.asks),
        })
    }

    pub fn instrument_view(&self, instrument: InstrumentId) -> Option<InstrumentView> {
        let inst = self.instruments.get(&instrument)?;
        Some(InstrumentView {
            reference_price: inst.reference_price(),
            last_trade_price: inst.last_trade_price,
            band: inst.band(),
            halted: inst.halted,
        })
    }

    pub fn open_order_view(&self, account: AccountId, id: ClientOrderId) -> Option<OrderView> {
        self.all_resting()
            .find(|o| o.view.account == account && o.view.client_order_id == id)
            .map(|o| o.view.clone())
    }

    /// Oldest first.
    pub fn open_orders(&self, account: AccountId) -> Option<Vec<OrderView>> {
        self.accounts.get(&account)?;
        let mut orders: Vec<OrderView> = self
            .all_resting()
            .filter(|o| o.view.account == account)
            .map(|o| o.view.clone())
            .collect();
        orders.sort_by_key(|o| o.order_id);
        Some(orders)
    }

    pub fn position(&self, account: AccountId, instrument: InstrumentId) -> Option<i64> {
        Some(self.accounts.get(&account)?.position(instrument))
    }

    pub fn resting_orders(&self) -> u32 {
        self.resting_count().try_into().unwrap()
    }

    pub fn last_seq(&self) -> Seq {
        self.last_seq
    }
}
