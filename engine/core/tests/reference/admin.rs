//! Commands that run the venue: end of day, new instruments and accounts, halts.

use ringex_core::*;

use super::state::{Account, Instrument};
use super::Reference;

impl Reference {
    /// Expires every DAY order (accounts in id order, each oldest first), then starts a
    /// new day: only the ids of orders still resting stay used.
    pub(super) fn end_of_day(&mut self) -> Vec<Event> {
        let expired = self.take_resting_where(|o| o.time_in_force == TimeInForce::Day);
        let mut events: Vec<Event> = expired
            .iter()
            .map(|o| Event::Expired {
                order_id: o.view.order_id,
                account: o.view.account,
                instrument: o.view.instrument,
                client_order_id: o.view.client_order_id,
                qty: o.view.leaves,
            })
            .collect();
        self.used_ids = self
            .all_resting()
            .map(|o| (o.view.account, o.view.client_order_id))
            .collect();
        events.push(Event::DayEnded {
            expired: expired.len().try_into().unwrap(),
        });
        events
    }

    pub(super) fn add_instrument(
        &mut self,
        spec: &InstrumentSpec,
    ) -> Result<Vec<Event>, RejectReason> {
        if spec.instrument >= self.config.max_instruments {
            return Err(RejectReason::InvalidInstrument);
        }
        if self.instruments.contains_key(&spec.instrument) {
            return Err(RejectReason::DuplicateInstrument);
        }
        let valid = (1..=PRICE_MAX).contains(&spec.tick_size)
            && (1..=QTY_MAX).contains(&spec.lot_size)
            && (1..=PRICE_MAX).contains(&spec.reference_price)
            && spec.reference_price % spec.tick_size == 0
            && spec.price_band_bps <= BPS_ONE;
        if !valid {
            return Err(RejectReason::InvalidInstrument);
        }
        self.instruments
            .insert(spec.instrument, Instrument::new(*spec));
        Ok(vec![Event::InstrumentAdded { spec: *spec }])
    }

    pub(super) fn add_account(&mut self, spec: &AccountSpec) -> Result<Vec<Event>, RejectReason> {
        if spec.account >= self.config.max_accounts {
            return Err(RejectReason::InvalidAccount);
        }
        if self.accounts.contains_key(&spec.account) {
            return Err(RejectReason::DuplicateAccount);
        }
        let account = Account {
            limits: spec.limits,
            positions: Default::default(),
        };
        self.accounts.insert(spec.account, account);
        Ok(vec![Event::AccountAdded {
            account: spec.account,
        }])
    }

    pub(super) fn set_halted(
        &mut self,
        instrument: InstrumentId,
        halted: bool,
    ) -> Result<Vec<Event>, RejectReason> {
        let inst = self
            .instruments
            .get_mut(&instrument)
            .ok_or(RejectReason::UnknownInstrument)?;
        inst.halted = halted;
        Ok(vec![Event::HaltChanged { instrument, halted }])
    }
}
